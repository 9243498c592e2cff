// Files that multiply when the audit follows them, which a pull request can commit: a local action
// that uses itself ten times, actions and package.json scripts that call the next ten times for
// seven or eight levels, `parallel:` groups aliased into each other, merge keys that merge the same map ten
// times at every level. Each was a hang (minutes, or for ever) or a stack overflow before; now each
// is judged in well under the deadline, with the findings it should have, and nothing on stderr.
// The bundled CLI is run, as a user or CI runs it.

import { describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { formatText } from '../../src/cli/audit/format.js'
import { run } from '../../src/cli/run.js'
import { CLI } from '../helpers/run-cli.js'

const W = '.github/workflows'
const TOKEN = '${{ secrets.NX_CLOUD_TOKEN }}'

function repo(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'nca-audit-expansion-'))
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true })
    writeFileSync(join(dir, rel), text)
  }
  return dir
}

interface Finding {
  rule: string
  file: string
  line: number
  message: string
}

/** The audit of `dir` as JSON, with a deadline far above its real time (a regression fails, not hangs). */
function audit(dir: string, deadline = 30000): { findings: Finding[]; stderr: string; status: number | null } {
  const r = spawnSync(process.execPath, [CLI, 'audit', dir, '--format', 'json'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    encoding: 'utf8',
    timeout: deadline,
    maxBuffer: 1 << 28,
    killSignal: 'SIGKILL'
  })
  expect((r.error as NodeJS.ErrnoException | undefined)?.code).not.toBe('ETIMEDOUT')
  return { findings: JSON.parse(r.stdout).findings, stderr: r.stderr, status: r.status }
}

/** A pull-request workflow whose job has a secret token in env: and reaches Nx only through `step`. */
function prWorkflow(step: string): string {
  return `on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    env:\n      NX_CLOUD_ACCESS_TOKEN: ${TOKEN}\n    steps:\n${step}\n`
}

describe('what multiplies when followed: judged, not hung', () => {
  it('a local action that uses itself ten times (GitHub would fail such a run): followed once', () => {
    const steps = ['    - run: npx nx build', '      shell: bash', ...Array(10).fill('    - uses: ./.github/actions/a')]
    const dir = repo({
      [`${W}/ci.yml`]: prWorkflow('      - uses: ./.github/actions/a'),
      '.github/actions/a/action.yml': `runs:\n  using: composite\n  steps:\n${steps.join('\n')}\n`
    })
    const r = audit(dir)
    expect(r.stderr).toBe('')
    expect(r.findings.map(f => [f.rule, f.file, f.line])).toContainEqual(['inherited-env-token', `${W}/ci.yml`, 6])
    expect(r.findings.find(f => f.rule === 'inherited-env-token')?.message).toContain('through the local action ./.github/actions/a')
  })

  it('seven levels of actions, each using the next ten times with its own inputs: the Nx at the bottom is found', () => {
    const files: Record<string, string> = { [`${W}/ci.yml`]: prWorkflow('      - uses: ./.github/actions/l0') }
    for (let i = 0; i < 7; i++) {
      const calls = Array.from({ length: 10 }, (_, k) => `    - uses: ./.github/actions/l${i + 1}\n      with:\n        n: "${k}"`)
      files[`.github/actions/l${i}/action.yml`] = `runs:\n  using: composite\n  steps:\n${calls.join('\n')}\n`
    }
    files['.github/actions/l7/action.yml'] = 'runs:\n  using: composite\n  steps:\n    - run: npx nx affected -t build\n      shell: bash\n'
    const r = audit(repo(files))
    expect(r.stderr).toBe('')
    expect(r.findings.map(f => f.rule)).toContain('inherited-env-token')
  })

  it('package.json scripts that call the next ten times for eight levels: the Nx at the bottom is found', () => {
    const scripts: Record<string, string> = { s8: 'nx run-many -t build' }
    for (let i = 0; i < 8; i++)
      scripts[`s${i}`] = Array(10)
        .fill(`npm run s${i + 1}`)
        .join(' && ')
    const r = audit(repo({ [`${W}/ci.yml`]: prWorkflow('      - run: npm run s0'), 'package.json': JSON.stringify({ scripts }) }))
    expect(r.stderr).toBe('')
    expect(r.findings.find(f => f.rule === 'inherited-env-token')?.message).toContain('package.json script s0')
  })

  it('parallel: groups aliased ten times into each other for eight levels: unreadable at the step past 10,000', () => {
    const lines = ['on: pull_request', 'x:', '  p0: &p0', '    - run: npx nx build']
    for (let i = 1; i <= 8; i++) lines.push(`  p${i}: &p${i}`, ...Array(10).fill(`    - parallel: *p${i - 1}`))
    lines.push('jobs:', '  a:', '    runs-on: ubuntu-latest', '    env:', `      NX_CLOUD_ACCESS_TOKEN: ${TOKEN}`, '    steps: *p8')
    const r = audit(repo({ [`${W}/par.yml`]: lines.join('\n') }))
    expect(r.stderr).toBe('')
    expect(r.findings.map(f => [f.rule, f.line])).toEqual([['workflow-unreadable', 4]])
    expect(r.findings[0].message).toBe(
      `${W}/par.yml holds more than 10000 steps once its aliases are expanded (aliased parallel: groups in each other), more than this audit reads, so it could not judge it.`
    )
  })

  it('a few aliased parallel: groups stay readable (the limit is far above real workflows)', () => {
    const lines = [
      'on: pull_request',
      'x:',
      '  g: &g',
      '    - run: npx nx lint',
      '    - run: npx nx test',
      'jobs:',
      '  a:',
      '    runs-on: ubuntu-latest'
    ]
    lines.push('    env:', `      NX_CLOUD_ACCESS_TOKEN: ${TOKEN}`, '    steps:', '      - parallel: *g', '      - parallel: *g')
    const r = audit(repo({ [`${W}/par.yml`]: lines.join('\n') }))
    expect(r.findings.map(f => f.rule)).toContain('inherited-env-token')
  })

  it('merge keys merging the same map ten times at each of fifteen levels: the token merged in is found', () => {
    const lines = ['on: pull_request', 'x:', '  m0: &m0', `    NX_CLOUD_ACCESS_TOKEN: ${TOKEN}`]
    for (let i = 1; i <= 15; i++)
      lines.push(
        `  m${i}: &m${i}`,
        `    <<: [${Array(10)
          .fill(`*m${i - 1}`)
          .join(', ')}]`
      )
    lines.push('jobs:', '  a:', '    runs-on: ubuntu-latest', '    env: *m15', '    steps:', '      - run: npx nx build')
    const r = audit(repo({ [`${W}/merge.yml`]: lines.join('\n') }))
    expect(r.stderr).toBe('')
    // At the anchor, where the fix must be made.
    expect(r.findings.map(f => [f.rule, f.line])).toContainEqual(['inherited-env-token', 4])
  })
})

describe('what multiplies across steps, jobs, callers and findings: judged, not hung or crashed', () => {
  it('a map of 50,000 keys aliased into the env: of 10,000 steps: unreadable past 100,000 entries, not out of memory', () => {
    const keys = Array.from({ length: 50000 }, (_, i) => `k${i}: v`).join(', ')
    const steps = Array(10000).fill('      - {run: npx nx build, env: *e}').join('\n')
    const r = audit(repo({ [`${W}/env.yml`]: `on: pull_request\nx: &e {${keys}}\njobs:\n  a:\n    steps:\n${steps}\n` }))
    expect(r.stderr).toBe('')
    expect(r.findings.map(f => [f.rule, f.file])).toEqual([['workflow-unreadable', `${W}/env.yml`]])
    expect(r.findings[0].message).toContain('holds more than 100000 keys and list items once its aliases are expanded')
  })

  it('a needs: list of 60,000 items aliased into every job: unreadable, not out of memory', () => {
    const jobs = Array.from({ length: 4000 }, (_, i) => `j${i}: {needs: *n}`).join(', ')
    const r = audit(repo({ [`${W}/needs.yml`]: `on: push\nx: &n [${Array(60000).fill('a').join(', ')}]\njobs: {${jobs}}\n` }))
    expect(r.stderr).toBe('')
    expect(r.findings.map(f => f.rule)).toEqual(['workflow-unreadable'])
  })

  it('a reusable workflow of 1,000 steps called with 1,000 different inputs: judged up to a budget, the rest said so', () => {
    const calls = Array.from({ length: 1000 }, (_, i) => `  j${i}:\n    uses: ./${W}/b.yml\n    with: {a: "${i}"}`).join('\n')
    const steps = [
      '      - &s {run: "npx nx build ${{ inputs.a }}", working-directory: "${{ inputs.a }}"}',
      ...Array(999).fill('      - *s')
    ]
    const dir = repo({
      'nx.json': '{"nxCloudId": "abc"}',
      [`${W}/a.yml`]: `on: pull_request\njobs:\n${calls}\n`,
      [`${W}/b.yml`]: `on: workflow_call\njobs:\n  b:\n    steps:\n${steps.join('\n')}\n`
    })
    const r = audit(dir)
    expect(r.stderr).toBe('')
    const budget = r.findings.find(f => f.rule === 'workflow-unreadable')
    expect([budget?.file, budget?.line]).toEqual([`${W}/b.yml`, 1])
    expect(budget?.message).toBe(
      `${W}/b.yml is called by local workflows with 1000 different sets of inputs, and its steps with each set are more than this audit reads (50000 steps over all calls), so it judged it with the first 50 sets only.`
    )
    // What the sets judged find is still reported: the pull requests run Nx with no token.
    expect(r.findings.map(f => [f.rule, f.file])).toContainEqual(['workspace-id-access', `${W}/b.yml`])
  })

  it('60,000 aliased jobs calling one reusable workflow: judged in time', () => {
    const jobs = Array.from({ length: 60000 }, (_, i) => `j${i}: *j`).join(', ')
    const dir = repo({
      'nx.json': '{"nxCloudId": "abc"}',
      [`${W}/a.yml`]: `on: pull_request\nx: &j {uses: ./${W}/b.yml}\njobs: {${jobs}}\n`,
      [`${W}/b.yml`]: 'on: workflow_call\njobs:\n  b:\n    steps:\n      - run: npx nx build\n'
    })
    const r = audit(dir)
    expect(r.stderr).toBe('')
    expect(r.findings.map(f => [f.rule, f.file])).toContainEqual(['workspace-id-access', `${W}/b.yml`])
  })

  it('10,000 jobs sharing one env: token in their own env: and their step env: one finding naming every job, within 10 s', () => {
    const jobs = Array.from({ length: 10000 }, (_, i) => `j${i}: *j`).join(', ')
    const text = [
      'on: pull_request',
      `x: &e {NX_CLOUD_ACCESS_TOKEN: "${TOKEN}"}`,
      'y: &j {env: *e, steps: [{run: npx nx build, env: *e}]}',
      `jobs: {${jobs}}`
    ].join('\n')
    const r = audit(repo({ 'nx.json': '{"nxCloudId": "abc"}', [`${W}/ci.yml`]: text }), 10000)
    expect(r.stderr).toBe('')
    // 20,000 candidates for one key: a finding at the anchor, where the fix must be made.
    const token = r.findings.filter(f => f.rule === 'step-env-token' || f.rule === 'inherited-env-token')
    expect(token.map(f => [f.rule, f.line])).toEqual([['step-env-token', 2]])
    expect(token[0].message).toContain("'j9999'")
  })

  it('100 reusable workflows of 100 jobs that all call each other with secrets: inherit: judged within 10 s', () => {
    const files: Record<string, string> = {}
    for (let i = 0; i < 100; i++) {
      const calls = Array.from({ length: 100 }, (_, j) => `  c${j}: {uses: ./${W}/w${j}.yml, secrets: inherit}`)
      const env = i === 99 ? `, env: {NX_CLOUD_ACCESS_TOKEN: "${TOKEN}"}` : ''
      files[`${W}/w${i}.yml`] =
        `on: [pull_request_target, workflow_call]\njobs:\n${calls.join('\n')}\n  b: {steps: [{run: npx nx build}]${env}}\n`
    }
    const r = audit(repo(files), 10000)
    expect(r.stderr).toBe('')
    // Every job that hands its secrets on reaches the token of w99 (its line 103), through the calls.
    const inherit = r.findings.filter(f => f.rule === 'untrusted-trigger-token' && f.line === 3)
    expect(inherit).toHaveLength(100)
    expect(inherit[0].message).toContain(`puts one in NX_CLOUD_ACCESS_TOKEN (${W}/w99.yml:103)`)
  })

  it('200,000 findings print as text (no spread of them as arguments, which overflows the stack)', () => {
    const findings = Array.from({ length: 200000 }, (_, i) => ({
      rule: 'unpinned-action' as const,
      severity: 'high' as const,
      file: `${W}/f${i % 20}.yml`,
      line: i + 1,
      message: 'm',
      fix: 'f'
    }))
    const io = { out: () => undefined, err: () => undefined, color: false, cwd: '.' }
    const text = formatText(findings, { workflows: 20, failOn: 'high' }, io)
    expect(text).toContain(`${W}/f19.yml\n      20  high    unpinned-action\n`)
    expect(text).toContain('\n  200000  high    unpinned-action\n')
    expect(text.endsWith('200000 findings (200000 high); 200000 at or above --fail-on high.\n')).toBe(true)
  })
})

describe('an internal error', () => {
  it('is one line on stderr naming it as a bug, and exit 3 (not 1, which means findings)', async () => {
    const dir = repo({ [`${W}/ci.yml`]: prWorkflow('      - run: npx nx build') })
    const err: string[] = []
    const io = {
      out: () => {
        throw new Error('write EPIPE')
      },
      err: (t: string) => void err.push(t),
      color: false,
      cwd: dir
    }
    expect(await run(['audit', dir], io)).toBe(3)
    expect(err.join('')).toMatch(/^nx-cloud-access: internal error: write EPIPE\nThis is a bug in nx-cloud-access .*; please report it/)
    expect(err.join('')).not.toContain('    at ')
  })
})
