// The pre-deploy rebuild in a workspace set up to distribute tasks to Nx Agents, with real Nx 24.
//
// Nx 24 itself never distributes: with Nx Cloud on (nxCloudId, a token), it hands every command to
// the Nx Cloud client, a bundle it installs under the cache folder, and the client decides whether
// tasks run here or on Nx Agents, from `.nx/ci-config.yaml`, an earlier `start-ci-run` or
// `start-nx-agents` of the same CI run, and `NX_CLOUD_DISTRIBUTED_EXECUTION`. No real client runs
// offline, so a stand-in sits where Nx looks for an installed one: it only records that Nx handed
// it the command (tasks, skip-cache, the distribution switch it saw), then runs the tasks here
// through Nx's own default runner. What this file shows is Nx's side, which is real: when Nx hands
// the command over, and that the rebuild step's command never is. An "Nx Cloud API" on a loopback
// port answers 503 to everything and counts what Nx asks it.
//
// The workspace is configured as a distributing main job would be: nxCloudId and the API URL in
// nx.json, `.nx/ci-config.yaml` with `dte: distribute-on`, the marker file `start-ci-run` leaves in
// the cache folder (nx-cloud 16's client reads it), NX_CLOUD_DISTRIBUTED_EXECUTION=true in the
// job, and the read-write token the policy step exports on a push to main under main-only.

import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { createServer, type Server } from 'node:http'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { KEY, RO, RW } from '../fixtures/run-cases.js'
import { pushPayload } from '../fixtures/payloads.js'
import { runCompositeStep } from '../helpers/composite-step.js'
import { baseNxEnv, makeWorkspace, REPO_ROOT, type Workspace } from '../helpers/nx-workspace.js'
import { runAction } from '../helpers/run-action.js'
import { stripAnsi } from '../../src/rebuild/output.js'
import { REBUILD_TITLE } from '../../src/rebuild/summary.js'
import { parseSummary } from '../helpers/step-summary.js'

jest.setTimeout(180_000)

const PROJECTS = ['lib-a', 'lib-b', 'app']
const TASKS = PROJECTS.map(p => `${p}:build`)
const NX = 'node_modules/.bin/nx'
const REBUILD = `${NX} run-many -t build`
const DEFAULT_RUNNER = join(REPO_ROOT, 'node_modules', 'nx', 'dist', 'src', 'tasks-runner', 'default-tasks-runner.js')

let api: Server
/** What Nx asked the loopback Nx Cloud API, in order. */
let asked: string[] = []
let ws: Workspace
let jobEnv: Record<string, string>
let clientDir: string

interface Handed {
  tasks: string[]
  skipNxCache: boolean | null
  distributed: string | null
}
const handed = (): Handed[] => {
  const file = join(clientDir, 'handed.jsonl')
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map(l => JSON.parse(l) as Handed)
    : []
}
const outs = (): Record<string, string> =>
  Object.fromEntries(PROJECTS.map(p => [p, readFileSync(join(ws.dir, 'dist', p, 'out.txt'), 'utf8')]))
const inputs = (command: string): Record<string, string> => ({
  setup: 'main-only',
  'read-write-token': RW,
  'read-only-token': RO,
  'encryption-key': KEY,
  'rebuild-command': command
})
const rebuild = (command: string) => runCompositeStep({ id: 'rebuild', inputs: inputs(command), jobEnv, workspace: ws.dir })

/** The stand-in client, where Nx 24 on a runner looks for an installed one: <cache folder>/cloud/<version>/. */
function installStandInClient(): void {
  mkdirSync(clientDir, { recursive: true })
  writeFileSync(
    join(clientDir, 'index.js'),
    `const fs = require('fs'); const path = require('path');
exports.commands = {};
exports.configureLightClientRequire = () => () => {};
exports.nxCloudTasksRunner = (tasks, options, context) => {
  fs.appendFileSync(path.join(__dirname, 'handed.jsonl'), JSON.stringify({
    tasks: tasks.map(t => t.id),
    skipNxCache: options.skipNxCache ?? null,
    distributed: process.env.NX_CLOUD_DISTRIBUTED_EXECUTION ?? null
  }) + '\\n');
  return require(${JSON.stringify(DEFAULT_RUNNER)}).defaultTasksRunner(tasks, options, context);
};
`
  )
}

beforeAll(async () => {
  api = createServer((req, res) => {
    asked.push(`${req.method} ${(req.url ?? '').split('?')[0]}`)
    res.writeHead(503, { 'content-type': 'text/plain' }).end('unavailable')
  })
  await new Promise<void>(done => api.listen(0, '127.0.0.1', done))
  const url = `http://127.0.0.1:${(api.address() as AddressInfo).port}`

  ws = makeWorkspace({ nxJson: { nxCloudId: '0123456789abcdef01234567', nxCloudUrl: url } })
  mkdirSync(join(ws.dir, '.nx'), { recursive: true })
  writeFileSync(join(ws.dir, '.nx', 'ci-config.yaml'), 'dte:\n  distribute-on: 3 linux-medium-js\nlifecycle:\n  stop-after:\n    - build\n')
  const cacheDir = join(ws.dir, '.nx', 'cache')
  mkdirSync(cacheDir, { recursive: true })
  writeFileSync(join(cacheDir, 'NX_CLOUD_DISTRIBUTED_EXECUTION'), 'true')
  clientDir = join(cacheDir, 'cloud', 'stand-in')

  const policy = await runAction({
    event: 'push',
    ref: 'refs/heads/main',
    payload: pushPayload('refs/heads/main'),
    workspace: ws.dir,
    inputs: inputs(REBUILD)
  })
  expect(policy.errors).toEqual([])
  expect(policy.outputs.access).toBe('read-write')
  expect(policy.env).toMatchObject({ NX_CLOUD_ACCESS_TOKEN: RW, NX_SKIP_NX_CACHE: 'true' })
  expect(policy.env.NX_NO_CLOUD).toBeUndefined()
  // The job as a distributing main job has it: Nx Cloud on (the test helpers' NX_NO_CLOUD=true
  // blanked: Nx turns Nx Cloud off for exactly "true"), distribution asked for.
  jobEnv = { ...(baseNxEnv(ws.dir, policy.env) as Record<string, string>), NX_NO_CLOUD: '', NX_CLOUD_DISTRIBUTED_EXECUTION: 'true' }
})

afterAll(async () => {
  await new Promise(done => api?.close(done))
})

beforeEach(() => {
  asked = []
  rmSync(clientDir, { recursive: true, force: true })
})

describe('what Nx does with the job environment (no rebuild step)', () => {
  it('hands the command to the Nx Cloud client, skip-cache and all: the client, not Nx, decides where tasks run', async () => {
    installStandInClient()
    const run = await ws.nx(['run-many', '-t', 'build'], jobEnv)
    expect(run.status).toBe(0)
    expect(asked).toContain('GET /nx-cloud/client/verify')
    expect(handed()).toEqual([{ tasks: TASKS, skipNxCache: true, distributed: 'true' }])
  })

  it('hands it over with --no-cloud too: only NX_NO_CLOUD=true keeps the client out', async () => {
    installStandInClient()
    expect((await ws.nx(['run-many', '-t', 'build', '--no-cloud'], jobEnv)).status).toBe(0)
    expect(handed().map(h => h.tasks)).toEqual([TASKS])
    rmSync(join(clientDir, 'handed.jsonl'))
    asked = []
    expect((await ws.nx(['run-many', '-t', 'build'], { ...jobEnv, NX_NO_CLOUD: 'true' })).status).toBe(0)
    expect(handed()).toEqual([])
    expect(asked).toEqual([])
  })

  it('without an installed client and no answer from Nx Cloud, runs here and says Nx Cloud was not used', async () => {
    const run = await ws.nx(['run-many', '-t', 'build'], jobEnv)
    expect(run.status).toBe(0)
    expect(asked).toContain('GET /nx-cloud/client/verify')
    expect(stripAnsi(run.output)).toMatch(/Nx Cloud was not used for this command/)
  })
})

describe('the rebuild step with distribution configured', () => {
  it('keeps the command away from Nx Cloud: every task runs on this runner, fresh, and the step passes', async () => {
    installStandInClient()
    const before = outs()
    const run = await rebuild(REBUILD)
    expect(run.errors).toEqual([])
    expect(run.warnings).toEqual([])
    expect(run.status).toBe(0)
    expect(run.outputs.rebuilt).toBe(TASKS.join(' '))
    expect(handed()).toEqual([]) // the client never saw the command
    expect(asked).toEqual([]) // nor did Nx Cloud
    for (const p of PROJECTS) expect(outs()[p]).not.toBe(before[p]) // built here, now
    expect(run.summary).toMatch(/every task ran on this runner/)
  })

  it('leaves the job its Nx Cloud settings: the step exports nothing', async () => {
    const run = await rebuild(REBUILD)
    expect(run.status).toBe(0)
    expect(run.env).toEqual({})
  })

  it('refuses to call the result verified when the command turns Nx Cloud back on', async () => {
    const run = await rebuild(`NX_NO_CLOUD=false ${REBUILD}`)
    expect(asked).toContain('GET /nx-cloud/client/verify')
    expect(run.status).toBe(1)
    expect(run.errors).toHaveLength(1)
    expect(run.errors[0]).toMatch(/cannot be verified.*Nx Cloud took part.*Nx Cloud was not used for this command/)
    const summary = parseSummary(run.summary, REBUILD_TITLE)
    expect(summary.verdict).toBe('❌ Not verified: Nx Cloud took part, deploy nothing')
    const signs = summary.sections.find(s => s.heading === 'Signs of Nx Cloud in the output')
    expect(signs?.items).toEqual(expect.arrayContaining([expect.stringMatching(/^line \d+: Nx Cloud was not used for this command/)]))
  })

  it('(the limit) a command that turns Nx Cloud back on reaches an installed client, told not to distribute', async () => {
    installStandInClient()
    const run = await rebuild(`NX_NO_CLOUD=false ${REBUILD}`)
    // The stand-in prints nothing of Nx Cloud, so the check has nothing to refuse: what a real
    // client prints is not known here (docs/rebuild.md says so). What it is handed is.
    expect(run.status).toBe(0)
    expect(handed()).toEqual([{ tasks: TASKS, skipNxCache: true, distributed: 'false' }])
  })
})
