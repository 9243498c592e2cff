// `explain --workflow`: bad usage, and what it reads from a workflow beyond the quick start (whose
// rows are checked against the action itself in __tests__/token-step/quick-start.e2e.test.ts).

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli } from '../helpers/run-cli.js'

/* eslint-disable @typescript-eslint/no-explicit-any */

function repo(workflow: string, nxJson: Record<string, unknown> = { nxCloudId: '65f1c2a9d4e8b70012345678' }): string {
  const dir = mkdtempSync(join(tmpdir(), 'nca-explain-wf-'))
  mkdirSync(join(dir, '.github/workflows'), { recursive: true })
  writeFileSync(join(dir, '.github/workflows/ci.yml'), workflow)
  writeFileSync(join(dir, 'nx.json'), JSON.stringify(nxJson))
  return dir
}

const KIT_JOB = (withLines: string, extra = ''): string => `on:
  push:
    branches: [main]
  pull_request:
jobs:
  main:
    runs-on: ubuntu-latest
${extra}    steps:
      - uses: nx-cloud-access/nx-cloud-access@v1
        with:
${withLines}
`

function rows(dir: string, args: string[] = []): any[] {
  const r = runCli(['explain', '--workflow', '.github/workflows/ci.yml', ...args, '--json'], { cwd: dir })
  return JSON.parse(r.stdout).runs
}

describe('bad usage exits 2 with one message', () => {
  const dir = repo(KIT_JOB('          read-write-token: ${{ secrets.RW }}'))
  test.each([
    [['--event', 'push'], '--workflow reads the step'],
    [['--input', 'setup=off'], 'it does not take --input'],
    [['--all'], 'it does not take --all'],
    [['--environment-secret', 'nope'], '--environment-secret takes ENVIRONMENT=VALUE'],
    [['--job', 'other'], "--job 'other' is not a job of"]
  ])('%j', (extra, words) => {
    const r = runCli(['explain', '--workflow', '.github/workflows/ci.yml', ...extra], { cwd: dir })
    expect(r.status).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain(words)
  })

  test('--job without --workflow', () => {
    const r = runCli(['explain', '--event', 'push', '--job', 'main'], { cwd: dir })
    expect([r.status, r.stderr]).toEqual([2, expect.stringContaining('describes a --workflow run')])
  })

  test('a workflow with no job using the kit, and one with two', () => {
    const none = repo('on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n')
    expect(runCli(['explain', '--workflow', '.github/workflows/ci.yml'], { cwd: none }).stderr).toContain(
      'no job uses nx-cloud-access/nx-cloud-access'
    )
    const step = '      - uses: nx-cloud-access/nx-cloud-access@v1\n'
    const two = repo(`on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n${step}  b:\n    runs-on: x\n    steps:\n${step}`)
    const r = runCli(['explain', '--workflow', '.github/workflows/ci.yml'], { cwd: two })
    expect([r.status, r.stderr]).toEqual([
      2,
      expect.stringContaining('several jobs use nx-cloud-access/nx-cloud-access (a, b): name one with --job')
    ])
    expect(runCli(['explain', '--workflow', '.github/workflows/ci.yml', '--job', 'b', '--json'], { cwd: two }).status).toBe(0)
  })

  test('a missing workflow file', () => {
    const r = runCli(['explain', '--workflow', 'nope.yml'], { cwd: dir })
    expect([r.status, r.stderr]).toEqual([2, expect.stringContaining('cannot be read (no such file)')])
  })
})

describe('what GitHub gives each run', () => {
  test('a read-write token kept as a repository secret reaches the same-repo pull request: the row says so, never the value', () => {
    const dir = repo(KIT_JOB('          read-write-token: ${{ secrets.RW }}\n          encryption-key: ${{ secrets.KEY }}'))
    const r = runCli(['explain', '--workflow', '.github/workflows/ci.yml'], { cwd: dir })
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/pull request, same repository +- +read-write-token, encryption-key +none +1 warning/)
    expect(r.stdout).toContain("Input 'read-write-token' is set on a run that may not write")
    expect(r.stdout).not.toContain('stand-in-for-secret')
    const pr = rows(dir).find(x => x.run === 'pull request, same repository')
    expect(pr.secretsGiven).toEqual(['RW', 'KEY'])
  })

  test('env: at workflow, job and step level is evaluated with the run’s secrets and reaches the decision', () => {
    const dir = repo(
      KIT_JOB('          read-only-token: ${{ secrets.RO }}', "    env:\n      NX_NO_CLOUD: ${{ github.event_name == 'pull_request' }}\n")
    )
    const pr = rows(dir).find(x => x.run === 'pull request, same repository')
    expect([pr.access, pr.warnings.join(' ')]).toEqual(['none', expect.stringContaining('NX_NO_CLOUD=true is set')])
    const push = rows(dir).find(x => x.run === 'push to main')
    expect(push.access).toBe('read-only')
  })

  test("a step whose if: is false on a run is shown as skipped, and the push's branch filter picks the runs", () => {
    const wf = KIT_JOB('          read-only-token: ${{ secrets.RO }}').replace(
      '      - uses: nx-cloud-access/nx-cloud-access@v1\n',
      "      - uses: nx-cloud-access/nx-cloud-access@v1\n        if: github.event_name == 'push'\n"
    )
    const out = rows(repo(wf))
    expect(out.map(x => x.run)).toEqual([
      'push to main',
      'pull request, same repository',
      'pull request from a fork',
      'pull request by Dependabot'
    ])
    expect(out.map(x => x.skipped)).toEqual([false, true, true, true])
  })

  test('require-encryption: true with no key: the rows fail as the action does, exit 1', () => {
    const dir = repo(KIT_JOB("          read-only-token: ${{ secrets.RO }}\n          require-encryption: 'true'"))
    const r = runCli(['explain', '--workflow', '.github/workflows/ci.yml'], { cwd: dir })
    expect(r.status).toBe(1)
    expect(r.stdout).toMatch(/push to main +- +read-only-token, require-encryption +fails +error/)
    // A fork gets no secrets and no key: it is not failed, it goes without the cache.
    expect(r.stdout).toMatch(/pull request from a fork +- +require-encryption +none +1 notice/)
  })
})
