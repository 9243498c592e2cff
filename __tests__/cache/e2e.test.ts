// End to end, as on a runner: the bundled cache/dist main and post entries (state handed over
// through GITHUB_STATE), the real nx 24 CLI between them, and the real @actions/cache talking to
// a loopback stand-in of the Actions cache service that scopes entries by ref as GitHub does. A
// push to main saves its entries; a pull request on a fresh runner reads them ([remote cache]) and
// saves what it built into its own scope, which its next run reads and main never does;
// pull_request_target saves nothing; skip-cache touches nothing.

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { prPayload, pushPayload, repository } from '../fixtures/payloads.js'
import {
  type ActionsCacheService,
  MAIN_SCOPE,
  type RunScope,
  pullRequestScope,
  startActionsCacheService
} from '../helpers/actions-cache-service.js'
import { type Workspace, makeWorkspace } from '../helpers/nx-workspace.js'
import { type ActionRun, type RunOptions, runAction, unmaskedText } from '../helpers/run-action.js'

const MAIN = 'cache/dist/main/index.js'
const POST = 'cache/dist/post/index.js'
const PROJECTS = ['lib-a', 'lib-b', 'app']

let svc: ActionsCacheService
beforeAll(async () => {
  svc = await startActionsCacheService()
})
afterAll(async () => {
  await svc.close()
})

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function waitGone(pid: number, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (!alive(pid)) return true
    await new Promise(r => setTimeout(r, 50))
  }
  return !alive(pid)
}

interface Job {
  main: ActionRun
  nx: { status: number; output: string }
  post: ActionRun
}

/** One job: the cache action's main, one nx run with what main exported, then post. */
async function job(ws: Workspace, run: Omit<RunOptions, 'entry'>, scope: RunScope = MAIN_SCOPE): Promise<Job> {
  const env = { RUNNER_OS: 'Linux', ...svc.env(scope), ...run.env }
  const main = await runAction({ ...run, entry: MAIN, env, workspace: ws.dir })
  expect(main.status).toBe(0)
  const nx = await ws.nx(['run-many', '-t', 'build', '--output-style=stream'], main.env)
  // As on the runner: post gets the job's environment, with what main put in GITHUB_ENV.
  const post = await runAction({ ...run, entry: POST, env: { ...env, ...main.env }, workspace: ws.dir, state: main.state })
  expect(post.status).toBe(0)
  return { main, nx, post }
}

function built(ws: Workspace): Record<string, string> {
  return Object.fromEntries(PROJECTS.map(p => [p, readFileSync(join(ws.dir, 'dist', p, 'out.txt'), 'utf8')]))
}

const pushMain = { event: 'push', ref: 'refs/heads/main', payload: pushPayload('refs/heads/main') }

/** Keys of the finalized entries of `scope` (main's). */
const finalized = (scope = MAIN_SCOPE.ref): string[] =>
  [...svc.entries.values()].filter(e => e.finalized && e.scope === scope).map(e => e.key)

describe('the cache action on a runner, with the real nx CLI', () => {
  let mainRun: Job
  let mainOut: Record<string, string>

  it('a push to main serves Nx, keeps its uploads and saves them in post', async () => {
    const ws = makeWorkspace()
    mainRun = await job(ws, { event: 'push', ref: 'refs/heads/main', payload: pushPayload('refs/heads/main') })
    const { main, nx, post } = mainRun

    expect(main.outputs.access).toBe('read-write')
    expect(main.env.NX_NO_CLOUD).toBe('true')
    expect(main.env.NX_SELF_HOSTED_REMOTE_CACHE_SERVER).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const token = main.env.NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN
    expect(token).toMatch(/^[0-9a-f]{64}$/)
    // The bearer token is a secret: masked, and never printed, summarized or output.
    expect(main.stdout).toContain(`::add-mask::${token}`)
    expect(unmaskedText(main)).not.toContain(token)
    expect(unmaskedText(post)).not.toContain(token)

    expect(nx.status).toBe(0)
    expect(nx.output).not.toContain('[remote cache]')
    mainOut = built(ws)

    expect(post.outputs).toMatchObject({ access: 'read-write', misses: '3', hits: '0', saved: '3', refused: '0' })
    expect(Number(post.outputs['bytes-saved'])).toBeGreaterThan(0)
    // The three entries in one pack: one Actions cache entry created, not three.
    expect(finalized()).toHaveLength(1)
    expect(finalized()[0]).toMatch(/^nx-cloud-access-v1-pack-Linux-heads_main-\d+-\d+-[0-9a-f]{8}-0$/)
    expect(post.summary).toContain('Entries saved')
    // The server is gone once post returns.
    expect(await waitGone(Number(main.state['nca-pid']))).toBe(true)
  })

  const PR = pullRequestScope(104)
  const prRun = { event: 'pull_request', ref: 'refs/pull/104/merge', payload: prPayload() }
  let prFirst: Record<string, string>

  it("a pull request on a fresh runner reads main's entries and saves what it built into its own scope only", async () => {
    expect(mainRun).toBeDefined()
    const ws = makeWorkspace()
    // One project differs from main: its build misses and Nx uploads it.
    writeFileSync(join(ws.dir, 'packages', 'app', 'index.js'), "module.exports = 'app, changed in the PR'\n")
    const mainKeys = finalized()
    const { main, nx, post } = await job(ws, prRun, PR)

    expect(main.outputs.access).toBe('read-write')
    expect(main.outputs.scope).toBe('refs/pull/104/merge')
    expect(main.outputs.reason).toContain('runs in its own cache scope refs/pull/104/merge')
    expect(main.state['nca-stage']).not.toBe(mainRun.main.state['nca-stage'])

    expect(nx.status).toBe(0)
    // lib-a and lib-b come from main's entries; app was built here.
    expect(nx.output.match(/\[remote cache\]/g) ?? []).toHaveLength(2)
    const out = built(ws)
    expect(out['lib-a']).toBe(mainOut['lib-a'])
    expect(out['lib-b']).toBe(mainOut['lib-b'])
    expect(out.app).not.toBe(mainOut.app)
    prFirst = out

    expect(post.outputs).toMatchObject({ access: 'read-write', hits: '2', misses: '1', refused: '0', scope: 'refs/pull/104/merge' })
    expect(Number(post.outputs.saved)).toBeGreaterThanOrEqual(1)
    expect(post.summary).toContain('Scope written')
    expect(post.summary).toMatch(/refs\/pull\/104\/merge: this pull request(&#39;|&#x27;|')s own scope/)
    // Main's scope is exactly as main left it: the pull request wrote only its own.
    expect(finalized()).toEqual(mainKeys)
    expect(finalized(PR.ref).length).toBeGreaterThanOrEqual(1)
    expect(await waitGone(Number(main.state['nca-pid']))).toBe(true)
  })

  it("the pull request's second run, on a fresh runner, hits what its first run built", async () => {
    expect(prFirst).toBeDefined()
    const ws = makeWorkspace()
    writeFileSync(join(ws.dir, 'packages', 'app', 'index.js'), "module.exports = 'app, changed in the PR'\n")
    const { nx, post } = await job(ws, prRun, PR)
    expect(nx.status).toBe(0)
    expect(nx.output.match(/\[remote cache\]/g) ?? []).toHaveLength(3)
    expect(built(ws)).toEqual(prFirst)
    expect(post.outputs).toMatchObject({ hits: '3', misses: '0', saved: '0' })
  })

  it('main, on a fresh runner, never reads what the pull request saved', async () => {
    expect(prFirst).toBeDefined()
    const ws = makeWorkspace()
    // The same change as the pull request's, now on main: main computes the PR's hash for app.
    writeFileSync(join(ws.dir, 'packages', 'app', 'index.js'), "module.exports = 'app, changed in the PR'\n")
    const { nx, post } = await job(ws, pushMain)
    expect(nx.status).toBe(0)
    // lib-a and lib-b from main's own entries; app built again, not taken from the pull request's scope.
    expect(nx.output.match(/\[remote cache\]/g) ?? []).toHaveLength(2)
    expect(post.outputs).toMatchObject({ hits: '2', misses: '1', scope: 'refs/heads/main' })
  })

  it('pull-request-writes: false makes a pull request read only', async () => {
    const ws = makeWorkspace()
    writeFileSync(join(ws.dir, 'packages', 'lib-a', 'index.js'), "module.exports = 'lib-a, another PR'\n")
    const other = pullRequestScope(205)
    const { main, nx, post } = await job(
      ws,
      { event: 'pull_request', ref: 'refs/pull/205/merge', payload: prPayload(), inputs: { 'pull-request-writes': 'false' } },
      other
    )
    expect(main.outputs.access).toBe('read-only')
    expect(main.outputs.reason).toContain('pull-request-writes is false')
    expect(nx.status).toBe(0)
    expect(post.outputs).toMatchObject({ saved: '0', scope: '' })
    expect(Number(post.outputs.refused)).toBeGreaterThanOrEqual(1)
    expect(post.summary).toContain('none: this run saves nothing')
    expect(finalized(other.ref)).toEqual([])
  })

  it("pull_request_target runs in main's scope on a pull request's behalf: it saves nothing, whatever the setup", async () => {
    const ws = makeWorkspace()
    writeFileSync(join(ws.dir, 'packages', 'lib-b', 'index.js'), "module.exports = 'lib-b, from a fork'\n")
    const before = finalized()
    const creates = svc.requests.filter(r => r.call === 'CreateCacheEntry').length
    const payload = { ...prPayload({ fork: 'mallory/monorepo' }), repository: repository() }
    const { main, nx, post } = await job(ws, {
      event: 'pull_request_target',
      ref: 'refs/heads/main',
      payload,
      inputs: { setup: 'shared-read-write' }
    })
    expect(main.outputs.access).toBe('read-only')
    expect(main.outputs.scope).toBe('')
    expect(nx.status).toBe(0)
    expect(post.outputs).toMatchObject({ saved: '0', scope: '' })
    expect(finalized()).toEqual(before)
    expect(svc.requests.filter(r => r.call === 'CreateCacheEntry').length).toBe(creates)
  })

  it('skip-cache touches nothing: no server, NX_SKIP_NX_CACHE=true, no request to the Actions cache', async () => {
    const ws = makeWorkspace()
    const requests = svc.requests.length
    const { main, nx, post } = await job(ws, {
      event: 'push',
      ref: 'refs/heads/main',
      payload: pushPayload('refs/heads/main'),
      inputs: { 'skip-cache': 'true' }
    })
    expect(main.env).toEqual({ NX_SKIP_NX_CACHE: 'true' })
    expect(main.state['nca-started']).toBe('false')
    expect(nx.status).toBe(0)
    expect(nx.output).not.toContain('[remote cache]')
    expect(post.outputs).toMatchObject({ access: 'none', saved: '0', hits: '0' })
    expect(svc.requests.length).toBe(requests)
    expect(existsSync(join(ws.dir, 'dist', 'app', 'out.txt'))).toBe(true)
  })

  it('without the cache service variables: an error annotation, no server, and the step still succeeds', async () => {
    const ws = makeWorkspace()
    const run = await runAction({
      entry: MAIN,
      event: 'push',
      ref: 'refs/heads/main',
      payload: pushPayload('refs/heads/main'),
      workspace: ws.dir,
      env: { RUNNER_OS: 'Linux', ACTIONS_RUNTIME_TOKEN: 'x', ACTIONS_RESULTS_URL: svc.url + '/' }
    })
    expect(run.status).toBe(0)
    expect(run.errors).toHaveLength(1)
    expect(run.errors[0]).toContain('ACTIONS_CACHE_SERVICE_V2 is not set')
    expect(run.env).toEqual({})
    expect(run.state['nca-started']).toBe('false')
    expect(run.outputs.access).toBe('none')
  })

  it('a server that does not start: main and post both report none, with the reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nca-noserver-'))
    const broken = join(dir, 'server.cjs')
    writeFileSync(broken, 'process.exit(3)\n')
    const env = { RUNNER_OS: 'Linux', ...svc.env(), NCA_CACHE_SERVER_ENTRY: broken }
    const main = await runAction({ ...pushMain, entry: MAIN, env })
    expect(main.status).toBe(0)
    expect(main.warnings.join(' ')).toContain('The Nx cache server did not start')
    expect(main.outputs.access).toBe('none')
    expect(main.state['nca-access']).toBe('none')
    expect(main.state['nca-write']).toBe('false')
    expect(main.state['nca-reason']).toBe(main.outputs.reason)
    expect(main.outputs.reason).toContain('the Nx cache server did not start, so Nx runs without a remote cache')
    const post = await runAction({ ...pushMain, entry: POST, env, state: main.state })
    expect(post.status).toBe(0)
    expect(post.outputs.access).toBe('none')
    expect(post.summary).toContain('the Nx cache server did not start, so Nx runs without a remote cache')
  })

  it('a bad input fails the step, as in the token step, and exports nothing', async () => {
    const run = await runAction({
      entry: MAIN,
      event: 'push',
      ref: 'refs/heads/main',
      payload: pushPayload('refs/heads/main'),
      inputs: { 'max-entries': 'lots' },
      env: { RUNNER_OS: 'Linux', ...svc.env() }
    })
    expect(run.status).toBe(1)
    expect(run.errors[0]).toContain("Input 'max-entries'")
    expect(run.env).toEqual({})
  })
})

describe('post when things go wrong', () => {
  const push = { event: 'push', ref: 'refs/heads/main', payload: pushPayload('refs/heads/main') }

  /** main, then uploads straight to the server as Nx would PUT them. */
  async function mainWithUploads(hashes: string[], inputs: Record<string, string> = {}): Promise<ActionRun> {
    const env = { RUNNER_OS: 'Linux', ...svc.env() }
    const main = await runAction({ ...push, entry: MAIN, env, inputs })
    expect(main.status).toBe(0)
    for (const h of hashes) {
      const res = await fetch(`${main.env.NX_SELF_HOSTED_REMOTE_CACHE_SERVER}/v1/cache/${h}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${main.env.NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN}` },
        body: `entry ${h}`
      })
      expect(res.status).toBe(200)
    }
    return main
  }

  it('after a 429 without Retry-After, post stops saving, warns once with the count not saved, and succeeds', async () => {
    const main = await mainWithUploads(['9001', '9002', '9003', '9004'])
    const reserved = svc.requests.filter(r => r.call === 'CreateCacheEntry' && r.status === 200).length
    // The pack is refused, then the first entry saved one by one: the three others are not.
    svc.rateLimitAfter = reserved
    try {
      const post = await runAction({ ...push, entry: POST, env: { RUNNER_OS: 'Linux', ...svc.env() }, state: main.state })
      expect(post.status).toBe(0)
      expect(post.warnings).toHaveLength(1)
      expect(post.warnings[0]).toContain('429')
      expect(post.warnings[0]).toContain('4 entries not saved')
      expect(post.outputs.saved).toBe('0')
      expect(post.errors).toEqual([])
    } finally {
      svc.rateLimitAfter = Infinity
    }
  })

  it('post ends by its save-time-limit with a slow service, and says how many entries were not saved', async () => {
    const main = await mainWithUploads(['9401', '9402', '9403'], { 'save-time-limit': '1' })
    expect(main.state['nca-save-time-limit']).toBe('1')
    // Each save is at least three requests: none can end within the limit.
    svc.latencyMs = 5000
    try {
      const t0 = Date.now()
      const post = await runAction({ ...push, entry: POST, env: { RUNNER_OS: 'Linux', ...svc.env() }, state: main.state })
      const took = Date.now() - t0
      expect(post.status).toBe(0)
      // Unbounded, three saves of three 5 s round trips each would take 15 s or more.
      expect(took).toBeLessThan(8000)
      expect(post.outputs.saved).toBe('0')
      const limit = post.warnings.filter(w => w.includes('time limit'))
      expect(limit).toHaveLength(1)
      expect(limit[0]).toContain('3 entries not saved')
      expect(post.summary).toContain('stopped by deadline')
    } finally {
      svc.latencyMs = 0
    }
  })

  it('a server that died before post: post says so and still saves what it recorded', async () => {
    const main = await mainWithUploads(['9101', '9102'])
    const pid = Number(main.state['nca-pid'])
    process.kill(pid, 'SIGKILL')
    expect(await waitGone(pid)).toBe(true)
    const post = await runAction({ ...push, entry: POST, env: { RUNNER_OS: 'Linux', ...svc.env() }, state: main.state })
    expect(post.status).toBe(0)
    expect(post.warnings.join(' ')).toContain('left no statistics')
    expect(post.outputs.saved).toBe('2')
    expect(post.summary).toContain('1 pack(s)')
  })

  it('post asks the server for its statistics first, so they survive a stop that leaves no stats.json (Windows)', async () => {
    const main = await mainWithUploads(['9201'])
    const server = main.env.NX_SELF_HOSTED_REMOTE_CACHE_SERVER
    const headers = { authorization: `Bearer ${main.env.NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN}` }
    expect((await fetch(`${server}/v1/cache/9201`, { headers })).status).toBe(200)
    // On Windows the signal ends the server at once; here, stats.json cannot be written.
    mkdirSync(join(main.state['nca-stage'], 'stats.json'))
    // The runner gives post the job's environment, GITHUB_ENV included.
    const env = { RUNNER_OS: 'Linux', ...svc.env(), ...main.env }
    const post = await runAction({ ...push, entry: POST, env, state: main.state })
    expect(post.status).toBe(0)
    expect(post.warnings.join(' ')).not.toContain('left no statistics')
    expect(post.outputs).toMatchObject({ hits: '1', saved: '1', 'bytes-restored': String('entry 9201'.length) })
  })

  it('post never signals a process that is not the server (a reused pid)', async () => {
    const main = await mainWithUploads([])
    const { spawn } = await import('node:child_process')
    const bystander = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' })
    try {
      const post = await runAction({
        ...push,
        entry: POST,
        env: { RUNNER_OS: 'Linux', ...svc.env() },
        state: { ...main.state, 'nca-pid': String(bystander.pid) }
      })
      expect(post.status).toBe(0)
      expect(alive(bystander.pid!)).toBe(true)
    } finally {
      bystander.kill()
      process.kill(Number(main.state['nca-pid']), 'SIGTERM')
    }
  })
})
