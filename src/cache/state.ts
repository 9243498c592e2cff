// Names of what `main` hands to `post` through GITHUB_STATE (core.saveState / core.getState).

export const STATE = {
  started: 'nca-started',
  pid: 'nca-pid',
  port: 'nca-port',
  stage: 'nca-stage',
  write: 'nca-write',
  access: 'nca-access',
  reason: 'nca-reason',
  maxEntries: 'nca-max-entries',
  maxEntrySize: 'nca-max-entry-size'
} as const

/** In the staging folder: one uploaded hash a line, appended by the server. */
export const UPLOADS_FILE = 'uploads.txt'

/** In the staging folder: what the server did, written when post stops it (SIGTERM). */
export const STATS_FILE = 'stats.json'
