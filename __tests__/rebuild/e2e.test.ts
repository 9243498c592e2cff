// The pre-deploy rebuild end to end, with real Nx 24 and the composite's own steps: the policy
// step's bundle as the runner runs it, then action.yml's rebuild step script run by bash with the
// environment the runner would give it. The workspace has three chained projects
// (lib-a ← lib-b ← app, plus app:deploy, which needs app:build) and a cache warm both locally and
// on the loopback self-hosted cache server, as main's CI would have left it.

import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { KEY, RO, RW } from '../fixtures/run-cases.js'
import { pushPayload } from '../fixtures/payloads.js'
import { type CacheServer, startCacheServer } from '../helpers/cache-server.js'
import { compositeStep, runCompositeStep } from '../helpers/composite-step.js'
import { baseNxEnv, makeWorkspace, type Workspace } from '../helpers/nx-workspace.js'
import { runAction } from '../helpers/run-action.js'
import { stripAnsi } from '../../src/rebuild/output.js'
import { REBUILD_TITLE } from '../../src/rebuild/summary.js'
import { parseSummary } from '../helpers/step-summary.js'

jest.setTimeout(180_000)

const PROJECTS = ['lib-a', 'lib-b', 'app']
const TASKS = PROJECTS.map(p => `${p}:build`)
const NX = 'node_modules/.bin/nx'
const REBUILD = `${NX} run-many -t build`

let server: CacheServer
let ws: Workspace
/** The job's environment after the policy step: the machine's base plus what the step exported. */
let jobEnv: NodeJS.ProcessEnv
/** out.txt of each project as the warm cache holds it. */
let cachedOut: Record<string, string>

const outs = (): Record<string, string> =>
  Object.fromEntries(PROJECTS.map(p => [p, readFileSync(join(ws.dir, 'dist', p, 'out.txt'), 'utf8')]))
const deployed = (): string => readFileSync(join(ws.dir, 'deployed', 'app.txt'), 'utf8')
const withoutSkip = (env: NodeJS.ProcessEnv): Record<string, string> => {
  const { NX_SKIP_NX_CACHE: _skip, ...rest } = env
  return rest as Record<string, string>
}
const inputs = (command: string): Record<string, string> => ({
  setup: 'ci-read-write',
  'read-write-token': RW,
  'read-only-token': RO,
  'encryption-key': KEY,
  'self-hosted-cache-url': server.url,
  'rebuild-command': command
})
const rebuild = (command: string, extraEnv: Record<string, string> = {}) =>
  runCompositeStep({ id: 'rebuild', inputs: inputs(command), jobEnv: { ...jobEnv, ...extraEnv }, workspace: ws.dir })

beforeAll(async () => {
  server = await startCacheServer({ [RW]: 'read-write', [RO]: 'read-only' })
  ws = makeWorkspace()
  // app:deploy ships what app:build left in dist/app: the "later ordinary Nx command" of a deploy job.
  writeFileSync(
    join(ws.dir, 'deploy.cjs'),
    "const fs = require('fs'); fs.mkdirSync('deployed', { recursive: true }); fs.copyFileSync('dist/app/out.txt', 'deployed/app.txt');\n"
  )
  const appPkg = join(ws.dir, 'packages', 'app', 'package.json')
  const pkg = JSON.parse(readFileSync(appPkg, 'utf8'))
  pkg.nx.targets.deploy = { command: 'node deploy.cjs', dependsOn: ['build'], cache: false, options: { cwd: '{workspaceRoot}' } }
  writeFileSync(appPkg, JSON.stringify(pkg, null, 2))

  // The policy step, as the runner runs it, on a push to main under setup 2.
  const policy = await runAction({
    event: 'push',
    ref: 'refs/heads/main',
    payload: pushPayload('refs/heads/main'),
    workspace: ws.dir,
    inputs: inputs(REBUILD)
  })
  expect(policy.errors).toEqual([])
  expect(policy.outputs['skip-cache']).toBe('true')
  expect(policy.env).toMatchObject({
    NX_SKIP_NX_CACHE: 'true',
    NX_NO_CLOUD: 'true',
    NX_SELF_HOSTED_REMOTE_CACHE_SERVER: server.url,
    NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: RW,
    NX_CLOUD_ENCRYPTION_KEY: KEY
  })
  jobEnv = baseNxEnv(ws.dir, policy.env)

  // Warm the cache as an earlier CI run would have (same variables, cache not skipped) ...
  const warm = await ws.nx(['run-many', '-t', 'build'], withoutSkip(jobEnv))
  expect(warm.status).toBe(0)
  expect(server.requests.filter(r => r.method === 'PUT' && r.status === 200)).toHaveLength(3)
  cachedOut = outs()
  // ... and prove it warm: locally ...
  const local = await ws.nx(['run-many', '-t', 'build'], withoutSkip(jobEnv))
  for (const t of TASKS) expect(local.output).toMatch(new RegExp(`nx run.*${t}.*\\[local cache\\]`))
  // ... and remotely (an empty local cache folder: every task comes from the server).
  const remote = await ws.nx(['run-many', '-t', 'build'], {
    ...withoutSkip(jobEnv),
    NX_CACHE_DIRECTORY: join(ws.dir, '.nx', 'empty-cache')
  })
  for (const t of TASKS) expect(remote.output).toMatch(new RegExp(`nx run.*${t}.*\\[remote cache\\]`))
  expect(outs()).toEqual(cachedOut)
})

afterAll(async () => {
  await server?.close()
})

describe('action.yml rebuild step', () => {
  it('takes the command from an env var, never from an expression in its script', () => {
    const step = compositeStep('rebuild')
    expect(step.run).not.toContain('${{')
    expect(step.env?.NCA_REBUILD_COMMAND).toBe('${{ inputs.rebuild-command }}')
    expect(step.if).toBe("inputs.rebuild-command != ''")
    expect(step['working-directory']).toBe('${{ inputs.working-directory }}')
  })

  it('rebuilds every task fresh with a warm cache, asks the cache server nothing, and passes', async () => {
    const before = server.requests.length
    const run = await rebuild(REBUILD)
    expect(run.errors).toEqual([])
    expect(run.status).toBe(0)
    expect(run.outputs.rebuilt).toBe(TASKS.join(' '))
    expect(parseSummary(run.summary, REBUILD_TITLE).sections).toEqual([{ heading: 'Built fresh', rows: {}, items: TASKS }])
    // Nx's own output streamed to the log (tee), not only into the captured file.
    expect(stripAnsi(run.log)).toMatch(/Successfully ran target build for 3 projects/)
    expect(server.requests.length).toBe(before)
    const fresh = outs()
    for (const p of PROJECTS) expect(fresh[p]).not.toBe(cachedOut[p])
  })

  // Under the runner's environment Nx prints log groups (static), forwarded arguments after the
  // task id (--quiet, `-- --sourcemap`) and configurations: each rebuild names every task it built.
  it.each([
    ['log groups', `${REBUILD} --output-style=static`, TASKS],
    ['--quiet', `${REBUILD} --quiet`, TASKS],
    ['forwarded arguments', `${NX} build app -- --sourcemap`, TASKS]
  ])('names every task built fresh: %s', async (_form, command, tasks) => {
    const run = await rebuild(command)
    expect(run.errors).toEqual([])
    expect(run.warnings).toEqual([])
    expect(run.status).toBe(0)
    expect(run.outputs.rebuilt).toBe(tasks.join(' '))
  })

  it("puts the kit's verdict after Nx's own run report, under the step's own h2", async () => {
    const pass = await rebuild(REBUILD)
    expect(pass.summary).toMatch(/^## Nx Run Report — `run-many -t build`\n\n### ✅ All tasks succeeded/)
    expect(pass.summary).toContain(`\n## ${REBUILD_TITLE}\n\n**✅ Passed: 3 tasks built fresh, none from a cache**\n`)
    expect(parseSummary(pass.summary, REBUILD_TITLE).verdict).toBe('✅ Passed: 3 tasks built fresh, none from a cache')
    const fail = await rebuild(`NX_SKIP_NX_CACHE=false ${REBUILD}`)
    expect(fail.status).toBe(1)
    // Nx's report says all succeeded (they did, from the cache); the kit's verdict says otherwise.
    expect(fail.summary).toMatch(
      /### ✅ All tasks succeeded[\s\S]*\n## Nx Cloud Access: pre-deploy rebuild\n\n\*\*❌ Failed: 3 tasks served/
    )
    expect(parseSummary(fail.summary, REBUILD_TITLE).verdict).toBe('❌ Failed: 3 tasks served from a cache, deploy nothing')
  })

  it('catches a command that turns the local cache back on, naming the cached tasks', async () => {
    const run = await rebuild(`NX_SKIP_NX_CACHE=false ${REBUILD}`)
    expect(run.status).toBe(1)
    expect(run.errors).toHaveLength(1)
    expect(run.errors[0]).toMatch(/not built fresh.*lib-a:build \[local cache\], lib-b:build \[local cache\], app:build \[local cache\]/)
    expect(run.outputs.rebuilt).toBe('')
    expect(run.summary).toMatch(/served from a cache/)
    expect(outs()).toEqual(cachedOut) // what a deploy would have shipped: the old cached outputs
  })

  it('catches remote cache hits too', async () => {
    const run = await rebuild(`NX_SKIP_NX_CACHE=false NX_CACHE_DIRECTORY="$(mktemp -d)" ${REBUILD}`)
    expect(run.status).toBe(1)
    expect(run.errors).toHaveLength(1)
    expect(run.errors[0]).toMatch(/lib-a:build \[remote cache\], lib-b:build \[remote cache\], app:build \[remote cache\]/)
  })

  it('catches cache hits in --output-style=summary, which names no task, by its counts', async () => {
    const run = await rebuild(`NX_SKIP_NX_CACHE=false ${REBUILD} --output-style=summary`)
    expect(run.status).toBe(1)
    expect(run.errors).toHaveLength(1)
    expect(run.errors[0]).toMatch(/run summary counts 3 task\(s\) from the cache/)
  })

  it("fails the step when a build fails, with the command's exit status", async () => {
    const run = await rebuild(REBUILD, { FAIL_BUILD: 'lib-b' })
    expect(run.status).toBe(1)
    expect(run.errors).toEqual(['The pre-deploy rebuild command failed (exit status 1): deploy nothing from this job.'])
    expect(run.log).toMatch(/build of lib-b failed/)
    expect(run.outputs.rebuilt).toBeUndefined() // the check never ran
    // The step's summary says so, in the shape of the kit's other summaries.
    const summary = parseSummary(run.summary, REBUILD_TITLE)
    expect(summary.verdict).toBe('❌ Failed: the rebuild command failed, deploy nothing')
    expect(summary.cause).toBe(run.errors[0])
    expect(summary.fix).toMatch(/^Fix the build/)
  })

  it('keeps the exit status through the pipe, and fails on any failing line of a multi-line command', async () => {
    expect((await rebuild('echo partial; exit 7')).status).toBe(7)
    const multi = await rebuild(`false\n${REBUILD}`)
    expect(multi.status).toBe(1)
    expect(multi.log).not.toMatch(/Running target build/)
  })

  it('hands the command to the shell intact, quotes and all', async () => {
    const run = await rebuild(`printf '%s' "it's \\"quoted\\" & \\$x" > quoted.txt && ${REBUILD}`)
    expect(run.status).toBe(0)
    expect(readFileSync(join(ws.dir, 'quoted.txt'), 'utf8')).toBe('it\'s "quoted" & $x')
  })

  it('does not run without rebuild-command', async () => {
    expect((await rebuild('')).ran).toBe(false)
  })
})

describe('later Nx commands of the same job', () => {
  it('deploy after the rebuild ships a fresh build, never the cached one', async () => {
    const run = await rebuild(REBUILD)
    expect(run.status).toBe(0)
    const fresh = outs()
    // An ordinary `nx run app:deploy` later in the job, with the job's environment (NX_SKIP_NX_CACHE=true).
    const later = await ws.nx(['run', 'app:deploy'], jobEnv as Record<string, string>)
    expect(later.status).toBe(0)
    expect(later.output).not.toMatch(/\[(local|remote) cache\]/)
    for (const p of PROJECTS) expect(outs()[p]).not.toBe(cachedOut[p])
    expect(deployed()).not.toBe(cachedOut.app)
    expect(deployed()).not.toBe(fresh.app) // built once more, fresh, not restored
  })

  it('deploy with --exclude-task-dependencies ships exactly what the rebuild built, without building again', async () => {
    const run = await rebuild(REBUILD)
    expect(run.status).toBe(0)
    const fresh = outs()
    const later = await ws.nx(['run', 'app:deploy', '--exclude-task-dependencies'], jobEnv as Record<string, string>)
    expect(later.status).toBe(0)
    expect(outs()).toEqual(fresh)
    expect(deployed()).toBe(fresh.app)
  })

  it('(control) without NX_SKIP_NX_CACHE the same deploy restores the old outputs over the fresh build', async () => {
    expect((await rebuild(REBUILD)).status).toBe(0)
    const later = await ws.nx(['run', 'app:deploy'], withoutSkip(jobEnv))
    expect(later.status).toBe(0)
    expect(outs()).toEqual(cachedOut)
    expect(deployed()).toBe(cachedOut.app)
  })
})

describe('setup off: the rebuild alone', () => {
  it('needs no token or key, turns Nx Cloud off, and rebuilds fresh', async () => {
    const offInputs = { setup: 'off', 'rebuild-command': REBUILD }
    const policy = await runAction({
      event: 'push',
      ref: 'refs/heads/main',
      payload: pushPayload('refs/heads/main'),
      workspace: ws.dir,
      inputs: offInputs
    })
    expect(policy.errors).toEqual([])
    expect(policy.env).toEqual({ NX_NO_CLOUD: 'true', NX_SKIP_NX_CACHE: 'true' })
    const old = outs()
    const run = await runCompositeStep({ id: 'rebuild', inputs: offInputs, jobEnv: baseNxEnv(ws.dir, policy.env), workspace: ws.dir })
    expect(run.errors).toEqual([])
    expect(run.status).toBe(0)
    expect(run.outputs.rebuilt).toBe(TASKS.join(' '))
    for (const p of PROJECTS) expect(outs()[p]).not.toBe(old[p])
  })
})
