// The cache action's write decision over the same table of runs as the token step: a run saves
// into its branch's scope exactly when the token step would hand it the read-write token and it is
// trusted; a pull request's run saves into its own scope (refs/pull/N/merge), which GitHub keeps
// from main, unless pull-request-writes is false; pull_request_target and the like never save.

import { describe, expect, it } from '@jest/globals'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decideCache, parseCount, parseSize, pullRequestScope, readCacheInputs, type CacheConfig } from '../../src/cache/decision.js'
import { DEFAULT_MAX_ENTRIES, DEFAULT_MAX_ENTRY_SIZE } from '../../src/cache/state.js'
import { DEFAULT_SAVE_CONCURRENCY, DEFAULT_SAVE_TIME_LIMIT } from '../../src/cache/state.js'
import { TOKEN_VARIABLES, decide } from '../../src/core/policy.js'
import { readInputs } from '../../src/core/inputs.js'
import { readRunFromEnv } from '../../src/action-io/event.js'
import { resolveRunFacts } from '../../src/core/run-facts.js'
import { PolicyError, type RunFacts } from '../../src/core/types.js'
import { parse } from 'yaml'
import { REPO_ROOT } from '../helpers/run-action.js'
import { KEY, RO, RUN_CASES, RW, type RunCase, nxOf } from '../fixtures/run-cases.js'
import { pushPayload } from '../fixtures/payloads.js'

const SERVICE = { ACTIONS_RUNTIME_TOKEN: 'rt', ACTIONS_RESULTS_URL: 'http://127.0.0.1:9/', ACTIONS_CACHE_SERVICE_V2: 'true' }

function inputEnv(inputs: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v]))
}

async function factsOf(c: Pick<RunCase, 'event' | 'ref' | 'actor' | 'payload'>): Promise<RunFacts> {
  const dir = mkdtempSync(join(tmpdir(), 'nca-dec-'))
  const path = join(dir, 'event.json')
  writeFileSync(path, JSON.stringify(c.payload))
  return resolveRunFacts(
    readRunFromEnv({
      GITHUB_EVENT_NAME: c.event,
      GITHUB_REF: c.ref,
      GITHUB_ACTOR: c.actor ?? 'octocat',
      GITHUB_REPOSITORY: 'acme/monorepo',
      GITHUB_EVENT_PATH: path
    })
  )
}

describe('the write decision over the shared table of runs', () => {
  it.each(RUN_CASES.map(c => [c.name, c] as const))('%s', async (_name, c) => {
    const facts = await factsOf(c)
    const cacheInputs = { setup: c.setup, ...c.inputs }
    const d = decideCache(readCacheInputs(inputEnv(cacheInputs)), facts, SERVICE)

    // The token step, given both tokens, over the same inputs and facts.
    const token = decide(
      readInputs(inputEnv({ ...cacheInputs, 'read-write-token': RW, 'read-only-token': RO, 'encryption-key': KEY })),
      facts,
      nxOf(c),
      {}
    )
    expect(token.access).toBe(c.expect.access)
    if (c.expect.access === 'none') {
      // setup off: no remote cache at all.
      expect(d).toMatchObject({ access: 'none', server: false, write: false })
      expect(d.exports).toEqual({ NX_NO_CLOUD: 'true' })
    } else if (pullRequestScope(facts) !== null) {
      // A pull request's run (same repository, fork, Dependabot) writes its own scope, whatever the setup.
      expect(c.ref).toMatch(/^refs\/pull\/\d+\/merge$/)
      expect(d).toMatchObject({ server: true, write: true, access: 'read-write', scope: c.ref, scopeKind: 'pull-request' })
      expect(d.reason).toContain(`${facts.trustReason} runs in its own cache scope ${c.ref}`)
      const off = decideCache(readCacheInputs(inputEnv({ ...cacheInputs, 'pull-request-writes': 'false' })), facts, SERVICE)
      expect(off).toMatchObject({ server: true, write: false, access: 'read-only', scope: '', scopeKind: 'none' })
      expect(off.reason).toContain('pull-request-writes is false')
    } else {
      // The cache writes where the token step would hand out read-write AND the run is trusted:
      // a saved entry is served to every later run, so an untrusted run never saves one, even
      // under shared-read-write where the token step rightly gives it the shared token.
      const write = c.expect.access === 'read-write' && facts.trusted
      expect(d.server).toBe(true)
      expect(d.write).toBe(write)
      expect(d.access).toBe(write ? 'read-write' : 'read-only')
      // Its saves land in its own ref's scope: main's for a push to main; never a shared one on
      // someone else's behalf (pull_request_target, workflow_run run on the default branch's ref).
      expect(d.scope).toBe(write ? c.ref : '')
      expect(d.scopeKind).toBe(write ? 'branch' : 'none')
      expect(d.exports).toEqual({ NX_NO_CLOUD: 'true' })
      // The same rule, so the same words: "<setup>: <why the policy decided>".
      const why = d.reason.split(/, (?:so uploads|but )/)[0]
      expect(why.length).toBeGreaterThan(c.setup.length + 10)
      expect(token.reason.startsWith(why)).toBe(true)
      if (c.expect.access === 'read-write' && !facts.trusted) {
        expect(d.reason).toContain('is untrusted, so its uploads are refused (403) and nothing is saved, even under shared-read-write')
      }
    }
  })

  it.each([
    "shared-read-write: a fork pull_request_target writes with nx.json's token, not the secret",
    "shared-read-write: workflow_run writes with nx.json's token, not the secret"
  ])("a run in the default branch's scope on someone else's behalf saves nothing, even under shared-read-write: %s", async name => {
    const c = RUN_CASES.find(r => r.name === name)!
    const facts = await factsOf(c)
    expect(facts.trusted).toBe(false)
    const d = decideCache(readCacheInputs(inputEnv({ setup: c.setup })), facts, SERVICE)
    expect(d).toMatchObject({ server: true, write: false, access: 'read-only', scope: '' })
  })

  it('a pull request event on any other ref than its merge ref is judged by the shared rule (fails closed)', async () => {
    const pr = RUN_CASES.find(r => r.name === 'main-only: a fork PR reads')!
    const facts = await factsOf({ ...pr, ref: 'refs/heads/main' })
    expect(pullRequestScope(facts)).toBeNull()
    const d = decideCache(readCacheInputs(inputEnv({ setup: 'shared-read-write' })), facts, SERVICE)
    expect(d).toMatchObject({ write: false, scope: '' })
  })

  it('covers writing and non-writing runs of every setup', () => {
    const setups = new Set(RUN_CASES.map(c => `${c.setup}:${c.expect.access}`))
    expect(setups).toEqual(
      new Set([
        'main-only:read-write',
        'main-only:read-only',
        'ci-read-write:read-write',
        'ci-read-write:read-only',
        'shared-read-write:read-write',
        'off:none',
        '2:read-write'
      ])
    )
  })
})

describe('the Actions cache around the policy', () => {
  const pushMain = { event: 'push', ref: 'refs/heads/main', payload: pushPayload('refs/heads/main') }
  const cfg = (inputs: Record<string, string> = {}): CacheConfig => readCacheInputs(inputEnv(inputs))

  it('skip-cache: no server, NX_SKIP_NX_CACHE=true, and nothing else', async () => {
    const d = decideCache(cfg({ 'skip-cache': 'true' }), await factsOf(pushMain), SERVICE)
    expect(d).toMatchObject({ server: false, write: false, access: 'none' })
    expect(d.exports).toEqual({ NX_SKIP_NX_CACHE: 'true' })
  })

  it('an earlier skip-cache in the job (NX_SKIP_NX_CACHE=true): no server', async () => {
    const d = decideCache(cfg(), await factsOf(pushMain), { ...SERVICE, NX_SKIP_NX_CACHE: 'true' })
    expect(d).toMatchObject({ server: false, write: false })
    expect(d.exports).toEqual({})
  })

  it.each(['ACTIONS_RUNTIME_TOKEN', 'ACTIONS_RESULTS_URL', 'ACTIONS_CACHE_SERVICE_V2'])(
    'without %s: an error naming it, no server, and no failure',
    async missing => {
      const env: Record<string, string> = { ...SERVICE }
      delete env[missing]
      const d = decideCache(cfg(), await factsOf(pushMain), env)
      expect(d.server).toBe(false)
      expect(d.errors).toHaveLength(1)
      expect(d.errors[0]).toContain(`${missing} is not set`)
      expect(d.exports).toEqual({})
    }
  )

  it('an empty ACTIONS_CACHE_SERVICE_V2 counts as missing (the library would fall back to v1)', async () => {
    const d = decideCache(cfg(), await factsOf(pushMain), { ...SERVICE, ACTIONS_CACHE_SERVICE_V2: '' })
    expect(d.server).toBe(false)
    expect(d.errors[0]).toContain('retired v1 API')
  })

  it('ACTIONS_CACHE_MODE read: a writing run reads only, with a notice', async () => {
    const d = decideCache(cfg(), await factsOf(pushMain), { ...SERVICE, ACTIONS_CACHE_MODE: 'read' })
    expect(d).toMatchObject({ server: true, write: false, access: 'read-only' })
    expect(d.notices.join(' ')).toContain('ACTIONS_CACHE_MODE is read')
    expect(d.reason).toContain('ACTIONS_CACHE_MODE is read')
  })

  it('ACTIONS_CACHE_MODE none: no server, a notice', async () => {
    const d = decideCache(cfg(), await factsOf(pushMain), { ...SERVICE, ACTIONS_CACHE_MODE: 'none' })
    expect(d).toMatchObject({ server: false, write: false })
    expect(d.notices.join(' ')).toContain('ACTIONS_CACHE_MODE is none')
  })

  it('ACTIONS_CACHE_MODE write keeps the policy decision', async () => {
    const d = decideCache(cfg(), await factsOf(pushMain), { ...SERVICE, ACTIONS_CACHE_MODE: 'write' })
    expect(d).toMatchObject({ server: true, write: true })
  })

  it('warns when an Nx Cloud token is in the job: NX_NO_CLOUD turns it off', async () => {
    const d = decideCache(cfg(), await factsOf(pushMain), { ...SERVICE, NX_CLOUD_ACCESS_TOKEN: 'x' })
    expect(d.warnings.join(' ')).toContain('NX_CLOUD_ACCESS_TOKEN is set in the job')
    expect(decideCache(cfg(), await factsOf(pushMain), SERVICE).warnings).toEqual([])
  })

  it('warns for each Nx Cloud token the token step knows, not for a self-hosted cache token', async () => {
    const facts = await factsOf(pushMain)
    for (const v of TOKEN_VARIABLES) {
      const d = decideCache(cfg(), facts, { ...SERVICE, [v]: 'x' })
      expect(d.warnings.join(' ').includes(`${v} is set in the job`)).toBe(v.startsWith('NX_CLOUD_'))
    }
  })

  it('defaults max-entries and max-entry-size as cache/action.yml does', () => {
    const action = parse(readFileSync(join(REPO_ROOT, 'cache', 'action.yml'), 'utf8'))
    expect(cfg()).toMatchObject({ maxEntries: DEFAULT_MAX_ENTRIES, maxEntrySize: DEFAULT_MAX_ENTRY_SIZE })
    expect(parseCount(action.inputs['max-entries'].default, 'x')).toBe(DEFAULT_MAX_ENTRIES)
    expect(parseSize(action.inputs['max-entry-size'].default, 'x')).toBe(DEFAULT_MAX_ENTRY_SIZE)
  })

  it('reads max-entries and max-entry-size, rejecting bad values with what is accepted', () => {
    expect(cfg({ 'max-entries': '20', 'max-entry-size': '64M' })).toMatchObject({ maxEntries: 20, maxEntrySize: 64 * 1024 * 1024 })
    expect(parseSize('1024', 'x')).toBe(1024)
    expect(parseSize('2k', 'x')).toBe(2048)
    expect(parseSize('1GiB', 'x')).toBe(1024 ** 3)
    expect(() => cfg({ 'max-entries': '0' })).toThrow(PolicyError)
    expect(() => cfg({ 'max-entries': 'many' })).toThrow(/Accepted: a positive whole number/)
    expect(() => cfg({ 'max-entry-size': '5T' })).toThrow(/Accepted: a positive number of bytes/)
  })

  it('reads save-concurrency (1 to 32, default 8) and save-time-limit (seconds, default 300) as cache/action.yml declares them', () => {
    const action = parse(readFileSync(join(REPO_ROOT, 'cache', 'action.yml'), 'utf8'))
    expect(cfg()).toMatchObject({ saveConcurrency: DEFAULT_SAVE_CONCURRENCY, saveTimeLimit: DEFAULT_SAVE_TIME_LIMIT })
    expect(Number(action.inputs['save-concurrency'].default)).toBe(DEFAULT_SAVE_CONCURRENCY)
    expect(Number(action.inputs['save-time-limit'].default)).toBe(DEFAULT_SAVE_TIME_LIMIT)
    expect(cfg({ 'save-concurrency': '32', 'save-time-limit': '60' })).toMatchObject({ saveConcurrency: 32, saveTimeLimit: 60 })
    expect(() => cfg({ 'save-concurrency': '0' })).toThrow(/Input 'save-concurrency'/)
    expect(() => cfg({ 'save-concurrency': '33' })).toThrow(/Input 'save-concurrency' is 33. Accepted: a whole number from 1 to 32/)
    expect(() => cfg({ 'save-time-limit': 'soon' })).toThrow(/Input 'save-time-limit'.*Accepted: a positive whole number/)
  })

  it('rejects a bad setup as the token step does', () => {
    expect(() => cfg({ setup: 'everyone' })).toThrow(/Input 'setup' has an unknown value/)
  })
})
