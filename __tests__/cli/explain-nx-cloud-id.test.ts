// `explain` for nxCloudId workspaces (docs/POLICY.md#no-token), through the bundled command line:
// --nx-json names the nx.json read; a fork's or Dependabot's pull request gets no secrets, so with
// no token it reads through nxCloudId only when workspace-id-access says read-only; `--all` says
// which workspace-id-access its table is for.

import { describe, expect, it } from '@jest/globals'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KEY, RO } from '../fixtures/run-cases.js'
import { REPO_ROOT } from '../helpers/run-action.js'
import { runCli } from '../helpers/run-cli.js'

const CLOUD_ID = '65f1c2a9d4e8b70012345678'
const TOKEN_VARS = ['NX_CLOUD_ACCESS_TOKEN', 'NX_CLOUD_AUTH_TOKEN', 'NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN']
const tmp = mkdtempSync(join(tmpdir(), 'nca-explain-id-'))

function nxJsonFile(name: string, json: Record<string, unknown>): string {
  const file = join(tmp, name)
  writeFileSync(file, JSON.stringify(json, null, 2))
  return file
}

/** nxCloudId and the key committed, no token: how Nx Cloud's guide sets up a workspace. */
const ID_AND_KEY = nxJsonFile('id-and-key.json', { nxCloudId: CLOUD_ID, nxCloudEncryptionKey: KEY })
/** nxCloudId alone: no token, no key. */
const ID_ONLY = nxJsonFile('id-only.json', { nxCloudId: CLOUD_ID })

const FORK = ['--event', 'pull_request', '--head-repo', 'mallory/monorepo']
const DEPENDABOT = ['--event', 'pull_request', '--actor', 'dependabot[bot]']
const READ_ONLY = ['--input', 'workspace-id-access=read-only']

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the printed JSON, read field by field
function json(args: string[]): Record<string, any> {
  const r = runCli(['explain', ...args, '--json'])
  expect(r.stderr).toBe('')
  expect(r.status).toBe(0)
  return JSON.parse(r.stdout)
}

describe('explain --nx-json: a fork or Dependabot PR of an nxCloudId workspace, no token', () => {
  it.each([
    ['a fork PR', FORK, 'GitHub gives a pull request from a fork no secrets'],
    ['a Dependabot PR', DEPENDABOT, "GitHub gives Dependabot's pull requests only Dependabot secrets"]
  ])('%s reads through nxCloudId with workspace-id-access read-only', (_name, run, withheld) => {
    const out = json([...run, '--nx-json', ID_AND_KEY, ...READ_ONLY])
    expect(out).toMatchObject({ access: 'read-only', tokenSource: 'nx.json', viaNxCloudId: true, trusted: false })
    // Short in `reason`, as the action's output; the whole chain in `detail`.
    expect(out.reason).toContain("so it reads through nx.json's nxCloudId with no token (workspace-id-access: read-only)")
    expect(out.detail).toContain("connects through nx.json's nxCloudId with no token")
    expect(out.detail).toContain('the workspace ID access level set in Nx Cloud decides')
    expect(out.fix).toBeNull()
    // No secret is assumed for it: GitHub gives it none.
    expect(out.secretsWithheld).toBe(withheld)
    expect(out.assumed).toEqual([])
    expect(out.workspaceIdAccess).toBe('read-only')
    for (const v of TOKEN_VARS) expect(out.exports[v]).toBe('')
    expect(out.exports.NX_NO_CLOUD).toBeUndefined()
  })

  it.each([
    ['a fork PR', FORK],
    ['a Dependabot PR', DEPENDABOT]
  ])('%s gets Nx Cloud off with workspace-id-access none, and the reason says how to let it read', (_name, run) => {
    for (const wia of [[], ['--input', 'workspace-id-access=none']]) {
      const out = json([...run, '--nx-json', ID_AND_KEY, ...wia])
      expect(out).toMatchObject({ access: 'none', tokenSource: 'none', viaNxCloudId: false, workspaceIdAccess: 'none' })
      expect(out.exports.NX_NO_CLOUD).toBe('true')
      expect(out.reason).toMatch(/is untrusted, and no read-only token is set \(GitHub gives [^)]*\), so no remote cache is used\.$/)
      expect(out.fix).toContain('Set the workspace ID access level to read-only in Nx Cloud, then workspace-id-access: read-only')
    }
  })

  it('text: a run left with no remote cache gets a To fix line under its reason, as the job summary does', () => {
    const r = runCli(['explain', ...FORK, '--nx-json', ID_AND_KEY])
    expect(r.status).toBe(0)
    const lines = r.stdout.split('\n')
    expect(lines[0]).toBe('pull_request refs/pull/1/merge under main-only: none')
    expect(lines[1]).toMatch(/^ {2}main-only: a pull request from the fork mallory\/monorepo is untrusted, and no read-only token is set/)
    expect(lines[2]).toBe(
      "  To fix: Set the workspace ID access level to read-only in Nx Cloud, then workspace-id-access: read-only, to let such runs read through nx.json's nxCloudId."
    )
    expect(r.stdout).toMatch(/^ {2}Rule {10}main-only: [^\n]*so it may only read, but no read-only token is set/m)
  })

  it('text: the access reads "read-only (id)", the token source names nxCloudId, no secret assumed', () => {
    const r = runCli(['explain', ...FORK, '--nx-json', ID_AND_KEY, ...READ_ONLY])
    expect(r.status).toBe(0)
    expect(r.stdout.split('\n')[0]).toBe('pull_request refs/pull/1/merge under main-only: read-only (id)')
    expect(r.stdout).toMatch(/^ {2}Token source {2}nx\.json \(nxCloudId, no token\)$/m)
    expect(r.stdout).toContain('No secret assumed set: GitHub gives a pull request from a fork no secrets')
    expect(r.stdout).not.toContain('Assumed set:')
    expect(r.stdout).not.toContain(KEY)
  })

  it('nxCloudId alone (the key only in a secret): GitHub gives the fork no key; it reads unencrypted by default, and goes without the cache under require-encryption: true, as the action does', () => {
    const out = json([...FORK, '--nx-json', ID_ONLY, ...READ_ONLY])
    expect(out).toMatchObject({ access: 'read-only', tokenSource: 'nx.json', encryption: 'disabled', viaNxCloudId: true })
    const strict = json([...FORK, '--nx-json', ID_ONLY, ...READ_ONLY, '--input', 'require-encryption=true'])
    expect(strict).toMatchObject({ access: 'none', tokenSource: 'none', encryption: 'disabled' })
    expect(strict.exports.NX_NO_CLOUD).toBe('true')
    expect(strict.notices.join('\n')).toContain('commit the key in nx.json')
    // A same-repository PR gets its secrets (assumed set), key included: it reads with read-only-token.
    const same = json(['--event', 'pull_request', '--nx-json', ID_ONLY, ...READ_ONLY])
    expect(same).toMatchObject({ access: 'read-only', tokenSource: 'read-only-token', secretsWithheld: null })
    expect(same.assumed).toEqual(['read-write-token', 'read-only-token', 'encryption-key'])
  })

  it("--nx-json is read instead of the workspace's nx.json; --dir with it is bad usage", () => {
    const ws = mkdtempSync(join(tmp, 'ws-'))
    writeFileSync(join(ws, 'nx.json'), JSON.stringify({ nxCloudAccessToken: RO, nxCloudEncryptionKey: KEY }))
    // The workspace's own nx.json (the current folder): its read-only token.
    const own = runCli(['explain', ...FORK, ...READ_ONLY, '--json'], { cwd: ws })
    expect(JSON.parse(own.stdout)).toMatchObject({ access: 'read-only', tokenSource: 'nx.json', viaNxCloudId: false })
    const named = runCli(['explain', ...FORK, ...READ_ONLY, '--json', '--nx-json', ID_AND_KEY], { cwd: ws })
    expect(JSON.parse(named.stdout)).toMatchObject({ access: 'read-only', tokenSource: 'nx.json', viaNxCloudId: true })
    expect(own.stdout + named.stdout).not.toContain(RO)

    const both = runCli(['explain', ...FORK, '--nx-json', ID_AND_KEY, '--dir', ws])
    expect(both.status).toBe(2)
    expect(both.stdout).toBe('')
    expect(both.stderr).toBe(
      "nx-cloud-access: --nx-json names the nx.json to read; it does not take --dir (give one of the two).\nRun 'nx-cloud-access explain --help' for its options.\n"
    )
    const missing = runCli(['explain', ...FORK, '--nx-json', join(tmp, 'nope.json')])
    expect(missing.status).toBe(2)
    expect(missing.stdout).toBe('')
    expect(missing.stderr).toContain(`--nx-json ${join(tmp, 'nope.json')} cannot be read (no such file)`)
  })
})

describe('explain --all for an nxCloudId workspace', () => {
  type Row = {
    run: string
    setup: string
    access: string
    tokenSource: string
    viaNxCloudId: boolean
    secretsWithheld: string | null
    assumed: string[]
  }
  const all = (args: string[]): { runs: Row[]; workspaceIdAccess: string; nxCloudId: boolean } =>
    json(['--all', ...args]) as { runs: Row[]; workspaceIdAccess: string; nxCloudId: boolean }
  const cell = (runs: Row[], run: string, setup: string): Row => runs.find(x => x.run === run && x.setup === setup) as Row

  it('--json: fork and Dependabot rows get no secrets, and read through nxCloudId only with read-only', () => {
    const ro = all(['--nx-json', ID_AND_KEY, ...READ_ONLY])
    expect(ro).toMatchObject({ workspaceIdAccess: 'read-only', nxCloudId: true })
    for (const run of ['pull request from a fork', 'pull request by Dependabot']) {
      for (const setup of ['main-only', 'ci-read-write']) {
        expect(cell(ro.runs, run, setup)).toMatchObject({ access: 'read-only', tokenSource: 'nx.json', viaNxCloudId: true, assumed: [] })
        expect(cell(ro.runs, run, setup).secretsWithheld).not.toBeNull()
      }
    }
    // Runs GitHub gives secrets keep the assumed ones: a same-repository PR reads with read-only-token.
    expect(cell(ro.runs, 'pull request, same repository', 'main-only')).toMatchObject({
      access: 'read-only',
      tokenSource: 'read-only-token',
      secretsWithheld: null
    })
    expect(cell(ro.runs, 'pull_request_target', 'main-only')).toMatchObject({ tokenSource: 'read-only-token', secretsWithheld: null })

    const none = all(['--nx-json', ID_AND_KEY])
    expect(none).toMatchObject({ workspaceIdAccess: 'none', nxCloudId: true })
    for (const run of ['pull request from a fork', 'pull request by Dependabot']) {
      expect(cell(none.runs, run, 'main-only')).toMatchObject({ access: 'none', tokenSource: 'none', viaNxCloudId: false, assumed: [] })
    }
  })

  it('text: the rows and the line that says which workspace-id-access the table is for', () => {
    const ro = runCli(['explain', '--all', '--setup', '1', '--nx-json', ID_AND_KEY, ...READ_ONLY])
    expect(ro.status).toBe(0)
    expect(ro.stdout).toMatch(/^pull request from a fork\s+read-only \(id\)$/m)
    expect(ro.stdout).toMatch(/^pull request by Dependabot\s+read-only \(id\)$/m)
    expect(ro.stdout).toMatch(/^pull request, same repository\s+read-only$/m)
    expect(ro.stdout).toContain('nx.json has nxCloudId; shown for workspace-id-access read-only')
    expect(ro.stdout).toMatch(/^read-only \(id\) {2}no token: Nx connects through nx.json's nxCloudId/m)
    expect(ro.stdout).toContain(
      "not for pull request from a fork, pull request by Dependabot: GitHub gives those runs none of the repository's secrets"
    )

    const none = runCli(['explain', '--all', '--setup', '1', '--nx-json', ID_AND_KEY])
    expect(none.stdout).toMatch(/^pull request from a fork\s+none$/m)
    expect(none.stdout).toContain('nx.json has nxCloudId; shown for workspace-id-access none (the default)')
    expect(none.stdout).toContain('--input workspace-id-access=read-only')
    expect(none.stdout).not.toContain('(id)')
    expect(ro.stdout + none.stdout).not.toContain(KEY)
  })

  it('without nxCloudId, the footer says workspace-id-access read-only changes nothing', () => {
    const plain = nxJsonFile('no-id.json', { nxCloudEncryptionKey: KEY })
    const r = runCli(['explain', '--all', '--setup', '1', '--nx-json', plain, ...READ_ONLY])
    expect(r.stdout).toContain('workspace-id-access read-only changes nothing here: the nx.json read has no nxCloudId.')
    expect(r.stdout).not.toContain('nx.json has nxCloudId')
  })
})

describe("a developer's env files", () => {
  it('are not read: a token in nx-cloud.env or .env (a developer keeps theirs there) changes nothing, as on a CI checkout', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nca-explain-envfiles-'))
    writeFileSync(join(dir, 'nx.json'), JSON.stringify({ nxCloudId: '65f1c2a9d4e8b70012345678' }))
    const rw = Buffer.from('0b7c3c4e-1d2a-4a5b-9c8d-7e6f5a4b3c2d|read-write').toString('base64')
    writeFileSync(join(dir, 'nx-cloud.env'), `NX_CLOUD_ACCESS_TOKEN=${rw}\n`)
    writeFileSync(join(dir, '.env'), `NX_CLOUD_AUTH_TOKEN=${rw}\n`)
    const r = runCli(['explain', '--event', 'push', '--json'], { cwd: dir })
    expect(r.status).toBe(0)
    expect(JSON.parse(r.stdout).access).toBe('read-write')
    expect(r.stdout + r.stderr).not.toContain(rw)
  })
})

describe("docs/cli.md's explain example", () => {
  it('is what the command prints, word for word', () => {
    const readme = readFileSync(join(REPO_ROOT, 'docs/cli.md'), 'utf8')
    const command = 'npx nx-cloud-access explain --event pull_request --head-repo mallory/monorepo --input workspace-id-access=read-only'
    const m = new RegExp(`\\$ ${command.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n([\\s\\S]*?)\`\`\``).exec(readme)
    expect(m).not.toBeNull()
    const dir = mkdtempSync(join(tmpdir(), 'nca-explain-readme-'))
    writeFileSync(
      join(dir, 'nx.json'),
      JSON.stringify({ nxCloudId: '65f1c2a9d4e8b70012345678', nxCloudEncryptionKey: 'a-key-of-the-workspace' })
    )
    const r = runCli(command.split(' ').slice(2), { cwd: dir })
    expect(r.status).toBe(0)
    expect(r.stdout).toBe((m as RegExpExecArray)[1])
  })
})
