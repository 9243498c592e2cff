// The README's quick start, pasted into the workspace Nx generates today, run as GitHub runs it.
// The workspace comes from Nx's own generator (`nx g @nx/workspace:ci-workflow --ci=github`, the
// package installed from the npm registry, so this runs offline), with nx.json as `nx connect`
// leaves it (nxCloudId, no token, no key). The README's first ```yaml block under "## Quick start"
// is read at test time and replaces the generated workflow: it is the input, not a copy.
// Each run (push to main, same-repo PR, fork PR, Dependabot PR, merge_group, workflow_dispatch),
// with the encryption key secret created or not, gets secrets as GitHub gives them: repository
// secrets to all but forks and Dependabot, the environment's secret only where the job's
// environment expression names it on a branch the environment allows. The expressions are
// evaluated here with @actions/expressions, independently of the command line's own reading.
// The kit's step then runs through the composite-action runner, as the runner runs action.yml.

import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Evaluator, Lexer, Parser, data } from '@actions/expressions'
import { parse } from 'yaml'
import { runCompositeStep, type StepRun } from '../helpers/composite-step.js'
import { baseNxEnv } from '../helpers/nx-workspace.js'
import { REPO_ROOT } from '../helpers/run-action.js'
import { runCli } from '../helpers/run-cli.js'
import { dispatchPayload, mergeGroupPayload, prPayload, pushPayload } from '../fixtures/payloads.js'
import { KEY, RO, RW } from '../fixtures/run-cases.js'

const NX_BIN = join(REPO_ROOT, 'node_modules', 'nx', 'dist', 'bin', 'nx.js')
const CLOUD_ID = '65f1c2a9d4e8b70012345678'
const ENVIRONMENT = 'nx-cloud-write'
/** The environment's deployment branches, as the quick start's checklist sets them. */
const ENVIRONMENT_BRANCHES = ['main']

/* eslint-disable @typescript-eslint/no-explicit-any */
type Yaml = any

interface Run {
  label: string
  /** The row of `explain --workflow` for the same run. */
  explainRow: string
  event: string
  ref: string
  actor: string
  payload: Record<string, unknown>
  /** GitHub gives this run the repository's secrets. */
  secrets: boolean
  /** The branch an environment's deployment branch rule is checked against. */
  branch: string
  access: 'read-write' | 'read-only' | 'none'
}

const RUNS: Run[] = [
  {
    label: 'push to main',
    explainRow: 'push to main',
    event: 'push',
    ref: 'refs/heads/main',
    actor: 'octocat',
    payload: pushPayload('refs/heads/main'),
    secrets: true,
    branch: 'main',
    access: 'read-write'
  },
  {
    label: 'same-repo pull request',
    explainRow: 'pull request, same repository',
    event: 'pull_request',
    ref: 'refs/pull/104/merge',
    actor: 'octocat',
    payload: prPayload(),
    secrets: true,
    branch: 'feature',
    access: 'read-only'
  },
  {
    label: 'fork pull request',
    explainRow: 'pull request from a fork',
    event: 'pull_request',
    ref: 'refs/pull/104/merge',
    actor: 'mallory',
    payload: prPayload({ fork: 'mallory/monorepo' }),
    secrets: false,
    branch: 'feature',
    access: 'none'
  },
  {
    label: 'Dependabot pull request',
    explainRow: 'pull request by Dependabot',
    event: 'pull_request',
    ref: 'refs/pull/104/merge',
    actor: 'dependabot[bot]',
    payload: prPayload({ author: 'dependabot[bot]', headRef: 'dependabot/npm_and_yarn/x' }),
    secrets: false,
    branch: 'dependabot/npm_and_yarn/x',
    access: 'none'
  },
  {
    label: 'merge_group',
    explainRow: 'merge queue into main',
    event: 'merge_group',
    ref: `refs/heads/gh-readonly-queue/main/pr-104-${'c'.repeat(40)}`,
    actor: 'octocat',
    payload: mergeGroupPayload(),
    secrets: true,
    branch: `gh-readonly-queue/main/pr-104-${'c'.repeat(40)}`,
    access: 'read-only'
  },
  {
    label: 'workflow_dispatch on main',
    explainRow: 'workflow_dispatch on main',
    event: 'workflow_dispatch',
    ref: 'refs/heads/main',
    actor: 'octocat',
    payload: dispatchPayload(),
    secrets: true,
    branch: 'main',
    access: 'read-write'
  }
]

// ---- The workspace Nx generates, built once for this file ------------------------------------

let ws: string
let generated: Yaml
let quickStart: string
let workflow: Yaml

/** The README's "## Quick start" section's first ```yaml block, as it is now. */
function quickStartBlock(): string {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('\n## Quick start\n'))
  const block = /^```yaml\n([\s\S]*?)^```/m.exec(section.slice(0, section.indexOf('\n## ', 1)))
  if (!block) throw new Error('README.md: no ```yaml block under ## Quick start')
  return block[1]
}

beforeAll(() => {
  ws = mkdtempSync(join(tmpdir(), 'nca-quick-start-'))
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(ws, 'node_modules'), 'dir')
  writeFileSync(join(ws, 'package.json'), JSON.stringify({ name: 'acme', private: true, devDependencies: { nx: '24.0.6' } }, null, 2))
  writeFileSync(
    join(ws, 'package-lock.json'),
    JSON.stringify({ name: 'acme', lockfileVersion: 3, requires: true, packages: { '': { name: 'acme' } } }, null, 2)
  )
  // As `nx connect` leaves nx.json (it needs Nx Cloud, so it is not run here): nxCloudId, no token, no key.
  writeFileSync(join(ws, 'nx.json'), JSON.stringify({ nxCloudId: CLOUD_ID }, null, 2))
  execFileSync('git', ['init', '-q'], { cwd: ws })
  execFileSync(process.execPath, [NX_BIN, 'g', '@nx/workspace:ci-workflow', '--ci=github', '--name=ci', '--no-interactive'], {
    cwd: ws,
    env: baseNxEnv(ws, {}),
    stdio: 'pipe'
  })
  generated = parse(readFileSync(join(ws, '.github/workflows/ci.yml'), 'utf8'))
  quickStart = quickStartBlock()
  writeFileSync(join(ws, '.github/workflows/ci.yml'), quickStart)
  workflow = parse(quickStart)
}, 180_000)

const actionName = (uses: string): string => uses.split('@')[0]

test("the quick start keeps every step of Nx's generated workflow, and its checkout with the whole history", () => {
  const genSteps: Yaml[] = generated.jobs.main.steps
  const qsSteps: Yaml[] = workflow.jobs.main.steps
  // What Nx generates today: checkout with fetch-depth 0, nx-set-shas before nx affected, nx fix-ci.
  expect(genSteps.map(s => s.uses ?? s.run)).toEqual(
    expect.arrayContaining(['npx nx affected -t lint test build', 'npx nx fix-ci', expect.stringMatching(/^nrwl\/nx-set-shas@/)])
  )
  for (const g of genSteps) {
    const kept = qsSteps.find(q => (g.run !== undefined ? q.run === g.run : q.uses && actionName(q.uses) === actionName(g.uses)))
    expect({ step: g.run ?? g.uses, kept: kept !== undefined }).toEqual({ step: g.run ?? g.uses, kept: true })
    if (g.uses && actionName(g.uses) === 'actions/checkout') expect(kept.with).toMatchObject(g.with)
    if (g.if !== undefined) expect(kept.if).toBe(g.if)
  }
  const order = (pred: (s: Yaml) => boolean): number => qsSteps.findIndex(pred)
  const kit = order(s => typeof s.uses === 'string' && actionName(s.uses) === 'nx-cloud-access/nx-cloud-access')
  expect(kit).toBeGreaterThan(-1)
  expect(kit).toBeLessThan(order(s => s.run === 'npx nx affected -t lint test build'))
  expect(order(s => typeof s.uses === 'string' && s.uses.startsWith('nrwl/nx-set-shas@'))).toBeLessThan(
    order(s => s.run === 'npx nx affected -t lint test build')
  )
  expect(workflow.permissions).toEqual(generated.permissions)
  // The token is not committed: the generated workspace's nx.json has nxCloudId and nothing secret.
  const nxJson = JSON.parse(readFileSync(join(ws, 'nx.json'), 'utf8'))
  expect(nxJson.nxCloudId).toBe(CLOUD_ID)
  expect(nxJson.nxCloudAccessToken).toBeUndefined()
  expect(nxJson.nxCloudEncryptionKey).toBeUndefined()
})

// ---- GitHub's side, worked out here: environment, secrets, the step's with: -------------------

function toData(v: Yaml): data.ExpressionData {
  if (v === null || v === undefined) return new data.Null()
  if (typeof v === 'string') return new data.StringData(v)
  if (typeof v === 'boolean') return new data.BooleanData(v)
  if (typeof v === 'number') return new data.NumberData(v)
  return new data.Dictionary(...Object.entries(v).map(([key, value]) => ({ key, value: toData(value) })))
}

/** A workflow value with its ${{ }} evaluated by GitHub's evaluator. */
function evaluate(value: string, ctx: Record<string, Yaml>): string {
  return value.replace(/\$\{\{([\s\S]*?)\}\}/g, (_, body: string) => {
    const expr = new Parser(new Lexer(body).lex().tokens, Object.keys(ctx), []).parse()
    return new Evaluator(expr, toData(ctx) as data.Dictionary).evaluate().coerceString()
  })
}

interface Given {
  environment: string
  secrets: Record<string, string>
  inputs: Record<string, string>
}

/**
 * What GitHub hands the job on this run. `rwAt`: where the read-write secret lives — in the
 * environment, as the quick start says, or (to show the warning) as a repository secret.
 */
function given(run: Run, opts: { key: boolean; rwAt?: 'environment' | 'repository' }): Given {
  const github = { event_name: run.event, ref: run.ref, actor: run.actor, event: run.payload }
  const job = workflow.jobs.main
  const name = typeof job.environment === 'string' ? job.environment : (job.environment?.name ?? '')
  const environment = evaluate(name, { github })
  const repository: Record<string, string> = { NX_CLOUD_READ_ONLY_TOKEN: RO }
  if (opts.key) repository.NX_CLOUD_ENCRYPTION_KEY = KEY
  if (opts.rwAt === 'repository') repository.NX_CLOUD_READ_WRITE_TOKEN = RW
  const secrets: Record<string, string> = run.secrets ? { ...repository } : {}
  if (environment !== '') {
    // A job naming an environment on a branch it does not allow never starts: the quick start must not.
    expect({ run: run.label, environment, allowed: ENVIRONMENT_BRANCHES.includes(run.branch) }).toEqual({
      run: run.label,
      environment: ENVIRONMENT,
      allowed: true
    })
    if (run.secrets && opts.rwAt !== 'repository') secrets.NX_CLOUD_READ_WRITE_TOKEN = RW
  }
  const step = job.steps.find((s: Yaml) => typeof s.uses === 'string' && actionName(s.uses) === 'nx-cloud-access/nx-cloud-access')
  const inputs: Record<string, string> = {}
  for (const [k, v] of Object.entries(step.with as Record<string, unknown>)) inputs[k] = evaluate(String(v), { github, secrets })
  return { environment, secrets, inputs }
}

async function runKit(run: Run, g: Given): Promise<StepRun> {
  return runCompositeStep({
    id: 'policy',
    inputs: g.inputs,
    jobEnv: {},
    workspace: ws,
    run: { event: run.event, ref: run.ref, actor: run.actor, payload: run.payload }
  })
}

// ---- Every run, with the key secret created or not -------------------------------------------

const CASES = RUNS.flatMap(r => [true, false].map(key => [r.label, key ? 'key secret created' : 'no key secret', r, key] as const))
const results = new Map<string, StepRun>()

describe('the quick start as pasted: the kit step on every run, as the runner runs it', () => {
  test.each(CASES)('%s, %s', async (_label, _k, run, key) => {
    const g = given(run, { key })
    const r = await runKit(run, g)
    results.set(`${run.label}|${key}`, r)
    expect(r.ran).toBe(true)
    expect({ status: r.status, errors: r.errors }).toEqual({ status: 0, errors: [] })
    expect(r.outputs.access).toBe(run.access)
    // The read-write secret reaches exactly the runs that write, and is exported only there.
    expect(g.inputs['read-write-token'] !== '').toBe(run.access === 'read-write')
    if (run.access === 'read-write') expect(r.env.NX_CLOUD_ACCESS_TOKEN).toBe(RW)
    else expect(Object.values(r.env)).not.toContain(RW)
    if (run.access === 'read-only') expect(r.env.NX_CLOUD_ACCESS_TOKEN).toBe(RO)
    if (run.access === 'none') {
      expect(r.env.NX_NO_CLOUD).toBe('true')
      // One notice, saying GitHub gave no secrets, that nothing failed, and how to let such runs read.
      const notices = [...r.log.matchAll(/^::notice::(.*)$/gm)].map(m => m[1])
      expect(notices).toHaveLength(1)
      expect(notices[0]).toMatch(/^GitHub gives .*secrets, so this run .* runs without the remote cache; it is not failed for it/)
    }
    // The key: exported where GitHub gives it; its absence said, and warned of where the run writes.
    const keyGiven = key && run.secrets
    expect(r.outputs.encryption).toBe(keyGiven ? 'enabled' : 'disabled')
    expect(r.env.NX_CLOUD_ENCRYPTION_KEY).toBe(keyGiven ? KEY : undefined)
    const unencrypted = r.warnings.filter(w => w.startsWith('This run writes to the Nx Cloud cache unencrypted'))
    expect(unencrypted).toHaveLength(!keyGiven && run.access === 'read-write' ? 1 : 0)
    if (!keyGiven && run.access !== 'none') expect(r.summary).toContain('not end-to-end encrypted')
    // The quick start never hands the read-write secret to a run that may not write.
    expect(r.warnings.filter(w => w.includes("Input 'read-write-token' is set on a run that may not write"))).toEqual([])
    for (const secret of [RW, RO, KEY]) expect(r.log.replace(/^::add-mask::.*$/gm, '')).not.toContain(secret)
  })

  test.each(RUNS.filter(r => r.access === 'none').map(r => [r.label, r] as const))(
    '%s: nx fix-ci, the last step Nx generates, does not fail the job under the exported NX_NO_CLOUD=true',
    (_label, run) => {
      const r = results.get(`${run.label}|true`) as StepRun
      const fix = spawnSync(process.execPath, [NX_BIN, 'fix-ci'], {
        cwd: ws,
        env: baseNxEnv(ws, r.env as Record<string, string>),
        encoding: 'utf8'
      })
      expect(fix.status).toBe(0)
      expect(fix.stdout + fix.stderr).toContain('Nx Cloud is not enabled')
    }
  )
})

describe("the checklist's other choice: the workspace ID access level read-only, and workspace-id-access: read-only added", () => {
  test.each(RUNS.filter(r => !r.secrets).map(r => [r.label, r] as const))(
    '%s reads through nxCloudId with no token, not failed, with no notice of its own',
    async (_label, run) => {
      const g = given(run, { key: true })
      const r = await runKit(run, { ...g, inputs: { ...g.inputs, 'workspace-id-access': 'read-only' } })
      expect([r.status, r.errors, r.outputs.access, r.outputs['token-source']]).toEqual([0, [], 'read-only', 'nx.json'])
      expect(r.env.NX_NO_CLOUD).toBeUndefined()
      expect(r.env.NX_CLOUD_ACCESS_TOKEN).toBe('')
      expect(r.log).not.toMatch(/^::notice::/m)
    }
  )
})

describe('the read-write token as a repository secret instead (what the quick start avoids)', () => {
  test('a same-repo pull request gets it, reads, and warns once where it went and how to move it, never printing it', async () => {
    const run = RUNS[1]
    const g = given(run, { key: true, rwAt: 'repository' })
    expect(g.inputs['read-write-token']).toBe(RW)
    const r = await runKit(run, g)
    expect([r.status, r.outputs.access]).toEqual([0, 'read-only'])
    const moved = r.warnings.filter(w => w.startsWith("Input 'read-write-token' is set on a run that may not write"))
    expect(moved).toHaveLength(1)
    expect(moved[0]).toContain('GitHub environment')
    expect(moved[0]).toContain('delete the repository (or organization) secret of that name')
    expect(r.log.replace(/^::add-mask::.*$/gm, '')).not.toContain(RW)
    expect(Object.values(r.env)).not.toContain(RW)
  })
})

// ---- explain --workflow against the action, and the README's table ---------------------------

describe('explain --workflow on the pasted quick start', () => {
  const ENV_SECRET = ['--environment-secret', `${ENVIRONMENT}=NX_CLOUD_READ_WRITE_TOKEN`]

  test.each([true, false])('each run gets what the action decided (key secret created: %s)', async key => {
    const args = [
      'explain',
      '--workflow',
      '.github/workflows/ci.yml',
      ...ENV_SECRET,
      ...(key ? [] : ['--unset-secret', 'NX_CLOUD_ENCRYPTION_KEY'])
    ]
    const out = runCli([...args, '--json'], { cwd: ws })
    expect(out.status).toBe(0)
    const rows = JSON.parse(out.stdout).runs as Yaml[]
    expect(rows.map(r => r.run)).toEqual(RUNS.map(r => r.explainRow))
    for (const run of RUNS) {
      const action = results.get(`${run.label}|${key}`) ?? (await runKit(run, given(run, { key })))
      const row = rows.find(r => r.run === run.explainRow)
      expect({ run: run.label, access: row.access, source: row.tokenSource, encryption: row.encryption, error: row.error }).toEqual({
        run: run.label,
        access: action.outputs.access,
        source: action.outputs['token-source'],
        encryption: action.outputs.encryption,
        error: null
      })
      expect({ run: run.label, environment: row.environment }).toEqual({ run: run.label, environment: given(run, { key }).environment })
      expect({ run: run.label, warnings: row.warnings.length }).toEqual({ run: run.label, warnings: action.warnings.length })
    }
    expect(out.stdout).not.toContain(RW)
  })

  test("the README's table is what explain --workflow prints for the quick start", () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')
    const shown = /prints it \(secrets as GitHub gives them\):\n\n```text\n([\s\S]*?)```/.exec(readme)
    expect(shown).not.toBeNull()
    const out = runCli(['explain', '--workflow', '.github/workflows/ci.yml', ...ENV_SECRET], { cwd: ws, env: { NO_COLOR: '1' } })
    expect(out.status).toBe(0)
    const table = out.stdout.split('\n\n').slice(0, 2).join('\n\n')
    expect((shown as RegExpExecArray)[1].trimEnd()).toBe(table.trimEnd())
  })

  test('a job that asks for the environment on a branch it does not allow: explain says GitHub fails the job, exit 1', () => {
    const out = runCli(
      ['explain', '--workflow', '.github/workflows/ci.yml', ...ENV_SECRET, '--environment-branches', `${ENVIRONMENT}=release/*`],
      { cwd: ws }
    )
    expect(out.status).toBe(1)
    expect(out.stdout).toMatch(/push to main +nx-cloud-write +.* job fails/)
    expect(out.stdout).toContain("do not include 'main': GitHub fails the job before any step runs")
  })
})
