import { readFileSync, writeFileSync } from 'node:fs'
import { isEntryHash } from './adapter/names.js'

// What `main` hands to `post` through GITHUB_STATE, in one place: the names, the types, and how
// each value is written and read back (with its default). Both sides go through saveHandoff /
// readHandoff; nothing else calls core.saveState or core.getState. The limits' defaults (as in
// cache/action.yml) live here too, so the server's and post's bundles carry neither the inputs
// nor the policy.

/** The state names in GITHUB_STATE (post sees each as STATE_<name>). */
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
  maxEntrySize: 'nca-max-entry-size',
  saveConcurrency: 'nca-save-concurrency',
  saveTimeLimit: 'nca-save-time-limit',
  /** The Actions cache scope this run writes to (its ref), '' when it writes nowhere. */
  scope: 'nca-scope',
  /** Is that scope the pull request's own (refs/pull/N/merge)? */
  scopeKind: 'nca-scope-kind'
} as const

/** Where a run's saves land: its pull request's own scope, its branch's (the shared one on main), or nowhere. */
export type ScopeKind = 'pull-request' | 'branch' | 'none'

/** The server `main` started: `post` stops it and saves what it kept. */
export interface StartedServer {
  pid: number
  port: number
  /** The staging folder: entries, uploads.txt, stats.json, rejected.txt, server.log. */
  stage: string
  /** May post save what the server kept? */
  write: boolean
}

export interface PostHandoff {
  /** The `access` output main set (`none` when nothing was handed over). */
  access: string
  reason: string
  /** `null`: no server was started (not needed, or it failed to start). */
  server: StartedServer | null
  maxEntries: number
  maxEntrySize: number
  /** Saves in flight at once in post. */
  saveConcurrency: number
  /** Seconds post may take at most. */
  saveTimeLimit: number
  /** The Actions cache scope saves land in (the run's ref); '' when the run saves nothing. */
  scope: string
  scopeKind: ScopeKind
}

/** How state is written and read: @actions/core's saveState and getState (a parameter, so this module loads no @actions/*). */
export interface StateStore {
  saveState(name: string, value: string): void
  getState(name: string): string
}

export function saveHandoff(state: StateStore, h: PostHandoff): void {
  state.saveState(STATE.maxEntries, String(h.maxEntries))
  state.saveState(STATE.maxEntrySize, String(h.maxEntrySize))
  state.saveState(STATE.saveConcurrency, String(h.saveConcurrency))
  state.saveState(STATE.saveTimeLimit, String(h.saveTimeLimit))
  state.saveState(STATE.scope, h.scope)
  state.saveState(STATE.scopeKind, h.scopeKind)
  if (h.server) {
    state.saveState(STATE.pid, String(h.server.pid))
    state.saveState(STATE.port, String(h.server.port))
    state.saveState(STATE.stage, h.server.stage)
  }
  state.saveState(STATE.started, String(h.server !== null))
  state.saveState(STATE.access, h.access)
  state.saveState(STATE.reason, h.reason)
  state.saveState(STATE.write, String(h.server?.write ?? false))
}

/** What main handed over; missing or unreadable values take their defaults. */
export function readHandoff(state: StateStore): PostHandoff {
  const started = state.getState(STATE.started) === 'true'
  const concurrency = Math.floor(Number(state.getState(STATE.saveConcurrency)))
  const kind = state.getState(STATE.scopeKind)
  return {
    access: state.getState(STATE.access) || 'none',
    reason: state.getState(STATE.reason),
    server: started
      ? {
          pid: Number(state.getState(STATE.pid)),
          port: Number(state.getState(STATE.port)),
          stage: state.getState(STATE.stage),
          write: state.getState(STATE.write) === 'true'
        }
      : null,
    maxEntries: Number(state.getState(STATE.maxEntries)) || DEFAULT_MAX_ENTRIES,
    maxEntrySize: Number(state.getState(STATE.maxEntrySize)) || DEFAULT_MAX_ENTRY_SIZE,
    saveConcurrency: concurrency >= 1 ? Math.min(concurrency, MAX_SAVE_CONCURRENCY) : DEFAULT_SAVE_CONCURRENCY,
    saveTimeLimit: Number(state.getState(STATE.saveTimeLimit)) || DEFAULT_SAVE_TIME_LIMIT,
    scope: state.getState(STATE.scope),
    scopeKind: kind === 'pull-request' || kind === 'branch' ? kind : 'none'
  }
}

/**
 * The defaults of max-entries and max-entry-size (as in cache/action.yml): read by the inputs, and
 * the fallback of the server and post when what main handed over is missing.
 */
export const DEFAULT_MAX_ENTRIES = 500
export const DEFAULT_MAX_ENTRY_SIZE = 512 * 1024 * 1024

/** Saves in flight at once: each is a few round trips, so 8 hide most of the latency. */
export const DEFAULT_SAVE_CONCURRENCY = 8
export const MAX_SAVE_CONCURRENCY = 32

/**
 * The bound on the post step's whole run, in seconds: entries not saved by then are reported (a
 * warning with the count) and left unsaved; the job goes on.
 */
export const DEFAULT_SAVE_TIME_LIMIT = 300

// What the server reports to post: on its stats route, and in stats.json when it is stopped.

export interface ServerStats {
  /** GETs answered 200. */
  hits: number
  /** GETs answered 404. */
  misses: number
  /** Of the misses, how many were failed restores (answered as misses). */
  restoreErrors: number
  /** Of the misses, how many outlasted restoreTimeoutMs. */
  restoreTimeouts: number
  /** PUTs kept for saving (200). */
  stored: number
  /** PUTs answered 403 because this run may not write. */
  refused: number
  /** PUTs answered 403 for being over max-entry-size. */
  tooLarge: number
  /** PUTs answered 403 for being over max-entries. */
  overCap: number
  /** PUTs answered 409: the entry was already there. */
  conflicts: number
  /** PUTs answered 403 because the body could not be written. */
  storeErrors: number
  /** Requests answered 401. */
  unauthorized: number
  bytesServed: number
  bytesStored: number
}

export function emptyStats(): ServerStats {
  return {
    hits: 0,
    misses: 0,
    restoreErrors: 0,
    restoreTimeouts: 0,
    stored: 0,
    refused: 0,
    tooLarge: 0,
    overCap: 0,
    conflicts: 0,
    storeErrors: 0,
    unauthorized: 0,
    bytesServed: 0,
    bytesStored: 0
  }
}

/** What the server reports: on its stats path, and in stats.json when it is stopped. */
export interface ServerReport {
  stats: ServerStats
  uploads: string[]
}

/** The one path the server answers besides Nx's own (same bearer token): the statistics so far. */
export const STATS_PATH = '/v1/nx-cloud-access/stats'

/** The uploads file as `post` reads it when the server could not be asked (it died): the entry names in it, each once. */
export function readUploadsFile(path: string): string[] {
  try {
    return [...new Set(readFileSync(path, 'utf8').split('\n').filter(isEntryHash))]
  } catch {
    return []
  }
}

export function resetUploadsFile(path: string): void {
  writeFileSync(path, '')
}

/** In the staging folder: one uploaded hash a line, appended by the server. */
export const UPLOADS_FILE = 'uploads.txt'

/**
 * In the staging folder: the pack index of the run's own scope as the server restored it (JSON),
 * which post carries into the pack it saves. Anyone in the job can write it; it only says where to
 * look, and every pack is checked when it is read.
 */
export const PACKS_FILE = 'packs.json'

/** In the staging folder: what the server did, written when post stops it (SIGTERM). */
export const STATS_FILE = 'stats.json'

/**
 * In the staging folder: one JSON line ({ key, why }) per Actions cache entry the server would not
 * restore because its archive is not what the kit saves; `post` warns about each.
 */
export const REJECTED_FILE = 'rejected.txt'
