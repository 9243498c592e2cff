// Read-write for an untrusted run (docs/POLICY.md#setups: setup 3 gives it nx.json's token) is a
// risk, and `explain` shows it as one: `read-write !` in magenta (not a push to main's green), a
// warning line for one run, a legend line under `--all`, and "risk" in --json.

import { describe, expect, it } from '@jest/globals'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KEY, SHARED } from '../fixtures/run-cases.js'
import { runCli } from '../helpers/run-cli.js'

const tmp = mkdtempSync(join(tmpdir(), 'nca-explain-risk-'))
/** Setup 3: the read-write token committed in nx.json, with the key. */
const SHARED_NX = join(tmp, 'shared.json')
writeFileSync(SHARED_NX, JSON.stringify({ nxCloudAccessToken: SHARED, nxCloudEncryptionKey: KEY }))
/** An opaque token (no legacy level): setups 1 and 2 accept it in nx.json, as a read-only one. */
const OPAQUE_NX = join(tmp, 'opaque.json')
writeFileSync(OPAQUE_NX, JSON.stringify({ nxCloudAccessToken: 'opaque-committed-token-7f3a9c', nxCloudEncryptionKey: KEY }))
const RISK = 'untrusted run can write'
const MAGENTA = '\u001b[35m'
const GREEN = '\u001b[32m'

/** The output with colour on, as on a terminal (FORCE_COLOR, since the child's stdout is a pipe). */
function coloured(args: string[]): string {
  const r = runCli(args, { env: { FORCE_COLOR: '1' } })
  expect(r.status).toBe(0)
  return r.stdout
}

describe('one run', () => {
  it.each([
    ['a fork PR', ['--event', 'pull_request', '--head-repo', 'mallory/monorepo']],
    ['pull_request_target', ['--event', 'pull_request_target']],
    ['workflow_run', ['--event', 'workflow_run']]
  ])('%s under shared-read-write: "read-write !", a warning line, and "risk" in --json', (_name, run) => {
    const text = runCli(['explain', ...run, '--setup', '3', '--nx-json', SHARED_NX])
    expect(text.status).toBe(0)
    expect(text.stdout.split('\n')[0]).toMatch(/ under shared-read-write: read-write !$/)
    expect(text.stdout).toMatch(
      new RegExp(
        `^ {2}warning ! ${RISK}: .+ gets read-write access, so what it uploads can reach every run that reads the cache, main included\\.$`,
        'm'
      )
    )
    expect(text.stdout).not.toContain(SHARED)
    const out = JSON.parse(runCli(['explain', ...run, '--setup', '3', '--nx-json', SHARED_NX, '--json']).stdout)
    expect(out).toMatchObject({ access: 'read-write', trusted: false, risk: RISK })
  })

  it('a trusted run that writes carries no risk', () => {
    const text = runCli(['explain', '--event', 'push', '--setup', '3', '--nx-json', SHARED_NX])
    expect(text.stdout.split('\n')[0]).toMatch(/: read-write$/)
    expect(text.stdout).not.toContain('!')
    const out = JSON.parse(runCli(['explain', '--event', 'push', '--setup', '3', '--nx-json', SHARED_NX, '--json']).stdout)
    expect(out).toMatchObject({ access: 'read-write', trusted: true, risk: null })
  })

  it('with colour, the risky access is magenta, a trusted write green', () => {
    const risky = coloured(['explain', '--event', 'pull_request_target', '--setup', '3', '--nx-json', SHARED_NX])
    expect(risky).toContain(`${MAGENTA}read-write !`)
    expect(risky).toContain(`${MAGENTA}warning !`)
    const main = coloured(['explain', '--event', 'push', '--setup', '3', '--nx-json', SHARED_NX])
    expect(main).toContain(`${GREEN}read-write`)
    expect(main).not.toContain(MAGENTA)
  })
})

describe('--all', () => {
  it('untrusted rows that write read "read-write !", with one legend line; --json has risk', () => {
    const r = runCli(['explain', '--all', '--nx-json', OPAQUE_NX])
    expect(r.status).toBe(0)
    for (const run of ['pull request from a fork', 'pull request by Dependabot', 'pull_request_target', 'workflow_run', 'issue_comment']) {
      expect(r.stdout).toMatch(new RegExp(`^${run}\\s+read-only\\s+read-only\\s+read-write !\\s+none$`, 'm'))
    }
    expect(r.stdout).toMatch(/^push to main\s+read-write\s+read-write\s+read-write\s+none$/m)
    expect(
      r.stdout.match(
        /^read-write ! {2}an untrusted run can write: what it uploads can reach every run that reads the cache, main included\.$/gm
      )
    ).toHaveLength(1)

    const runs: { run: string; setup: string; risk: string | null }[] = JSON.parse(
      runCli(['explain', '--all', '--json', '--nx-json', OPAQUE_NX]).stdout
    ).runs
    const risky = runs.filter(x => x.risk !== null)
    expect(risky.every(x => x.risk === RISK && x.setup === 'shared-read-write')).toBe(true)
    expect(risky.map(x => x.run).sort()).toEqual(
      ['issue_comment', 'pull request by Dependabot', 'pull request from a fork', 'pull_request_target', 'workflow_run'].sort()
    )
  })

  it('no legend when no untrusted run writes', () => {
    const r = runCli(['explain', '--all', '--dir', tmp])
    expect(r.stdout).not.toContain('!')
  })

  it('with colour, risky cells are magenta and the table still lines up', () => {
    const out = coloured(['explain', '--all', '--setup', '3', '--nx-json', SHARED_NX])
    expect(out).toContain(`${MAGENTA}read-write !`)
    // eslint-disable-next-line no-control-regex
    const plain = out.replace(/\u001b\[[0-9;]*m/g, '')
    const lines = plain.split('\n')
    const column = lines[0].indexOf('shared-read-write')
    expect(column).toBeGreaterThan(0)
    for (const run of ['push to main', 'pull_request_target', 'release']) {
      expect(lines.find(l => l.startsWith(run))?.indexOf('read-write')).toBe(column)
    }
  })
})
