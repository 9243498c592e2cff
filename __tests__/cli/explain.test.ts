// `explain` through the bundled command line: the shared RUN_CASES table (the same runs the
// action's end-to-end tests use) must get the same access from a real-shaped payload file.

import { describe, expect, it } from '@jest/globals'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KEY, RO, RUN_CASES, RW, SHARED } from '../fixtures/run-cases.js'
import { runCli } from '../helpers/run-cli.js'

const tmp = mkdtempSync(join(tmpdir(), 'nca-explain-'))

function caseArgs(c: (typeof RUN_CASES)[number], i: number, withRef = true): string[] {
  const file = join(tmp, `payload-${i}.json`)
  writeFileSync(file, JSON.stringify(c.payload))
  const inputs = { 'read-write-token': RW, 'read-only-token': RO, 'encryption-key': KEY, ...c.inputs }
  let dir = tmp
  if (c.nxJsonToken !== undefined) {
    dir = mkdtempSync(join(tmp, 'ws-'))
    writeFileSync(join(dir, 'nx.json'), JSON.stringify({ nxCloudAccessToken: c.nxJsonToken }))
  }
  return [
    'explain',
    '--payload',
    file,
    '--event',
    c.event,
    ...(withRef ? ['--ref', c.ref] : []),
    '--setup',
    c.setup,
    ...(c.actor ? ['--actor', c.actor] : []),
    ...Object.entries(inputs).flatMap(([k, v]) => ['--input', `${k}=${v}`]),
    '--dir',
    dir,
    '--json'
  ]
}

describe('explain --payload agrees with the shared table of runs', () => {
  it.each(RUN_CASES.map((c, i) => [c.name, c, i] as const))('%s', (_name, c, i) => {
    const r = runCli(caseArgs(c, i))
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out.access).toBe(c.expect.access)
    expect(out.tokenSource).toBe(c.expect.tokenSource)
    // What would be exported shows no secret, only ***.
    for (const secret of [RW, RO, KEY, SHARED]) expect(r.stdout).not.toContain(secret)
    if (c.reason !== undefined) expect(out.reason).toContain(c.reason)
    if (c.expect.access !== 'none') expect(out.exports.NX_CLOUD_ACCESS_TOKEN).toBe('***')
  })
})

describe('explain --payload without --ref: the ref GitHub would set, from the payload alone', () => {
  it.each(RUN_CASES.map((c, i) => [c.name, c, i] as const))('%s', (_name, c, i) => {
    const r = runCli(caseArgs(c, i, false))
    expect(r.stderr).toBe('')
    const out = JSON.parse(r.stdout)
    expect(out.ref).toBe(c.ref)
    expect(out.access).toBe(c.expect.access)
    expect(out.tokenSource).toBe(c.expect.tokenSource)
  })
})

describe('the ref of a payload outside the shared table', () => {
  it.each([
    ['pull_request_target', { pull_request: { number: 7, base: { ref: 'release/2' }, head: { ref: 'x' } } }, 'refs/heads/release/2'],
    ['create', { ref: 'v2.0.0', ref_type: 'tag' }, 'refs/tags/v2.0.0'],
    ['create', { ref: 'topic', ref_type: 'branch' }, 'refs/heads/topic']
  ])('%s %j: %s', (event, payload, ref) => {
    const file = join(tmp, `ref-${event}-${ref.replace(/\W/g, '_')}.json`)
    writeFileSync(file, JSON.stringify({ ...payload, repository: { full_name: 'acme/monorepo', default_branch: 'main' } }))
    expect(JSON.parse(runCli(['explain', '--payload', file, '--event', event, '--json', '--dir', tmp]).stdout).ref).toBe(ref)
  })
})

describe('explain from flags', () => {
  it('a PR from a fork is untrusted under ci-read-write, and says why', () => {
    const r = runCli(['explain', '--event', 'pull_request', '--head-repo', 'mallory/fork', '--setup', '2', '--json', '--dir', tmp])
    expect(r.status).toBe(0)
    const out = JSON.parse(r.stdout)
    // GitHub gives it no secrets, and this directory has no nx.json: nothing to read with.
    expect(out).toMatchObject({ access: 'none', setup: 'ci-read-write', trusted: false, tokenSource: 'none', assumed: [] })
    expect(out.reason).toContain('mallory/fork')
    // A read-only token and key it is given (not from secrets) are used: given inputs are never dropped.
    const given = runCli([
      'explain',
      '--event',
      'pull_request',
      '--head-repo',
      'mallory/fork',
      '--setup',
      '2',
      '--input',
      'read-only-token=given-ro',
      '--input',
      'encryption-key=given-key',
      '--json',
      '--dir',
      tmp
    ])
    expect(JSON.parse(given.stdout)).toMatchObject({ access: 'read-only', tokenSource: 'read-only-token' })
  })

  it('a same-repository PR by dependabot[bot] is untrusted and gets no secrets; by a person it writes (setup 2)', () => {
    const bot = runCli(['explain', '--event', 'pull_request', '--actor', 'dependabot[bot]', '--setup', '2', '--json', '--dir', tmp])
    const human = runCli(['explain', '--event', 'pull_request', '--actor', 'octocat', '--setup', '2', '--json', '--dir', tmp])
    expect(JSON.parse(bot.stdout)).toMatchObject({ trusted: false, access: 'none', assumed: [] })
    expect(JSON.parse(bot.stdout).secretsWithheld).toContain('Dependabot')
    expect(JSON.parse(human.stdout).access).toBe('read-write')
  })

  it('a merge queue ref names its target; it writes only when merge_group is a write event', () => {
    const ref = 'refs/heads/gh-readonly-queue/main/pr-9-' + 'a'.repeat(40)
    const base = ['explain', '--event', 'merge_group', '--ref', ref, '--json', '--dir', tmp]
    expect(JSON.parse(runCli(base).stdout).access).toBe('read-only')
    expect(JSON.parse(runCli([...base, '--input', 'write-events=push,merge_group']).stdout).access).toBe('read-write')
  })

  it('text output: the decision, the rule and the exports, secrets as ***', () => {
    const r = runCli(['explain', '--event', 'push', '--ref', 'refs/heads/main', '--input', `read-write-token=${RW}`, '--dir', tmp])
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('push refs/heads/main under main-only: read-write')
    expect(r.stdout).toContain('matches write-branches (main')
    expect(r.stdout).toContain('NX_CLOUD_ACCESS_TOKEN=***')
    expect(r.stdout).not.toContain(RW)
    expect(r.stdout).not.toContain('\u001b[')
  })

  it('a read-only run says its uploads stay in a cache isolated to its branch (text and JSON)', () => {
    const args = ['explain', '--event', 'pull_request', '--dir', tmp]
    const note = /cache isolated to this branch/
    expect(runCli(args).stdout).toMatch(note)
    expect(JSON.parse(runCli([...args, '--json']).stdout).notes.join(' ')).toMatch(note)
    // Not when the run writes, nor when Nx Cloud is off.
    expect(runCli(['explain', '--event', 'push', '--ref', 'refs/heads/main', '--dir', tmp]).stdout).not.toMatch(note)
    expect(runCli([...args, '--setup', 'off']).stdout).not.toMatch(note)
  })

  it('an empty read-write-token: the run reads only and the warning says so', () => {
    const r = runCli(['explain', '--event', 'push', '--ref', 'refs/heads/main', '--input', 'read-write-token=', '--json', '--dir', tmp])
    const out = JSON.parse(r.stdout)
    expect(out.access).toBe('read-only')
    expect(out.warnings.join(' ')).toContain("'read-write-token' is empty")
  })

  it('a read-write token committed in nx.json under main-only: the action would fail the run (exit 1)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nca-explain-nx-'))
    writeFileSync(join(dir, 'nx.json'), JSON.stringify({ nxCloudAccessToken: RW, nxCloudEncryptionKey: KEY }))
    const r = runCli(['explain', '--event', 'push', '--ref', 'refs/heads/main', '--json', '--dir', dir])
    expect(r.status).toBe(1)
    const out = JSON.parse(r.stdout)
    expect(out.access).toBe('none')
    expect(out.error).toContain('commits a read-write Nx Cloud token')
    expect(r.stdout).not.toContain(RW)
    expect(r.stdout).not.toContain(KEY)
    // Under shared-read-write the same nx.json is the premise, and every run writes with it.
    const shared = runCli([
      'explain',
      '--event',
      'pull_request',
      '--head-repo',
      'x/y',
      '--setup',
      '3',
      '--input',
      'read-write-token=',
      '--json',
      '--dir',
      dir
    ])
    expect(JSON.parse(shared.stdout)).toMatchObject({ access: 'read-write', tokenSource: 'nx.json' })
  })

  it('a failing run masks exactly the secrets: not the setup, and a secret however short', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nca-k9z-'))
    writeFileSync(join(dir, 'nx.json'), JSON.stringify({ nxCloudAccessToken: RW, nxCloudEncryptionKey: KEY }))
    const args = ['explain', '--event', 'push', '--setup', 'main-only', '--env', 'FOO=nx.json', '--json', '--dir', dir]
    const error = (extra: string[]): string => JSON.parse(runCli([...args, ...extra]).stdout).error
    expect(error([])).toContain("Input 'setup' is main-only, but ")
    expect(error([])).toContain('nca-k9z-')
    expect(error([])).toContain('nx.json commits')
    // A three-character token in env: (its value happens to appear in the nx.json path).
    expect(error(['--env', 'NX_CLOUD_ACCESS_TOKEN=k9z'])).toContain('nca-***-')
  })

  it('an ambient NX_CLOUD_AUTH_TOKEN is overridden, and the notice says so', () => {
    const r = runCli(['explain', '--event', 'pull_request', '--env', 'NX_CLOUD_AUTH_TOKEN=ambient-secret-123', '--json', '--dir', tmp])
    const out = JSON.parse(r.stdout)
    expect(out.exports.NX_CLOUD_AUTH_TOKEN).toBe('***')
    expect(out.notices.join(' ')).toContain('NX_CLOUD_AUTH_TOKEN was set')
    expect(r.stdout).not.toContain('ambient-secret-123')
  })
})

describe('explain --all', () => {
  it('prints the common runs for every setup', () => {
    const r = runCli(['explain', '--all', '--json', '--dir', tmp])
    expect(r.status).toBe(0)
    const runs: { run: string; setup: string; access: string }[] = JSON.parse(r.stdout).runs
    const cell = (run: string, setup: string): string | undefined => runs.find(x => x.run === run && x.setup === setup)?.access
    expect(new Set(runs.map(x => x.setup))).toEqual(new Set(['main-only', 'ci-read-write', 'shared-read-write', 'off']))
    expect(cell('push to main', 'main-only')).toBe('read-write')
    expect(cell('pull request, same repository', 'main-only')).toBe('read-only')
    expect(cell('pull request, same repository', 'ci-read-write')).toBe('read-write')
    // A fork's PR gets no secrets on GitHub, and this directory has no nx.json to read with.
    expect(cell('pull request from a fork', 'ci-read-write')).toBe('none')
    expect(cell('pull_request_target', 'ci-read-write')).toBe('read-only')
    // The read-write-token secret goes only to trusted runs: a fork's PR has nx.json's token, and
    // this directory's nx.json has none.
    expect(cell('pull request from a fork', 'shared-read-write')).toBe('none')
    expect(cell('push to main', 'shared-read-write')).toBe('read-write')
    expect(cell('push to main', 'off')).toBe('none')
  })

  it('under shared-read-write a fork PR writes with the token nx.json commits, never the secret', () => {
    const dir = mkdtempSync(join(tmp, 'shared-'))
    // The key is committed too: a fork's PR gets no encryption-key secret.
    writeFileSync(join(dir, 'nx.json'), JSON.stringify({ nxCloudAccessToken: SHARED, nxCloudEncryptionKey: KEY }))
    const r = runCli(['explain', '--all', '--json', '--dir', dir])
    const runs: { run: string; setup: string; access: string; tokenSource: string }[] = JSON.parse(r.stdout).runs
    const fork = runs.find(x => x.run === 'pull request from a fork' && x.setup === 'shared-read-write')
    expect(fork).toMatchObject({ access: 'read-write', tokenSource: 'nx.json' })
    expect(r.stdout).not.toContain(SHARED)
    expect(r.stdout).not.toContain(KEY)
  })

  it('a setup the action would refuse shows as fails, with the reason once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nca-explain-all-'))
    writeFileSync(join(dir, 'nx.json'), JSON.stringify({ nxCloudAccessToken: RW, nxCloudEncryptionKey: KEY }))
    const r = runCli(['explain', '--all', '--dir', dir])
    // Like a single run the action would fail: exit 1, in JSON too.
    expect(r.status).toBe(1)
    expect(runCli(['explain', '--all', '--json', '--dir', dir]).status).toBe(1)
    expect(r.stdout).toMatch(/^push to main\s+fails\s+fails\s+read-write\s+none$/m)
    expect(r.stdout.match(/^main-only fails: /gm)).toHaveLength(1)
    expect(r.stdout).not.toContain(RW)
  })

  it("an input that contradicts one setup fails that setup's rows instead of crashing", () => {
    const r = runCli(['explain', '--all', '--input', 'self-hosted-cache-url=https://cache.example.com', '--dir', tmp])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(1)
    expect(r.stdout).toMatch(/^push to main\s+read-write\s+read-write\s+read-write\s+fails$/m)
    expect(r.stdout).toContain("off fails: Input 'self-hosted-cache-url' contradicts setup 'off'")
  })

  it('with --setup, only that setup; text is a table', () => {
    const r = runCli(['explain', '--all', '--setup', '1', '--dir', tmp])
    expect(r.status).toBe(0)
    expect(r.stdout.split('\n')[0]).toMatch(/^Run\s+main-only$/)
    expect(r.stdout).toMatch(/pull_request_target\s+read-only/)
    expect(r.stdout).toMatch(/pull request from a fork\s+none/)
    expect(r.stdout).toMatch(/push to main\s+read-write/)
  })
})

describe('bad usage exits 2', () => {
  it.each([
    [['explain', '--event', 'push', '--setup', 'everyone']],
    [['explain']],
    [['explain', '--event', 'push', '--bogus']],
    [['explain', '--event', 'push', '--input', 'write-events=pull_request']],
    [['explain', '--event', 'push', '--payload', '/nonexistent/payload.json']],
    [['explain', '--all', '--event', 'push']],
    [['explain', '--event', 'push', '--payload', 'p.json', '--head-repo', 'a/b']],
    [['frobnicate']],
    [[]]
  ])('%j', args => {
    const r = runCli(args, { cwd: tmp })
    expect(r.status).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).not.toBe('')
  })
})
