// Raw inputs → a typed, validated Config. Reads `INPUT_<NAME>` exactly as @actions/core's
// getInput does (name upper-cased, spaces to underscores, value trimmed), from any env-like
// record, so the action, the cache action and the command line share one parser.
// Every bad value is a PolicyError naming the input and what is accepted: the run fails closed.

import { type Config, type PolicyConfig, type Setup, type WorkspaceIdAccess, PolicyError, SETUPS, WORKSPACE_ID_ACCESS } from './types.js'

export type Env = Record<string, string | undefined>

const SETUP_ALIASES: Record<string, Setup> = { '1': 'main-only', '2': 'ci-read-write', '3': 'shared-read-write' }

/** Events that can carry a branch, and so can be allowed to write under `main-only`. */
const WRITE_EVENT_NAMES = ['push', 'workflow_dispatch', 'schedule', 'merge_group', 'repository_dispatch'] as const
const DEFAULT_WRITE_EVENTS = ['push', 'workflow_dispatch', 'schedule']

/**
 * Every input the token step's action.yml declares, in its order: what the command line's
 * `explain --input` accepts. A test keeps it equal to action.yml's `inputs:` keys.
 */
export const ACTION_INPUTS = [
  'setup',
  'read-write-token',
  'read-only-token',
  'encryption-key',
  'require-encryption',
  'write-branches',
  'write-events',
  'skip-cache',
  'rebuild-command',
  'self-hosted-cache-url',
  'working-directory',
  'workspace-id-access',
  'github-token'
] as const

/** The inputs that hold secrets: masked before anything is printed, even values the parser rejects. */
export const SECRET_INPUTS = ['read-write-token', 'read-only-token', 'encryption-key', 'github-token'] as const

/** The variable the runner passes an input in: `read-write-token` → `INPUT_READ-WRITE-TOKEN`. */
export function inputVariable(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`
}

export function getInput(env: Env, name: string): string {
  return (env[inputVariable(name)] ?? '').trim()
}

/** Splits a list input on newlines and commas, dropping blanks. */
export function parseList(value: string): string[] {
  return value
    .split(/[\n,]/)
    .map(s => s.trim())
    .filter(s => s !== '')
}

export function parseSetup(value: string, inputName = 'setup'): Setup {
  const v = value.trim().toLowerCase()
  if (v === '') return 'main-only'
  if (Object.hasOwn(SETUP_ALIASES, v)) return SETUP_ALIASES[v]
  if ((SETUPS as readonly string[]).includes(v)) return v as Setup
  throw new PolicyError(`Input '${inputName}' has an unknown value '${oneLine(value)}'. Accepted: ${SETUPS.join(', ')} (or 1, 2, 3).`)
}

export function parseBoolean(env: Env, name: string, fallback: boolean): boolean {
  const v = getInput(env, name)
  if (v === '') return fallback
  if (['true', 'True', 'TRUE'].includes(v)) return true
  if (['false', 'False', 'FALSE'].includes(v)) return false
  throw new PolicyError(`Input '${name}' has an unknown value '${oneLine(v)}'. Accepted: true or false.`)
}

/** A secret may not carry a line break or a control character: it would break GITHUB_ENV and masking. */
function secretInput(env: Env, name: string): string {
  const v = getInput(env, name)
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(v)) {
    throw new PolicyError(
      `Input '${name}' contains a line break or control character. Accepted: a single-line value with no control characters (check how the secret was pasted).`
    )
  }
  return v
}

function parseWriteEvents(value: string, inputName = 'write-events'): string[] {
  if (value.trim() === '') return [...DEFAULT_WRITE_EVENTS]
  const events = parseList(value)
  for (const e of events) {
    if (!(WRITE_EVENT_NAMES as readonly string[]).includes(e)) {
      const why = e.startsWith('pull_request')
        ? ' (a pull request has no branch under main-only and never writes; use setup ci-read-write to let trusted PRs write)'
        : ''
      throw new PolicyError(
        `Input '${inputName}' names an unknown or non-writing event '${oneLine(e)}'${why}. Accepted: ${WRITE_EVENT_NAMES.join(', ')}.`
      )
    }
  }
  return events
}

/** Globs of branches that may write; a negated glob would let every other branch write. */
function parseWriteBranches(value: string, inputName = 'write-branches'): string[] | null {
  if (value === '') return null
  const globs = parseList(value)
  const negated = globs.find(g => g.startsWith('!'))
  if (negated !== undefined) {
    throw new PolicyError(
      `Input '${inputName}' has a negated glob '${oneLine(negated)}', which would let every other branch write. Accepted: the names or globs of the branches that may write (main, release/*).`
    )
  }
  return globs
}

function parseUrl(value: string, name: string): string {
  if (value === '') return ''
  // The URL parser drops tabs and line breaks silently; the value would be exported as written.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw new PolicyError(
      `Input '${name}' contains a line break or control character. Accepted: an http:// or https:// URL on one line, with no control characters.`
    )
  }
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new PolicyError(`Input '${name}' is not a URL. Accepted: an http:// or https:// URL of a self-hosted Nx remote cache.`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PolicyError(`Input '${name}' has the scheme '${url.protocol}'. Accepted: an http:// or https:// URL.`)
  }
  // Later steps' logs show exported variables unmasked: credentials in the URL would be printed.
  if (url.username !== '' || url.password !== '') {
    throw new PolicyError(
      `Input '${name}' carries credentials (user:password@). Accepted: a URL without credentials; the cache's token goes in read-write-token and read-only-token.`
    )
  }
  return value
}

/**
 * `workspace-id-access`: what the workspace ID access level is in Nx Cloud. `read-write` is refused:
 * every run with no token would write through nx.json's nxCloudId, forks included.
 */
function parseWorkspaceIdAccess(value: string, inputName = 'workspace-id-access'): WorkspaceIdAccess {
  const v = value.trim().toLowerCase()
  if (v === '') return 'none'
  if ((WORKSPACE_ID_ACCESS as readonly string[]).includes(v)) return v as WorkspaceIdAccess
  if (v === 'read-write') {
    throw new PolicyError(
      `Input '${inputName}' is read-write: anyone who clones the repository gets nxCloudId from nx.json and could write to the cache with no token, forks and Dependabot included. In Nx Cloud, set the workspace ID access level (Settings, Access Control) to read-only or none, then set this input to match. Accepted: ${WORKSPACE_ID_ACCESS.join(', ')}.`
    )
  }
  throw new PolicyError(`Input '${inputName}' has an unknown value '${oneLine(value)}'. Accepted: ${WORKSPACE_ID_ACCESS.join(', ')}.`)
}

export function readPolicyInputs(env: Env): PolicyConfig {
  return {
    setup: parseSetup(getInput(env, 'setup')),
    writeBranches: parseWriteBranches(getInput(env, 'write-branches')),
    writeEvents: parseWriteEvents(getInput(env, 'write-events')),
    skipCache: parseBoolean(env, 'skip-cache', false),
    githubToken: secretInput(env, 'github-token')
  }
}

/** The token step's inputs: the policy's, extended by the tokens, the key and where Nx runs. */
export function readInputs(env: Env): Config {
  const config: Config = {
    ...readPolicyInputs(env),
    readWriteToken: secretInput(env, 'read-write-token'),
    readOnlyToken: secretInput(env, 'read-only-token'),
    encryptionKey: secretInput(env, 'encryption-key'),
    requireEncryption: parseBoolean(env, 'require-encryption', true),
    rebuildCommand: getInput(env, 'rebuild-command'),
    selfHostedCacheUrl: parseUrl(getInput(env, 'self-hosted-cache-url'), 'self-hosted-cache-url'),
    workingDirectory: getInput(env, 'working-directory') || '.',
    workspaceIdAccess: parseWorkspaceIdAccess(getInput(env, 'workspace-id-access'))
  }
  if (config.setup === 'off' && config.selfHostedCacheUrl !== '') {
    throw new PolicyError(
      `Input 'self-hosted-cache-url' contradicts setup 'off' (off turns remote caching off). Accepted: remove one of the two.`
    )
  }
  return config
}

/** Values are echoed in errors only when short and on one line; never call this with a secret. */
function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  const flat = s.replace(/[\u0000-\u001f\u007f]/g, ' ')
  return flat.length > 60 ? `${flat.slice(0, 57)}...` : flat
}
