// `audit` on fixture repositories (__tests__/fixtures/audit/<name>): the exact findings
// (rule, severity, file, line), the exit codes, and SARIF that validates against SARIF 2.1.0.

import { describe, expect, it } from '@jest/globals'
import AjvDraft04 from 'ajv-draft-04'
import ajvFormats from 'ajv-formats'
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { auditRepo, readsSecret } from '../../src/cli/audit/engine.js'
import { readWorkflow } from '../../src/cli/audit/workflow.js'
import { REPO_ROOT } from '../helpers/run-action.js'
import { CLI, runCli } from '../helpers/run-cli.js'

const FIXTURES = join(REPO_ROOT, '__tests__', 'fixtures', 'audit')
const W = '.github/workflows'
// CommonJS packages: under NodeNext their default import is module.exports, whose .default is the class.
const Ajv = AjvDraft04.default
const addFormats = ajvFormats.default

type Row = [rule: string, severity: string, file: string, line: number]

function audit(
  name: string,
  ...args: string[]
): { status: number; rows: Row[]; findings: Record<string, string | number>[]; stderr: string } {
  const r = runCli(['audit', join(FIXTURES, name), '--format', 'json', ...args])
  const findings = r.stdout === '' ? [] : JSON.parse(r.stdout).findings
  return {
    status: r.status,
    stderr: r.stderr,
    findings,
    rows: findings.map((f: Record<string, string | number>) => [f.rule, f.severity, f.file, f.line])
  }
}

describe('clean repositories, one per setup', () => {
  it.each([
    'clean-main-only',
    'clean-ci-read-write',
    'clean-shared-read-write',
    'clean-off',
    'clean-cache-only',
    'clean-self-hosted-cache'
  ])('%s: no findings, exit 0', name => {
    const r = audit(name, '--fail-on', 'info')
    expect(r.rows).toEqual([])
    expect(r.status).toBe(0)
  })
})

describe('what the findings say', () => {})

// What real workflows do (patterns found on public Nx repositories, reproduced in small fixtures
// written for these tests; the repositories themselves are judged in corpus.test.ts).
describe('patterns of real repositories', () => {
  const A = '.github/actions'

  it('Nx run through package.json scripts: a job that runs Nx only through scripts is judged, and the finding names the script', () => {
    const r = audit('scripts-run-nx', '--fail-on', 'info')
    // (nx.json has nxCloudId: a fork's pull request, with no secret, runs Nx at the workspace ID level.)
    expect(r.rows).toEqual([
      ['inherited-env-token', 'high', `${W}/pr.yml`, 3],
      ['workspace-id-access', 'medium', `${W}/pr.yml`, 8]
    ])
    // `pnpm test:pr` → `pnpm build:all` → nx; `yarn build` in apps/site uses apps/site/package.json; `npm run docs` runs no Nx.
    expect(r.findings[0].message).toContain(
      "jobs 'test' (through the package.json script test:pr) and 'site' (through the package.json script build)"
    )
    expect(r.findings[0].message).not.toContain('docs')
  })

  it("local composite actions are followed: the job that builds through one is judged, and a token in the action's step env: is found there", () => {
    const r = audit('local-composite-action', '--fail-on', 'info')
    expect(r.rows).toEqual([
      ['step-env-token', 'high', `${A}/prepare-build/action.yml`, 13],
      ['inherited-env-token', 'high', `${W}/ci.yml`, 6]
    ])
    const inherited = r.findings[1]
    expect(inherited.message).toContain("job 'build' (through the local action ./.github/actions/prepare-build)")
    expect(inherited.message).not.toContain('lint')
  })

  it('steps inside a parallel: group are read: a step-level token there is found', () => {
    expect(audit('parallel-steps', '--fail-on', 'info').rows).toEqual([
      ['workspace-id-access', 'medium', `${W}/ci.yml`, 8],
      ['step-env-token', 'high', `${W}/ci.yml`, 13]
    ])
  })

  it('nested workspaces: the nx.json of each folder a workflow runs Nx in is read, an unused one is not', () => {
    expect(audit('nested-workspace', '--fail-on', 'info').rows).toEqual([
      ['no-encryption-key', 'medium', 'integration/npm/nx.json', 1],
      ['nx-json-read-write-token', 'high', 'integration/npm/nx.json', 3],
      // Reached through a local reusable workflow whose working-directory is its caller's input.
      ['no-encryption-key', 'medium', 'integration/pnpm/nx.json', 1],
      ['nx-json-read-write-token', 'high', 'integration/pnpm/nx.json', 6]
      // Not examples/demo/nx.json: no workflow runs Nx there.
    ])
  })

  it('every finding points at a file that exists', () => {
    // No nx.json at all: the missing key is reported where the workflow brings Nx Cloud in.
    expect(audit('no-nx-json', '--fail-on', 'info').rows).toEqual([['no-encryption-key', 'medium', `${W}/ci.yml`, 8]])
    for (const name of ['no-nx-json', 'nested-workspace', 'token-triggers', 'local-composite-action']) {
      for (const f of audit(name, '--fail-on', 'info').findings) expect(existsSync(join(FIXTURES, name, String(f.file)))).toBe(true)
    }
  })

  it('a repository that does not use the kit is told what the guide recommends and what the kit would do', () => {
    const r = audit('no-kit', '--fail-on', 'info')
    expect(r.rows).toEqual([
      ['no-encryption-key', 'medium', 'nx.json', 1],
      ['nx-json-read-write-token', 'high', 'nx.json', 2]
    ])
    const text = r.findings.map(f => f.message).join(' ')
    expect(text).not.toContain('the kit fails')
    expect(text).not.toContain('under setup')
    expect(text).toContain('The guide commits only a read-only token')
    expect(text).toContain('the kit would refuse to run')
    expect(text).toContain('The guide sets a key in every setup')
    // With the kit in use, the finding speaks of what it does.
    expect(audit('nx-json-read-write-token').findings[0].message).toContain('under setup main-only')
    expect(audit('nx-json-read-write-token').findings[0].message).toContain('(the kit fails such runs)')
  })
})

describe('exit codes', () => {
  it('--fail-on sets the threshold: a medium finding fails at medium, not at high', () => {
    expect(audit('no-encryption-key').status).toBe(0)
    expect(audit('no-encryption-key', '--fail-on', 'medium').status).toBe(1)
    expect(audit('unpinned-action', '--fail-on', 'high').status).toBe(1)
  })

  it.each([
    [['audit', '/nonexistent/dir']],
    [['audit', '.', '--format', 'xml']],
    [['audit', '.', '--fail-on', 'critical']],
    [['audit', '.', '--setup', 'everyone']],
    [['audit', '.', '--bogus']],
    [['audit', 'a', 'b']],
    [['inspect']]
  ])('%j is bad usage: exit 2', args => {
    const r = runCli(args)
    expect(r.status).toBe(2)
    expect(r.stderr).not.toBe('')
  })

  it('a malformed nx.json cannot be audited: exit 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nca-audit-'))
    cpSync(join(FIXTURES, 'clean-main-only'), dir, { recursive: true })
    writeFileSync(join(dir, 'nx.json'), '{ "nxCloudAccessToken": ')
    const r = runCli(['audit', dir])
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('malformed')
  })

  it('a directory where nothing uses Nx Cloud has nothing to report (and needs no key)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nca-audit-'))
    // A folder with neither nx.json nor .github/workflows is not a repository audit can judge: bad usage.
    const empty = runCli(['audit', dir, '--fail-on', 'info'])
    expect(empty.status).toBe(2)
    expect(empty.stderr).toContain('has neither nx.json nor .github/workflows')
    expect(empty.stdout).not.toContain('No findings')
    writeFileSync(join(dir, 'nx.json'), '{ "targetDefaults": {} }')
    expect(runCli(['audit', dir, '--format', 'json', '--fail-on', 'info']).stdout).toBe('{\n  "findings": []\n}\n')
    // Once nx.json names a cloud workspace, the missing key is a finding.
    writeFileSync(join(dir, 'nx.json'), '{ "nxCloudId": "65a1b2c3d4e5f6a7b8c9d0e1" }')
    const r = runCli(['audit', dir, '--format', 'json', '--fail-on', 'medium'])
    expect(JSON.parse(r.stdout).findings.map((f: { rule: string }) => f.rule)).toEqual(['no-encryption-key'])
    expect(r.status).toBe(1)
  })

  it('audits the current directory by default', () => {
    const r = runCli(['audit', '--format', 'json'], { cwd: join(FIXTURES, 'unpinned-action') })
    expect(JSON.parse(r.stdout).findings).toHaveLength(3)
    expect(r.status).toBe(1)
  })
})

describe('no secret or token value is ever printed', () => {
  it.each([
    ['nx-json-read-write-token', 'MGI3YzNjNGUtMWQyYS00YTViLTljOGQtN2U2ZjVhNGIzYzJkfHJlYWQtd3JpdGU='],
    ['inherited-env-token', 'literal-token-in-a-file'],
    ['clean-shared-read-write', 'shared-setup-key']
  ])('%s', (name, value) => {
    // The fixture holds the value, so the check can fail.
    const nxJson = readFileSync(join(FIXTURES, name, 'nx.json'), 'utf8')
    const e2e = name === 'inherited-env-token' ? readFileSync(join(FIXTURES, name, W, 'e2e.yaml'), 'utf8') : ''
    expect(nxJson + e2e).toContain(value)
    for (const format of ['text', 'json', 'sarif']) {
      const r = runCli(['audit', join(FIXTURES, name), '--public', '--format', format])
      expect(r.stdout.length).toBeGreaterThan(0)
      expect(r.stdout + r.stderr).not.toContain(value)
    }
  })
})

describe('text output', () => {
  it('groups findings by file, with line, severity, rule, why and fix; no colour off a terminal', () => {
    const r = runCli(['audit', join(FIXTURES, 'inherited-env-token')])
    expect(r.status).toBe(1)
    const out = r.stdout
    expect(out).not.toContain('\u001b[')
    expect(out.indexOf(`${W}/ci.yml\n`)).toBeGreaterThanOrEqual(0)
    expect(out.indexOf(`${W}/ci.yml\n`)).toBeLessThan(out.indexOf(`${W}/e2e.yaml\n`))
    expect(out).toMatch(/^ {3}6 {2}high {4}inherited-env-token$/m)
    expect(out).toMatch(/^ {2}19 {2}high {4}inherited-env-token$/m)
    expect(out).toContain('Fix: Remove NX_CLOUD_AUTH_TOKEN from env:')
    expect(out).toContain('3 findings (3 high); 3 at or above --fail-on high.')
  })

  it('a clean repository says so', () => {
    const r = runCli(['audit', join(FIXTURES, 'clean-main-only')])
    expect(r.stdout).toBe('No findings in nx.json and 1 workflow file.\n')
  })
})

describe('SARIF', () => {
  const schema = JSON.parse(readFileSync(join(REPO_ROOT, '__tests__', 'fixtures', 'sarif', 'sarif-2.1.0-rtm.5.json'), 'utf8'))
  // The schema's language-tag pattern is not valid under the u flag; ajv must compile it without.
  const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false })
  addFormats(ajv)
  const validate = ajv.compile(schema)

  it.each(['untrusted-trigger-token', 'unpinned-action', 'no-encryption-key', 'clean-main-only'])(
    '%s: valid SARIF 2.1.0 with the same findings',
    name => {
      const r = runCli(['audit', join(FIXTURES, name), '--format', 'sarif'])
      const log = JSON.parse(r.stdout)
      const ok = validate(log)
      expect(validate.errors ?? []).toEqual([])
      expect(ok).toBe(true)
      const json = audit(name).findings
      const results = log.runs[0].results
      expect(
        results.map(
          (x: {
            ruleId: string
            locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[]
          }) => [x.ruleId, x.locations[0].physicalLocation.artifactLocation.uri, x.locations[0].physicalLocation.region.startLine]
        )
      ).toEqual(json.map(f => [f.rule, f.file, f.line]))
      // Exit codes do not depend on the format.
      expect(r.status).toBe(audit(name).status)
    }
  )

  it('maps severities to levels, and every result names a rule of the driver', () => {
    const log = JSON.parse(runCli(['audit', join(FIXTURES, 'unpinned-action'), '--format', 'sarif']).stdout)
    const run = log.runs[0]
    expect(run.results.map((x: { level: string }) => x.level)).toEqual(['error', 'note', 'note'])
    for (const x of run.results) expect(run.tool.driver.rules[x.ruleIndex].id).toBe(x.ruleId)
  })

  it('security-severity only on rules of one severity: a tag-pinned action is not ranked High', () => {
    const log = JSON.parse(runCli(['audit', join(FIXTURES, 'unpinned-action'), '--format', 'sarif']).stdout)
    const rules: { id: string; properties: Record<string, unknown> }[] = log.runs[0].tool.driver.rules
    const byId = new Map(rules.map(r => [r.id, r.properties]))
    expect(byId.get('unpinned-action')).not.toHaveProperty('security-severity')
    expect(byId.get('step-env-token')).toHaveProperty('security-severity', '8.0')
    expect(byId.get('no-encryption-key')).toHaveProperty('security-severity', '5.5')
  })

  it('the validator rejects a broken log (the check can fail)', () => {
    const log = JSON.parse(runCli(['audit', join(FIXTURES, 'unpinned-action'), '--format', 'sarif']).stdout)
    log.runs[0].results[0].locations[0].physicalLocation.region.startLine = 0
    expect(validate(log)).toBe(false)
  })
})

/** The bundled CLI with a deadline: a regression that hangs fails here instead of hanging the suite. */
function runCliWithin(ms: number, args: string[]): { status: number | null; stdout: string; stderr: string; timedOut: boolean } {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    encoding: 'utf8',
    timeout: ms,
    killSignal: 'SIGKILL'
  })
  const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT'
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', timedOut }
}

function cleanCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nca-audit-hostile-'))
  cpSync(join(FIXTURES, 'clean-main-only'), dir, { recursive: true })
  return dir
}

const MIB = 1024 * 1024

describe('files that are not regular files, which a pull request can commit: no crash, no hang', () => {
  // Each makes one entry in .github/workflows of an otherwise clean repository.
  const cases: [string, string, (dir: string, path: string) => void, RegExp][] = [
    ['a dangling symlink', 'dangling.yml', (_d, p) => symlinkSync('nowhere.yml', p), /is a symlink: GitHub reads the link/],
    ['a symlink loop', 'loop.yml', (_d, p) => symlinkSync('loop.yml', p), /is a symlink/],
    ['a symlink to /dev/zero', 'zero.yml', (_d, p) => symlinkSync('/dev/zero', p), /is a symlink/],
    // GitHub reads the committed blob (the link's path), never the file it points to.
    [
      'a symlink to a workflow in the repository',
      'linked.yml',
      (d, p) => {
        cpSync(join(d, W, 'ci.yml'), join(d, 'ci-copy.yml'))
        symlinkSync('../../ci-copy.yml', p)
      },
      /is a symlink/
    ],
    ['a folder', 'x.yml', (_d, p) => mkdirSync(p), /is not a regular file \(a directory\)/],
    [
      'a FIFO',
      'fifo.yml',
      (_d, p) => {
        expect(spawnSync('mkfifo', [p]).status).toBe(0)
      },
      /is not a regular file \(a FIFO\)/
    ],
    ['a file over 1 MiB', 'huge.yml', (_d, p) => writeFileSync(p, `on: push\n${'#'.repeat(MIB)}\n`), /is larger than 1048576 bytes/]
  ]

  it.each(cases)('%s: one workflow-unreadable finding saying why, the findings exit code, no stack trace', (_what, name, make, why) => {
    const dir = cleanCopy()
    make(dir, join(dir, W, name))
    for (const [failOn, code] of [
      ['medium', 1],
      ['high', 0]
    ] as const) {
      const r = runCliWithin(20000, ['audit', dir, '--format', 'json', '--fail-on', failOn])
      expect(r.timedOut).toBe(false)
      expect(r.stderr).toBe('')
      const findings = JSON.parse(r.stdout).findings
      expect(findings.map((f: Record<string, unknown>) => [f.rule, f.severity, f.file, f.line])).toEqual([
        ['workflow-unreadable', 'medium', `${W}/${name}`, 1]
      ])
      expect(findings[0].message).toMatch(why)
      expect(findings[0].message).toMatch(/\S.*\.$/)
      expect(findings[0].fix).toMatch(/\S.*\.$/)
      expect(r.status).toBe(code)
    }
    // The text format too: the finding, and nothing on stderr.
    const text = runCliWithin(20000, ['audit', dir])
    expect(text.stdout).toContain('workflow-unreadable')
    expect(text.stderr).toBe('')
    expect(text.status).toBe(0)
  })

  it('.github/workflows that is a symlink: GitHub runs none of it, and the audit does not follow it', () => {
    const dir = cleanCopy()
    renameSync(join(dir, W), join(dir, 'elsewhere'))
    symlinkSync('../elsewhere', join(dir, W))
    const r = runCliWithin(20000, ['audit', dir, '--format', 'json', '--fail-on', 'medium'])
    expect(r.stderr).toBe('')
    const findings = JSON.parse(r.stdout).findings
    // The workflows behind the link are not read: one unreadable finding (and, as nothing read
    // shows the encryption key the workflows pass, no-encryption-key at nx.json).
    expect(findings.map((f: Record<string, unknown>) => [f.rule, f.file, f.line])).toEqual([
      ['workflow-unreadable', W, 1],
      ['no-encryption-key', 'nx.json', 1]
    ])
    expect(findings[0].message).toContain('runs no workflow through it')
    expect(r.status).toBe(1)
  })

  const nxCases: [string, (dir: string, path: string) => void, string][] = [
    // Refused before anything is opened: the link leaves the repository.
    ['a symlink to /dev/zero', (_d, p) => symlinkSync('/dev/zero', p), 'it is a symlink to a file outside the repository'],
    ['a dangling symlink', (_d, p) => symlinkSync('nowhere.json', p), 'it is a symlink that does not resolve to a file'],
    ['a symlink loop', (_d, p) => symlinkSync('nx.json', p), 'it is a symlink that does not resolve to a file'],
    ['a symlink out of the repository', (_d, p) => symlinkSync('/etc/hostname', p), 'it is a symlink to a file outside the repository'],
    ['a folder', (_d, p) => mkdirSync(p), 'it is not a regular file (a directory)'],
    [
      'a FIFO',
      (_d, p) => {
        expect(spawnSync('mkfifo', [p]).status).toBe(0)
      },
      'it is not a regular file (a FIFO)'
    ],
    ['a file over 1 MiB', (_d, p) => writeFileSync(p, `{}${' '.repeat(MIB)}`), 'it is larger than 1048576 bytes']
  ]

  it.each(nxCases)('nx.json that is %s: bad usage (exit 2) saying why, no stack trace', (_what, make, why) => {
    const dir = cleanCopy()
    rmSync(join(dir, 'nx.json'))
    make(dir, join(dir, 'nx.json'))
    const r = runCliWithin(20000, ['audit', dir])
    expect(r.timedOut).toBe(false)
    expect(r.stderr).toContain(`Cannot read ${join(dir, 'nx.json')}: ${why}.`)
    expect(r.stderr).not.toMatch(/^\s+at /m)
    expect(r.stdout).toBe('')
    expect(r.status).toBe(2)
  })

  it('nx.json that is a symlink to a file in the repository is audited through it, as Nx reads it', () => {
    const dir = cleanCopy()
    mkdirSync(join(dir, 'config'))
    cpSync(join(FIXTURES, 'nx-json-read-write-token', 'nx.json'), join(dir, 'config', 'nx.json'))
    rmSync(join(dir, 'nx.json'))
    symlinkSync('config/nx.json', join(dir, 'nx.json'))
    const r = runCliWithin(20000, ['audit', dir, '--format', 'json'])
    expect(JSON.parse(r.stdout).findings.map((f: Record<string, unknown>) => f.rule)).toEqual(['nx-json-read-write-token'])
    expect(r.status).toBe(1)
  })
})

describe('hostile workflow text: the audit stays linear', () => {
  // Each value grows with n: four times the input takes about four times as long under a linear
  // scan, sixteen under a quadratic one. A ratio, not a wall-clock bound: the machine is shared.
  const variants: [string, (n: number) => string][] = [
    // The secret-expression scan: `${{` that no `}` closes, in a token under an untrusted trigger.
    [
      'repeated ${{',
      n =>
        `on: pull_request_target\njobs:\n  build:\n    runs-on: ubuntu-latest\n    env:\n      NX_CLOUD_ACCESS_TOKEN: "${'${{ '.repeat(n / 4)}"\n    steps:\n      - run: npx nx build\n`
    ],
    // The Nx-command match: an npx flag list that runs across every following `;npx`.
    [
      'repeated -;npx',
      n => `on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: "npx ${'-;npx '.repeat(n / 6)}"\n`
    ],
    // The kit path's trailing slashes.
    [
      'a run of slashes in uses:',
      n => `on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: "a/nx-cloud-access${'/'.repeat(n)}x@v1"\n`
    ],
    // A uses: without its ref, in a ci-read-write job that runs Nx.
    [
      'a run of @ in uses:',
      n =>
        `on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npx nx build\n      - uses: "a${'@'.repeat(n)}\\n"\n`
    ],
    // What a job runs, judged for deploys: many cloud CLI words, many target flags, unclosed quotes.
    [
      'repeated gcloud',
      n =>
        `on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npx nx build\n      - run: "${'gcloud '.repeat(n / 7)}"\n`
    ],
    [
      'repeated -t=',
      n => `on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: "nx run-many ${'-t=-t='.repeat(n / 6)}"\n`
    ],
    [
      'unclosed quotes in run:',
      n =>
        `on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: |\n          npx nx build ${'\'a\\"'.repeat(n / 3)}\n`
    ],
    // A token expression rated for each kind of run: one long identifier chain read by the evaluator.
    [
      'a long expression in a token',
      n =>
        `on: pull_request\nenv:\n  NX_CLOUD_ACCESS_TOKEN: "\${{ ${'a-'.repeat(n / 2)}x && secrets.X || secrets.Y }}"\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npx nx build\n`
    ]
  ]

  function auditText(text: string): void {
    const workflows = new Map([[`${W}/x.yml`, readWorkflow(`${W}/x.yml`, text)]])
    auditRepo({ workflows, nxJson: null }, { setup: 'ci-read-write', public: false })
  }

  /** The process's own CPU time so far, in ms: unlike wall time, not inflated while other processes hold the CPU. */
  function cpuMs(): number {
    const u = process.cpuUsage()
    return (u.user + u.system) / 1000
  }

  /**
   * CPU milliseconds per audit: the best of five rounds of at least 50 ms of CPU each. CPU time,
   * not wall time: on a loaded machine (two suites on two cores) the wall clock counts the time
   * this process waits for a core, which made the ratio below flake.
   */
  function msPerAudit(text: string): number {
    auditText(text) // Warm up: the first call compiles the code it runs.
    let best = Infinity
    for (let round = 0; round < 5; round++) {
      let calls = 0
      const start = cpuMs()
      do {
        auditText(text)
        calls++
      } while (cpuMs() - start < 50)
      best = Math.min(best, (cpuMs() - start) / calls)
    }
    return best
  }

  it.each(variants)('%s: four times the input takes less than eight times as long', (_what, make) => {
    const n = 16 * 1024
    const once = msPerAudit(make(n))
    const fourTimes = msPerAudit(make(4 * n))
    expect(fourTimes / once).toBeLessThan(8)
  })

  it('readsSecret still finds a secret in an expression, and only there', () => {
    expect(readsSecret('${{ secrets.NX }}')).toBe(true)
    expect(readsSecret('${{secrets.NX}}')).toBe(true)
    expect(readsSecret('${{ ${{ x || secrets.NX }}')).toBe(true)
    expect(readsSecret('${{ github.x }} secrets.NX')).toBe(false)
    expect(readsSecret('${{ mysecrets.NX }}')).toBe(false)
    expect(readsSecret('${{ x } secrets.NX }}')).toBe(false)
  })

  it('240 KB of repeated ${{ through the bundled CLI: the finding a short value gets, well within 10 s', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nca-audit-dollar-'))
    mkdirSync(join(dir, W), { recursive: true })
    // Unclosed `${{ ` first, then one `}`, then the secret: every `${{ ` is a start to rescan from.
    writeFileSync(join(dir, W, 'x.yml'), variants[0][1](240 * 1024).replace('"\n', '} ${{ secrets.NX_RW }}"\n'))
    const r = runCliWithin(10000, ['audit', dir, '--format', 'json'])
    expect(r.timedOut).toBe(false)
    expect(JSON.parse(r.stdout).findings.map((f: Record<string, unknown>) => [f.rule, f.file, f.line])).toContainEqual([
      'untrusted-trigger-token',
      `${W}/x.yml`,
      6
    ])
    expect(r.status).toBe(1)
  })
})
