// nxCloudId workspaces as the runner runs the token step: dist/index.js spawned with every input
// action.yml declares (defaults included), real-shaped payloads, and secrets as GitHub hands them
// (empty for a fork's or Dependabot's pull request).

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readActionYml } from '../helpers/composite-step.js'
import { type ActionRun, runAction, unmaskedText } from '../helpers/run-action.js'
import { parseSummary } from '../helpers/step-summary.js'
import { DEPENDABOT_USER, prPayload, pushPayload } from '../fixtures/payloads.js'
import { KEY, RW } from '../fixtures/run-cases.js'

const CLOUD_ID = '65f1c2a9d4e8b70012345678'
const TOKEN_VARS = ['NX_CLOUD_ACCESS_TOKEN', 'NX_CLOUD_AUTH_TOKEN', 'NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN']

type Origin = 'push to main' | 'same-repo PR' | 'fork PR' | 'Dependabot PR'
const RUNS: Record<Origin, { event: string; ref: string; actor?: string; payload: Record<string, unknown>; secrets: boolean }> = {
  'push to main': { event: 'push', ref: 'refs/heads/main', payload: pushPayload('refs/heads/main'), secrets: true },
  'same-repo PR': { event: 'pull_request', ref: 'refs/pull/104/merge', payload: prPayload(), secrets: true },
  'fork PR': { event: 'pull_request', ref: 'refs/pull/104/merge', payload: prPayload({ fork: 'mallory/monorepo' }), secrets: false },
  'Dependabot PR': {
    event: 'pull_request',
    ref: 'refs/pull/104/merge',
    actor: DEPENDABOT_USER.login,
    payload: {
      ...prPayload({ author: DEPENDABOT_USER.login, headRef: 'dependabot/npm_and_yarn/lodash-4.17.21' }),
      sender: DEPENDABOT_USER
    },
    secrets: false
  }
}

/** What the composite passes: every declared input, its default when the workflow gives none. */
function withDefaults(given: Record<string, string>): Record<string, string> {
  const inputs: Record<string, string> = {}
  for (const [name, spec] of Object.entries(readActionYml().inputs)) inputs[name] = spec.default ?? ''
  return { ...inputs, ...given }
}

function workspace(nxJson: Record<string, unknown> | null): string {
  const dir = mkdtempSync(join(tmpdir(), 'nca-ws-'))
  if (nxJson !== null) writeFileSync(join(dir, 'nx.json'), JSON.stringify(nxJson, null, 2))
  return dir
}

/** The setup-1 example of docs/setups.md for an nxCloudId workspace, as a run of `origin` sees it. */
async function run(
  origin: Origin,
  opts: { wia?: string; key: 'nx.json' | 'secret'; cloudId?: boolean; extra?: Record<string, string> }
): Promise<ActionRun> {
  const r = RUNS[origin]
  const secret = (v: string): string => (r.secrets ? v : '')
  const given: Record<string, string> = {
    'read-write-token': secret(RW),
    ...(opts.key === 'secret' ? { 'encryption-key': secret(KEY) } : {}),
    ...(opts.wia !== undefined ? { 'workspace-id-access': opts.wia } : {}),
    ...opts.extra
  }
  const nxJson: Record<string, unknown> = { ...(opts.cloudId === false ? {} : { nxCloudId: CLOUD_ID }) }
  if (opts.key === 'nx.json') nxJson.nxCloudEncryptionKey = KEY
  return runAction({
    event: r.event,
    ref: r.ref,
    actor: r.actor,
    payload: r.payload,
    workspace: workspace(nxJson),
    inputs: withDefaults(given)
  })
}

type Want = { access: string; source: string; noCloud: boolean; words?: string; notice?: string }
const READS: Want = {
  access: 'read-only',
  source: 'nx.json',
  noCloud: false,
  words: 'the workspace ID access level set in Nx Cloud decides'
}
const WRITES: Want = { access: 'read-write', source: 'read-write-token', noCloud: false }
const OFF_HINT: Want = {
  access: 'none',
  source: 'none',
  noCloud: true,
  words: 'Set the workspace ID access level to read-only in Nx Cloud, then workspace-id-access: read-only'
}
const OFF_WITHHELD = (who: string): Want => ({
  access: 'none',
  source: 'none',
  noCloud: true,
  notice: who,
  words: 'but no encryption key was found'
})

const TABLE: [Origin, 'unset' | 'read-only', 'nx.json' | 'secret', Want][] = [
  ['push to main', 'unset', 'nx.json', WRITES],
  ['push to main', 'unset', 'secret', WRITES],
  ['push to main', 'read-only', 'nx.json', WRITES],
  ['push to main', 'read-only', 'secret', WRITES],
  ['same-repo PR', 'unset', 'nx.json', OFF_HINT],
  ['same-repo PR', 'unset', 'secret', OFF_HINT],
  ['same-repo PR', 'read-only', 'nx.json', READS],
  ['same-repo PR', 'read-only', 'secret', READS],
  ['fork PR', 'unset', 'nx.json', OFF_HINT],
  ['fork PR', 'unset', 'secret', OFF_HINT],
  ['fork PR', 'read-only', 'nx.json', READS],
  ['fork PR', 'read-only', 'secret', READS],
  ['Dependabot PR', 'unset', 'nx.json', OFF_HINT],
  ['Dependabot PR', 'unset', 'secret', OFF_HINT],
  ['Dependabot PR', 'read-only', 'nx.json', READS],
  ['Dependabot PR', 'read-only', 'secret', READS]
]

describe('an nxCloudId workspace (no token in nx.json): runs × workspace-id-access × where the key is', () => {
  test.each(TABLE)('%s, workspace-id-access %s, key in %s', async (origin, wia, key, want) => {
    const r = await run(origin, { wia: wia === 'unset' ? undefined : wia, key })
    // None of these runs fails, forks and Dependabot with the key only in a secret included.
    expect(r.errors).toEqual([])
    expect(r.status).toBe(0)
    expect([r.outputs.access, r.outputs['token-source']]).toEqual([want.access, want.source])
    expect(r.env.NX_NO_CLOUD).toBe(want.noCloud ? 'true' : undefined)
    if (want.access === 'read-only') for (const v of TOKEN_VARS) expect(r.env[v]).toBe('')
    if (want.access === 'read-write') expect(r.env.NX_CLOUD_ACCESS_TOKEN).toBe(RW)
    else expect(Object.values(r.env).join('\n')).not.toContain(RW)
    // The words are in the reason, the To fix line, or the rule's whole chain (the summary's details).
    const summary = parseSummary(r.summary)
    expect(summary.cause).toBe(r.outputs.reason)
    if (want.words) expect([summary.cause, summary.fix, summary.sections[0].rows.Rule].join('\n')).toContain(want.words)
    // Nx Cloud documents the branch-isolated cache for read-only CI access tokens, not for a read
    // through nxCloudId with no token: the summary does not promise it there.
    if (want === READS) {
      expect(summary.sections[0].items.join('\n')).not.toContain('isolated to this branch')
      expect(summary.sections[0].items.join('\n')).toContain('up to the workspace ID access level')
      expect(summary.sections[0].rows.Exported).toMatch(
        /^NX_CLOUD_ACCESS_TOKEN \(blanked\), NX_CLOUD_AUTH_TOKEN \(blanked\), NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN \(blanked\)/
      )
    }
    if (want.notice) {
      const told = r.notices.filter(n => n.includes('withholds') || n.includes('no secrets') || n.includes('only Dependabot secrets'))
      expect(told).toHaveLength(1)
      expect(told[0]).toContain(want.notice)
      expect(told[0]).toContain('commit the key in nx.json')
    }
    expect(r.outputs.encryption).toBe(key === 'secret' && !RUNS[origin].secrets ? 'disabled' : 'enabled')
    expect(unmaskedText(r)).not.toContain(RW)
    expect(unmaskedText(r)).not.toContain(KEY)
  })

  // require-encryption: true fails closed, except where GitHub withholds the key: no remote cache there.
  test.each([
    ['fork PR', 'GitHub gives a pull request from a fork no secrets'],
    ['Dependabot PR', "GitHub gives Dependabot's pull requests only Dependabot secrets"]
  ] as const)('with require-encryption: true, a %s with the key only in a secret runs without the remote cache', async (origin, who) => {
    const want = OFF_WITHHELD(who)
    const r = await run(origin, { wia: 'read-only', key: 'secret', extra: { 'require-encryption': 'true' } })
    expect([r.status, r.errors]).toEqual([0, []])
    expect([r.outputs.access, r.outputs['token-source'], r.env.NX_NO_CLOUD]).toEqual(['none', 'none', 'true'])
    expect(r.outputs.reason).toContain(want.words)
    expect(r.notices).toHaveLength(1)
    expect(r.notices[0]).toContain(who)
    expect(r.notices[0]).toContain('commit the key in nx.json')
  })
})

describe('without nxCloudId, and the other runs without a key', () => {
  test('workspace-id-access read-only without nxCloudId changes nothing, and a notice says so', async () => {
    const r = await run('fork PR', { wia: 'read-only', key: 'nx.json', cloudId: false })
    expect(r.status).toBe(0)
    expect([r.outputs.access, r.env.NX_NO_CLOUD]).toEqual(['none', 'true'])
    expect(r.notices.join('\n')).toContain("Input 'workspace-id-access' is read-only, but")
    expect(r.notices.join('\n')).toContain('has no nxCloudId: Nx has no workspace ID to connect with, so this input changes nothing')
  })

  test('a fork PR with a read-only token committed in nx.json but the key only in a secret reads with that token by default', async () => {
    const r = RUNS['fork PR']
    const ro = Buffer.from('5f1e2d3c-4b5a-4697-8877-665544332211|read-only').toString('base64')
    const run2 = await runAction({
      ...r,
      workspace: workspace({ nxCloudAccessToken: ro }),
      inputs: withDefaults({ 'read-write-token': '', 'encryption-key': '' })
    })
    expect([run2.status, run2.errors, run2.warnings]).toEqual([0, [], []])
    expect([run2.outputs.access, run2.outputs.encryption, run2.env.NX_NO_CLOUD]).toEqual(['read-only', 'disabled', undefined])
  })

  test('with require-encryption: true, that fork PR runs without the remote cache', async () => {
    const r = RUNS['fork PR']
    const ro = Buffer.from('5f1e2d3c-4b5a-4697-8877-665544332211|read-only').toString('base64')
    const run2 = await runAction({
      ...r,
      workspace: workspace({ nxCloudAccessToken: ro }),
      inputs: withDefaults({ 'read-write-token': '', 'encryption-key': '', 'require-encryption': 'true' })
    })
    expect(run2.errors).toEqual([])
    expect([run2.outputs.access, run2.env.NX_NO_CLOUD, run2.env.NX_CLOUD_ACCESS_TOKEN]).toEqual(['none', 'true', undefined])
    expect(run2.notices.join('\n')).toContain('GitHub gives a pull request from a fork no secrets')
  })

  test.each(['same-repo PR', 'push to main'] as const)(
    'with require-encryption: true, a %s with no key anywhere fails, exporting nothing',
    async origin => {
      const r = await run(origin, { wia: 'read-only', key: 'secret', extra: { 'encryption-key': '', 'require-encryption': 'true' } })
      expect(r.status).not.toBe(0)
      expect(r.errors).toHaveLength(1)
      expect(r.errors[0]).toContain("'encryption-key' is empty and no key was found")
      expect(r.env).toEqual({})
      expect(r.outputs).toEqual({})
    }
  )
})

describe('refusals and the workspace folder', () => {
  test('workspace-id-access read-write is refused: one error saying why and what to change in Nx Cloud, nothing exported', async () => {
    const r = await run('push to main', { wia: 'read-write', key: 'nx.json' })
    expect(r.status).not.toBe(0)
    expect(r.errors).toHaveLength(1)
    expect(r.errors[0]).toMatch(/^Input 'workspace-id-access' is read-write: anyone who clones the repository .*could write/)
    expect(r.errors[0]).toContain('In Nx Cloud, set the workspace ID access level')
    expect(r.errors[0]).toContain('Accepted: none, read-only.')
    expect(r.env).toEqual({})
    expect(r.outputs).toEqual({})
  })

  test('a working-directory that does not exist fails, naming it, and exports nothing', async () => {
    const dir = workspace({ nxCloudId: CLOUD_ID, nxCloudEncryptionKey: KEY })
    const p = RUNS['push to main']
    const r = await runAction({ ...p, workspace: dir, inputs: withDefaults({ 'read-write-token': RW, 'working-directory': 'apps/web' }) })
    expect(r.status).not.toBe(0)
    expect(r.errors).toEqual([
      `Input 'working-directory' points at ${join(dir, 'apps/web')}, which does not exist. Accepted: the folder of the Nx workspace (where nx.json is), relative to the checkout; check actions/checkout's path and this input.`
    ])
    expect(r.env).toEqual({})
    expect(r.outputs).toEqual({})
  })

  test('a missing nx.json is a warning naming the path looked at', async () => {
    const dir = workspace(null)
    mkdirSync(join(dir, 'apps'))
    const p = RUNS['push to main']
    const r = await runAction({
      ...p,
      workspace: dir,
      inputs: withDefaults({ 'read-write-token': RW, 'encryption-key': KEY, 'working-directory': 'apps' })
    })
    expect(r.status).toBe(0)
    expect(r.warnings).toContain(
      `No nx.json at ${join(dir, 'apps', 'nx.json')}: nothing is taken from it (no token, no encryption key, no nxCloudId). Is 'working-directory' the folder of the Nx workspace?`
    )
  })
})
