// The cache action's inputs and its decision, pure: may this run read, may it write, and why.
// Whether it may write is the token step's own rule — writeGrant() over the same inputs
// (`setup`, `write-branches`, `write-events`) and the same RunFacts — never a second copy of it.
// The rest is about the Actions cache itself: its scopes (a pull request writes only its own),
// its service variables and ACTIONS_CACHE_MODE.

import { type Env, getInput, parseBoolean, readPolicyInputs } from '../core/inputs.js'
import { TOKEN_VARIABLES, writeGrant } from '../core/policy.js'
import { PR_EVENTS } from '../core/run-facts.js'
import { PolicyError, type PolicyConfig, type RunFacts } from '../core/types.js'
import {
  DEFAULT_MAX_ENTRIES,
  DEFAULT_MAX_ENTRY_SIZE,
  DEFAULT_SAVE_CONCURRENCY,
  DEFAULT_SAVE_TIME_LIMIT,
  MAX_SAVE_CONCURRENCY,
  type ScopeKind
} from './state.js'

/** The job's Nx Cloud tokens, which NX_NO_CLOUD=true leaves unused (the self-hosted one is ours to set). */
const NX_CLOUD_TOKEN_VARIABLES = TOKEN_VARIABLES.filter(v => v.startsWith('NX_CLOUD_'))

export interface CacheConfig {
  policy: PolicyConfig
  maxEntries: number
  maxEntrySize: number
  /** Saves in flight at once in post. */
  saveConcurrency: number
  /** Seconds post may take at most. */
  saveTimeLimit: number
  /** `pull-request-writes`: may a pull request's run save into its own scope? */
  pullRequestWrites: boolean
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }

export function parseSize(value: string, name: string): number {
  const m = /^(\d+)\s*([kmg]?)i?b?$/i.exec(value.trim())
  if (!m || Number(m[1]) <= 0) {
    throw new PolicyError(
      `Input '${name}' has an unknown value '${value.slice(0, 40)}'. Accepted: a positive number of bytes, optionally with K, M or G (1024-based), e.g. 512M.`
    )
  }
  return Number(m[1]) * SIZE_UNITS[m[2].toLowerCase()]
}

export function parseCount(value: string, name: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) <= 0) {
    throw new PolicyError(`Input '${name}' has an unknown value '${value.slice(0, 40)}'. Accepted: a positive whole number.`)
  }
  return Number(value)
}

export function readCacheInputs(env: Env): CacheConfig {
  const maxEntries = getInput(env, 'max-entries')
  const maxEntrySize = getInput(env, 'max-entry-size')
  const saveConcurrency = getInput(env, 'save-concurrency')
  const saveTimeLimit = getInput(env, 'save-time-limit')
  const concurrency = saveConcurrency === '' ? DEFAULT_SAVE_CONCURRENCY : parseCount(saveConcurrency, 'save-concurrency')
  if (concurrency > MAX_SAVE_CONCURRENCY) {
    throw new PolicyError(`Input 'save-concurrency' is ${concurrency}. Accepted: a whole number from 1 to ${MAX_SAVE_CONCURRENCY}.`)
  }
  return {
    // The cache action has no Nx Cloud tokens: only the inputs that say who may write, and its own.
    policy: readPolicyInputs(env),
    maxEntries: maxEntries === '' ? DEFAULT_MAX_ENTRIES : parseCount(maxEntries, 'max-entries'),
    maxEntrySize: maxEntrySize === '' ? DEFAULT_MAX_ENTRY_SIZE : parseSize(maxEntrySize, 'max-entry-size'),
    saveConcurrency: concurrency,
    saveTimeLimit: saveTimeLimit === '' ? DEFAULT_SAVE_TIME_LIMIT : parseCount(saveTimeLimit, 'save-time-limit'),
    pullRequestWrites: parseBoolean(env, 'pull-request-writes', true)
  }
}

type CacheAccess = 'read-write' | 'read-only' | 'none'

export interface CacheDecision {
  access: CacheAccess
  /** Start the server? `false` for skip-cache, setup off, no usable Actions cache. */
  server: boolean
  /** May uploads be kept and saved? */
  write: boolean
  /**
   * The Actions cache scope the saves land in: the run's ref, which GitHub's cache service (not this
   * kit) enforces from the run's runtime token. '' when the run saves nothing.
   */
  scope: string
  scopeKind: ScopeKind
  /** One sentence: which rule decided. */
  reason: string
  /** Variables for every later step; the server's URL and token are added once it listens. */
  exports: Record<string, string>
  notices: string[]
  warnings: string[]
  /** Error annotations that do not fail the step: the build never fails because of the cache. */
  errors: string[]
}

/** What @actions/cache 6 needs to reach the cache service v2 (without the last, it quietly uses v1). */
const SERVICE_VARIABLES = ['ACTIONS_RUNTIME_TOKEN', 'ACTIONS_RESULTS_URL', 'ACTIONS_CACHE_SERVICE_V2'] as const

interface Notes {
  notices: string[]
  warnings: string[]
  errors: string[]
}

export function decideCache(cfg: CacheConfig, facts: RunFacts, env: Env): CacheDecision {
  const notes: Notes = { notices: [], warnings: [], errors: [] }
  const mode = (env.ACTIONS_CACHE_MODE ?? '').trim().toLowerCase()
  const noServer = whyNoServer(cfg, env, mode, notes)
  if (noServer !== null)
    return { access: 'none', server: false, write: false, scope: '', scopeKind: 'none', exports: {}, ...noServer, ...notes }

  noteOverriddenVariables(env, notes)
  const own = pullRequestScope(facts)
  if (own !== null) {
    const { write, reason } = pullRequestRule(cfg, facts, own, mode, notes)
    return {
      access: write ? 'read-write' : 'read-only',
      server: true,
      write,
      scope: write ? own : '',
      scopeKind: write ? 'pull-request' : 'none',
      reason,
      exports: { NX_NO_CLOUD: 'true' },
      ...notes
    }
  }
  const grant = writeGrant(cfg.policy, facts)
  const { write, clause } = writeRule(grant, facts, mode, notes)
  return {
    access: write ? 'read-write' : 'read-only',
    server: true,
    write,
    scope: write ? facts.ref : '',
    scopeKind: write ? 'branch' : 'none',
    reason: `${cfg.policy.setup}: ${grant.why}, ${clause}.`,
    exports: { NX_NO_CLOUD: 'true' },
    ...notes
  }
}

/**
 * The pull request's own scope, `refs/pull/<n>/merge`, when this run is a pull request's (its
 * events, never pull_request_target) and runs on that ref, as GitHub runs them; else `null`. On
 * such a run GitHub's runtime token lets the cache service write only that scope, which only this
 * pull request's later runs read: never main, never another pull request.
 */
export function pullRequestScope(facts: RunFacts): string | null {
  return PR_EVENTS.includes(facts.event) && /^refs\/pull\/[1-9]\d*\/merge$/.test(facts.ref) ? facts.ref : null
}

/** A pull request's run saves into its own scope, whatever the setup and its trust, unless pull-request-writes is false. */
function pullRequestRule(cfg: CacheConfig, facts: RunFacts, scope: string, mode: string, notes: Notes): { write: boolean; reason: string } {
  const who = `${facts.trustReason} runs in its own cache scope ${scope}`
  if (!cfg.pullRequestWrites) {
    return {
      write: false,
      reason: `${cfg.policy.setup}: ${who}, but pull-request-writes is false, so uploads are refused (403) and nothing is saved.`
    }
  }
  if (mode === 'read') {
    notes.notices.push(
      "ACTIONS_CACHE_MODE is read: the runner gave this job a read-only cache token, so nothing is saved in the pull request's scope."
    )
    return {
      write: false,
      reason: `${cfg.policy.setup}: ${who}, but ACTIONS_CACHE_MODE is read, so uploads are refused (403) and nothing is saved.`
    }
  }
  if (mode === 'write-only')
    notes.notices.push('ACTIONS_CACHE_MODE is write-only: the runner allows no cache reads in this job, so every GET is a miss.')
  return {
    write: true,
    reason: `${cfg.policy.setup}: ${who}, so its uploads are saved there, where only this pull request's later runs read them; the default branch never reads them.`
  }
}

/** Why no server is started (the reason, and what is exported all the same), or `null` to start one. */
function whyNoServer(cfg: CacheConfig, env: Env, mode: string, notes: Notes): { reason: string; exports?: Record<string, string> } | null {
  if (cfg.policy.skipCache) {
    return {
      reason: 'skip-cache is true: no cache read or write for the rest of the job (NX_SKIP_NX_CACHE=true), so no cache server.',
      exports: { NX_SKIP_NX_CACHE: 'true' }
    }
  }
  if (env.NX_SKIP_NX_CACHE === 'true') {
    return {
      reason:
        'NX_SKIP_NX_CACHE is already true in the job (skip-cache of an earlier step): Nx neither reads nor writes a cache, so no cache server.'
    }
  }
  if (cfg.policy.setup === 'off') {
    return {
      reason: 'off: remote caching is turned off for this job (NX_NO_CLOUD=true), so no cache server.',
      exports: { NX_NO_CLOUD: 'true' }
    }
  }
  const missing = SERVICE_VARIABLES.filter(v => (env[v] ?? '') === '')
  if (missing.length > 0) {
    notes.errors.push(
      `The Actions cache is not reachable: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set. @actions/cache 6 needs ACTIONS_RUNTIME_TOKEN, ACTIONS_RESULTS_URL and a non-empty ACTIONS_CACHE_SERVICE_V2 (without it, it falls back to the retired v1 API). The runner gives them to JavaScript actions on github.com; Nx runs without a remote cache.`
    )
    return { reason: `the Actions cache service is not reachable (${missing.join(', ')} not set), so no cache server.` }
  }
  if (mode === 'none') {
    notes.notices.push(
      'ACTIONS_CACHE_MODE is none: the runner allows no cache reads or writes in this job, so no cache server was started.'
    )
    return { reason: 'ACTIONS_CACHE_MODE is none: no cache reads or writes are allowed in this job, so no cache server.' }
  }
  return null
}

/**
 * The write rule (docs/POLICY.md#cache-action): the token step's grant, and never on an untrusted
 * run: under shared-read-write the token step hands every run the shared token, but an entry saved
 * here is served to every later run of the repository (main included), so an untrusted run's
 * uploads are refused whatever the setup. Nor under ACTIONS_CACHE_MODE read.
 */
function writeRule(grant: ReturnType<typeof writeGrant>, facts: RunFacts, mode: string, notes: Notes): { write: boolean; clause: string } {
  let write = grant.write && facts.trusted
  let clause = write ? 'so uploads are saved to the Actions cache' : 'so uploads are refused (403) and nothing is saved'
  if (grant.write && !facts.trusted) {
    clause = `but ${facts.trustReason} is untrusted, so its uploads are refused (403) and nothing is saved, even under shared-read-write`
  }
  if (write && mode === 'read') {
    write = false
    clause = 'but ACTIONS_CACHE_MODE is read (a read-only cache token), so uploads are refused (403) and nothing is saved'
    notes.notices.push(
      'ACTIONS_CACHE_MODE is read: the runner gave this job a read-only cache token, so nothing is saved although the policy lets this run write.'
    )
  }
  if (mode === 'write-only') {
    notes.notices.push('ACTIONS_CACHE_MODE is write-only: the runner allows no cache reads in this job, so every GET is a miss.')
  }
  return { write, clause }
}

/** Nx Cloud tokens and a self-hosted cache URL already in the job: this action overrides them. */
function noteOverriddenVariables(env: Env, notes: Notes): void {
  for (const v of NX_CLOUD_TOKEN_VARIABLES) {
    if ((env[v] ?? '') !== '') {
      notes.warnings.push(
        `${v} is set in the job, but this action exports NX_NO_CLOUD=true (Nx uses a self-hosted cache only without Nx Cloud): Nx Cloud is not used for the rest of the job. Use either the token step or this cache action.`
      )
    }
  }
  if ((env.NX_SELF_HOSTED_REMOTE_CACHE_SERVER ?? '') !== '') {
    notes.notices.push('NX_SELF_HOSTED_REMOTE_CACHE_SERVER was set in the job and is overridden by this action for every later step.')
  }
}
