// How `main` starts the detached server without leaving a secret where a later step can read it.
//
// Every later `run:` step of the job runs as the same user as the server, and can read the
// environment and command line it was started with (/proc/<pid>/environ, /proc/<pid>/cmdline,
// `ps eww`). So the server is started with an allow-listed environment (what Node and
// @actions/cache need to run, nothing that is a credential), and everything else (its bearer
// token, the Actions cache variables, its settings) is handed over the IPC channel after the
// spawn. The server sets what @actions/cache reads into its own process.env, which changes
// neither /proc/<pid>/environ (the block the process was started with) nor its command line.

import type { Env } from '../core/inputs.js'

/**
 * The Actions cache variables @actions/cache reads: handed over after the spawn, never in the
 * server's environment. ACTIONS_RUNTIME_TOKEN opens more than the cache, and run: steps are never
 * given it nor ACTIONS_RESULTS_URL; the other two are settings, sent along so one path carries
 * everything the library is configured with.
 */
export const HANDED_OVER = [
  'ACTIONS_RUNTIME_TOKEN',
  'ACTIONS_RESULTS_URL',
  'ACTIONS_CACHE_URL',
  'ACTIONS_CACHE_SERVICE_V2',
  'ACTIONS_CACHE_MODE'
] as const

/** Of HANDED_OVER, the credentials (the others are settings such as `true`, never blanked out in a log). */
export const CREDENTIALS = ['ACTIONS_RUNTIME_TOKEN', 'ACTIONS_RESULTS_URL', 'ACTIONS_CACHE_URL'] as const

/** What the server is handed once it runs. */
export interface ServerHandoff {
  stage: string
  /** The bearer token Nx sends (a secret). */
  token: string
  write: boolean
  maxEntries: number
  maxEntrySize: number
  /** The scope this run writes to ('' none). */
  scope: string
  /** The scopes (refs) whose newest pack the server restores at start, in order: its own, its base's, the default branch's. */
  readScopes: string[]
  /** The HANDED_OVER variables that are set, to go into the server's process.env. */
  actions: Record<string, string>
}

/** Names, upper-cased (Windows names are case-insensitive), passed to the server as they are. */
const ALLOWED = new Set([
  // Every system.
  'PATH',
  'HOME',
  'TMPDIR',
  'TMP',
  'TEMP',
  'LANG',
  'LANGUAGE',
  'TZ',
  'USER',
  'LOGNAME',
  // Windows: what Node, its TLS and child processes need.
  'SYSTEMROOT',
  'WINDIR',
  'SYSTEMDRIVE',
  'COMSPEC',
  'PATHEXT',
  'USERPROFILE',
  'HOMEDRIVE',
  'HOMEPATH',
  'APPDATA',
  'LOCALAPPDATA',
  'PROGRAMDATA',
  'PROGRAMFILES',
  'PROGRAMFILES(X86)',
  'PROGRAMW6432',
  'NUMBER_OF_PROCESSORS',
  'PROCESSOR_ARCHITECTURE',
  'OS',
  // Networks behind a proxy or a private CA (the runner gives these to run: steps too).
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'ALL_PROXY',
  'NODE_EXTRA_CA_CERTS',
  'NODE_USE_ENV_PROXY',
  'NODE_OPTIONS',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  // @actions/cache's own settings, and where it decides GitHub Enterprise Server from github.com.
  'SEGMENT_DOWNLOAD_TIMEOUT_MINS',
  'CACHE_UPLOAD_CONCURRENCY',
  'CACHE_UPLOAD_CHUNK_SIZE',
  'GITHUB_SERVER_URL',
  'GITHUB_ACTIONS',
  'CI'
])

/**
 * RUNNER_* describe the runner (RUNNER_TEMP, RUNNER_OS, RUNNER_DEBUG, and RUNNER_TRACKING_ID, by
 * which the runner ends the server with the job); none is a credential. Any that is named like one
 * (a workflow's own RUNNER_DEPLOY_TOKEN, say) stays out all the same.
 */
const CREDENTIAL_NAME = /TOKEN|SECRET|PASSW|CREDENTIAL|PRIVATE|KEY|AUTH|COOKIE|SESSION|SIG/

/** The server's environment: the allow-list above, nothing else (no INPUT_*, NX_*, ACTIONS_*, GITHUB_TOKEN). */
export function serverEnv(env: Env): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue
    const upper = name.toUpperCase()
    if (ALLOWED.has(upper) || /^LC_[A-Z]+$/.test(upper) || (upper.startsWith('RUNNER_') && !CREDENTIAL_NAME.test(upper))) {
      out[name] = value
    }
  }
  return out
}

/** The HANDED_OVER variables of `env` that are set. */
export function actionsVariables(env: Env): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of HANDED_OVER) {
    const value = env[name]
    if (value !== undefined && value !== '') out[name] = value
  }
  return out
}

/** Is `m` a hand-off as `main` sends it? (The server trusts nothing else on the channel.) */
export function isHandoff(m: unknown): m is ServerHandoff {
  if (typeof m !== 'object' || m === null) return false
  const h = m as Record<string, unknown>
  return (
    typeof h.stage === 'string' &&
    typeof h.token === 'string' &&
    typeof h.write === 'boolean' &&
    typeof h.maxEntries === 'number' &&
    typeof h.maxEntrySize === 'number' &&
    typeof h.scope === 'string' &&
    Array.isArray(h.readScopes) &&
    h.readScopes.every(r => typeof r === 'string') &&
    typeof h.actions === 'object' &&
    h.actions !== null &&
    Object.entries(h.actions).every(([k, v]) => (HANDED_OVER as readonly string[]).includes(k) && typeof v === 'string')
  )
}
