// What main hands post about saving, beside state.ts's hand-off and written and read the same way
// (through a StateStore), with the defaults (as in cache/action.yml). Here, in post's own folder, so
// post's bundle carries neither the inputs nor the policy.

import type { StateStore } from '../state.js'

const SAVE_STATE = {
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

interface SaveSettings {
  concurrency: number
  /** Seconds. */
  timeLimit: number
}

export function saveSaveSettings(state: StateStore, s: { saveConcurrency: number; saveTimeLimit: number }): void {
  state.saveState(SAVE_STATE.concurrency, String(s.saveConcurrency))
  state.saveState(SAVE_STATE.timeLimit, String(s.saveTimeLimit))
}

/** What main handed over; missing or unreadable values take their defaults. */
export function readSaveSettings(state: StateStore): SaveSettings {
  const concurrency = Math.floor(Number(state.getState(SAVE_STATE.concurrency)))
  return {
    concurrency: concurrency >= 1 ? Math.min(concurrency, MAX_SAVE_CONCURRENCY) : DEFAULT_SAVE_CONCURRENCY,
    timeLimit: Number(state.getState(SAVE_STATE.timeLimit)) || DEFAULT_SAVE_TIME_LIMIT
  }
}
