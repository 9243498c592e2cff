// Names of what `main` hands to `post` through GITHUB_STATE (core.saveState / core.getState).

export const STATE = {
  started: 'nca-started',
  pid: 'nca-pid',
  /** The server's port: post asks its stats route before stopping it. */
  port: 'nca-port',
  stage: 'nca-stage',
  write: 'nca-write',
  access: 'nca-access',
  reason: 'nca-reason',
  maxEntries: 'nca-max-entries',
  maxEntrySize: 'nca-max-entry-size'
} as const

/**
 * The defaults of max-entries and max-entry-size (as in cache/action.yml): read by the inputs, and
 * the fallback of the server and post when what main handed over is missing. Here, not in
 * decision.ts, so the server's and post's bundles need not carry the inputs and the policy.
 */
export const DEFAULT_MAX_ENTRIES = 500
export const DEFAULT_MAX_ENTRY_SIZE = 512 * 1024 * 1024

/** In the staging folder: one uploaded hash a line, appended by the server. */
export const UPLOADS_FILE = 'uploads.txt'

/** In the staging folder: what the server did, written when post stops it (SIGTERM). */
export const STATS_FILE = 'stats.json'

/**
 * In the staging folder: one JSON line ({ key, why }) per Actions cache entry the server would not
 * restore because its archive is not what the kit saves; `post` warns about each.
 */
export const REJECTED_FILE = 'rejected.txt'
