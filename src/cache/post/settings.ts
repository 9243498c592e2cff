// What main hands post about saving, beside state.ts's hand-off (GITHUB_STATE names), and the
// defaults (as in cache/action.yml). Here, in post's own folder, so post's bundle carries neither
// the inputs nor the policy.

export const SAVE_STATE = {
  concurrency: 'nca-save-concurrency',
  timeLimit: 'nca-save-time-limit'
} as const

/** Saves in flight at once: each is a few round trips, so 8 hide most of the latency. */
export const DEFAULT_SAVE_CONCURRENCY = 8
export const MAX_SAVE_CONCURRENCY = 32

/**
 * The bound on the post step's whole run, in seconds: entries not saved by then are reported (a
 * warning with the count) and left unsaved; the job goes on.
 */
export const DEFAULT_SAVE_TIME_LIMIT = 300
