// The policy as a table: setups × events × refs × fork/Dependabot × inputs, against an oracle
// written straight from docs/POLICY.md#decision, plus the explicit shared run table.

import { jest } from '@jest/globals'
import { readInputs } from '../../src/core/inputs.js'
import { NO_NX_JSON } from '../../src/core/nx-config.js'
import { UNENCRYPTED_WRITE, decide, writeGrant } from '../../src/core/policy.js'
import { resolveRunFacts, type RunInput } from '../../src/core/run-facts.js'
import type { Config, NxConfig, RunFacts } from '../../src/core/types.js'
import { mergeGroupPayload, prPayload, pushPayload, repository } from '../fixtures/payloads.js'
import { KEY, RO, RUN_CASES, RW, SHARED, expectedToken, nxOf } from '../fixtures/run-cases.js'

function config(inputs: Record<string, string>): Config {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v
  return readInputs(env)
}

async function facts(run: Partial<RunInput> & { event: string }): Promise<RunFacts> {
  return resolveRunFacts({ ref: '', actor: 'octocat', repository: 'acme/monorepo', payload: {}, ...run })
}

const nx = (over: Partial<NxConfig> = {}): NxConfig => ({ ...NO_NX_JSON, path: 'nx.json', ...over })

describe('the shared run table, through decide() directly', () => {
  test.each(RUN_CASES.map(c => [c.name, c] as const))('%s', async (_n, c) => {
    const d = decide(
      config({ setup: c.setup, 'read-write-token': RW, 'read-only-token': RO, 'encryption-key': KEY, ...c.inputs }),
      await facts({ event: c.event, ref: c.ref, actor: c.actor ?? 'octocat', payload: c.payload }),
      nxOf(c),
      {}
    )
    expect([d.access, d.tokenSource]).toEqual([c.expect.access, c.expect.tokenSource])
    expect(d.exports.NX_CLOUD_ACCESS_TOKEN).toBe(expectedToken(c))
    if (c.reason !== undefined) expect(d.detail).toContain(c.reason)
  })
})

// ---- The full matrix against an oracle -------------------------------------------------------

type Origin = 'same' | 'fork' | 'dependabot'
const SETUPS = ['main-only', 'ci-read-write', 'shared-read-write', 'off']
const EVENTS = [
  'push',
  'pull_request',
  'pull_request_review',
  'pull_request_target',
  'merge_group',
  'workflow_dispatch',
  'schedule',
  'repository_dispatch',
  'release',
  'create',
  'delete',
  'workflow_run',
  'issue_comment',
  'discussion',
  'some_future_event'
]
const REFS = ['refs/heads/main', 'refs/heads/feature/x', 'refs/tags/v1.0.0', 'refs/heads/release/2.1', 'refs/heads/Main']
const ORIGINS: Origin[] = ['same', 'fork', 'dependabot']
const WRITE_EVENT_SETS = ['', 'push, merge_group']
const WRITE_BRANCHES = ['', 'main, release/*']

/** docs/POLICY.md#trust, as plainly as it is written there. */
function oracleTrusted(event: string, origin: Origin): boolean {
  // "any run whose actor (GITHUB_ACTOR) is dependabot[bot], a push to its own branch included"
  if (origin === 'dependabot') return false
  if (event.startsWith('pull_request') && event !== 'pull_request_target') return origin === 'same'
  return ['push', 'workflow_dispatch', 'schedule', 'merge_group', 'repository_dispatch', 'release', 'create', 'delete'].includes(event)
}

/** docs/POLICY.md#branch. */
function oracleBranch(event: string, ref: string): string | null {
  if (event === 'merge_group') return 'main'
  if (['push', 'workflow_dispatch', 'schedule', 'repository_dispatch'].includes(event) && ref.startsWith('refs/heads/')) {
    return ref.slice(11)
  }
  return null
}

/**
 * docs/POLICY.md#setups: shared-read-write gives "the `read-write-token` secret, if given, only to
 * trusted runs", nx.json's token to untrusted ones; otherwise read-write is the secret, read-only
 * the read-only-token input.
 */
function oracleToken(setup: string, access: string, trusted: boolean): string | undefined {
  if (setup === 'shared-read-write') return trusted ? RW : SHARED
  return { 'read-write': RW, 'read-only': RO, none: undefined }[access]
}

/** docs/POLICY.md#decision. */
function oracleAccess(setup: string, event: string, ref: string, origin: Origin, writeEvents: string, writeBranches: string): string {
  if (setup === 'off') return 'none'
  const trusted = oracleTrusted(event, origin)
  if (setup === 'shared-read-write') return 'read-write'

  if (setup === 'ci-read-write') return trusted ? 'read-write' : 'read-only'
  const events = writeEvents === '' ? ['push', 'workflow_dispatch', 'schedule'] : writeEvents.split(', ')
  const branch = oracleBranch(event, ref)
  const allowed = writeBranches === '' ? branch === 'main' : branch === 'main' || (branch !== null && /^release\/[^/]+$/.test(branch))
  return trusted && events.includes(event) && allowed ? 'read-write' : 'read-only'
}

function payloadFor(event: string, ref: string, origin: Origin): Record<string, unknown> {
  if (event.startsWith('pull_request')) {
    return prPayload({
      fork: origin === 'fork' ? 'mallory/monorepo' : undefined,
      author: origin === 'dependabot' ? 'dependabot[bot]' : undefined
    })
  }
  const sender = origin === 'dependabot' ? { login: 'dependabot[bot]', type: 'Bot' } : { login: 'octocat', type: 'User' }
  if (event === 'merge_group') return { ...mergeGroupPayload('refs/heads/main'), sender }
  if (event === 'push') return pushPayload(ref, { dependabot: origin === 'dependabot' })
  return { repository: repository(), sender }
}

const matrix: [string, string, string, Origin, string, string][] = []
for (const setup of SETUPS)
  for (const event of EVENTS)
    for (const ref of REFS)
      for (const origin of ORIGINS)
        for (const we of WRITE_EVENT_SETS) for (const wb of WRITE_BRANCHES) matrix.push([setup, event, ref, origin, we, wb])

describe(`the matrix (${matrix.length} runs) agrees with docs/POLICY.md`, () => {
  test('every combination', async () => {
    const wrong: string[] = []
    for (const [setup, event, ref, origin, we, wb] of matrix) {
      const d = decide(
        config({ setup, 'read-write-token': RW, 'read-only-token': RO, 'encryption-key': KEY, 'write-events': we, 'write-branches': wb }),
        await facts({
          event,
          ref,
          actor: origin === 'dependabot' ? 'dependabot[bot]' : 'octocat',
          payload: payloadFor(event, ref, origin)
        }),
        // Setup 3 commits the shared read-write token in nx.json; the others a read-only one at most.
        nx({ accessToken: setup === 'shared-read-write' ? SHARED : '' }),
        {}
      )
      const want = oracleAccess(setup, event, ref, origin, we, wb)
      const token = oracleToken(setup, want, oracleTrusted(event, origin))
      if (d.access !== want || d.exports.NX_CLOUD_ACCESS_TOKEN !== token) {
        wrong.push(`${setup} ${event} ${ref} ${origin} [${we}] [${wb}]: got ${d.access} ${d.tokenSource}, want ${want}`)
      }
    }
    expect(wrong).toEqual([])
  })
})

describe('trust and branch details', () => {
  test('a fork whose repository was deleted (head.repo null) is untrusted', async () => {
    const payload = prPayload() as { pull_request: { head: { repo: unknown } } }
    payload.pull_request.head.repo = null
    const f = await facts({ event: 'pull_request', payload })
    expect(f.trusted).toBe(false)
    expect(f.trustReason).toContain('deleted')
  })

  test('a pull request event without its payload is untrusted', async () => {
    expect((await facts({ event: 'pull_request' })).trusted).toBe(false)
  })

  test('the head branch name of a PR never matters under main-only', async () => {
    const payload = prPayload({ headRef: 'main' })
    const g = writeGrant(config({}), await facts({ event: 'pull_request', ref: 'refs/heads/main', payload }))
    expect(g).toEqual({ write: false, why: 'a pull request never writes' })
  })

  test('a merge queue run takes its base branch, not its gh-readonly-queue ref', async () => {
    const f = await facts({
      event: 'merge_group',
      ref: 'refs/heads/gh-readonly-queue/main/pr-1-abc',
      payload: mergeGroupPayload('refs/heads/release/2.1')
    })
    expect(f.branch).toBe('release/2.1')
  })

  test('globs are case-sensitive and whole-name', async () => {
    const c = config({ 'write-branches': 'main' })
    for (const [ref, write] of [
      ['refs/heads/Main', false],
      ['refs/heads/main2', false],
      ['refs/heads/main', true]
    ] as const) {
      expect(writeGrant(c, await facts({ event: 'push', ref, payload: pushPayload(ref) })).write).toBe(write)
    }
  })

  test('the API default branch is used only when the payload lacks one', async () => {
    const lookup = jest.fn(async (): Promise<string | null> => 'trunk')
    const run = { event: 'schedule', ref: 'refs/heads/trunk', actor: '', repository: 'a/b', payload: {} }
    expect(await resolveRunFacts(run, lookup)).toMatchObject({ defaultBranch: 'trunk', defaultBranchSource: 'api' })
    expect(lookup).toHaveBeenCalledTimes(1)
    const withPayload = { ...run, event: 'push', payload: pushPayload('refs/heads/trunk', { defaultBranch: 'develop' }) }
    expect(await resolveRunFacts(withPayload, lookup)).toMatchObject({ defaultBranch: 'develop', defaultBranchSource: 'payload' })
    expect(lookup).toHaveBeenCalledTimes(1)
  })
})

describe('tokens from nx.json', () => {
  const prFacts = (): Promise<RunFacts> => facts({ event: 'pull_request', payload: prPayload() })

  test("a PR reads with nx.json's token when read-only-token is empty", async () => {
    const d = decide(config({ 'read-write-token': RW }), await prFacts(), nx({ accessToken: RO, encryptionKey: KEY }), {})
    expect([d.access, d.tokenSource, d.exports.NX_CLOUD_ACCESS_TOKEN]).toEqual(['read-only', 'nx.json', RO])
  })

  test('an unknown-format token in nx.json is not judged', async () => {
    const d = decide(
      config({ 'read-write-token': RW }),
      await prFacts(),
      nx({ accessToken: 'opaque-new-style-token', encryptionKey: KEY }),
      {}
    )
    expect(d.access).toBe('read-only')
  })

  test('an Nx Cloud token in nx.json is no key to a self-hosted cache', async () => {
    const d = decide(
      config({ 'read-write-token': RW, 'self-hosted-cache-url': 'http://127.0.0.1:1' }),
      await prFacts(),
      nx({ accessToken: RO }),
      {}
    )
    expect(d.access).toBe('none')
    expect(d.exports.NX_SELF_HOSTED_REMOTE_CACHE_SERVER).toBeUndefined()
  })

  test('shared-read-write with a read-only token in nx.json warns that nobody can write', async () => {
    const d = decide(config({ setup: 'shared-read-write' }), await prFacts(), nx({ accessToken: RO, encryptionKey: KEY }), {})
    expect(d.warnings.join(' ')).toContain('nobody can write')
  })

  test('an ambient encryption key that differs from nx.json fails; the same one warns', async () => {
    const f = await facts({ event: 'push', ref: 'refs/heads/main', payload: pushPayload('refs/heads/main') })
    expect(() => decide(config({ 'read-write-token': RW }), f, nx({ encryptionKey: KEY }), { NX_CLOUD_ENCRYPTION_KEY: 'other' })).toThrow(
      'differs from the key in nx.json'
    )
    const d = decide(config({ 'read-write-token': RW }), f, nx({ encryptionKey: KEY }), { NX_CLOUD_ENCRYPTION_KEY: KEY })
    expect(d.warnings.join(' ')).toContain('Nx hashes that variable')
    expect(d.exports.NX_CLOUD_ENCRYPTION_KEY).toBeUndefined()
  })
})

describe('setup 3: the read-write-token secret only for trusted runs', () => {
  const forkFacts = (): Promise<RunFacts> => facts({ event: 'pull_request_target', payload: prPayload({ fork: 'mallory/monorepo' }) })
  const setup3 = (over: Record<string, string> = {}): Config =>
    config({ setup: 'shared-read-write', 'read-write-token': RW, 'read-only-token': RO, 'encryption-key': KEY, ...over })

  test('an untrusted run with no token in nx.json gets none, not the secret, and the reason says why', async () => {
    const d = decide(setup3(), await forkFacts(), nx(), {})
    expect([d.access, d.tokenSource]).toEqual(['none', 'none'])
    expect(Object.values(d.exports)).not.toContain(RW)
    expect(Object.values(d.exports)).not.toContain(RO)
    expect(d.exports.NX_NO_CLOUD).toBe('true')
    expect(d.reason).toContain('is untrusted, so the read-write-token secret is withheld')
    expect(d.reason).toContain('nx.json has none')
    expect(d.warnings.join(' ')).toContain('untrusted and gets only the token committed in nx.json')
  })

  test("an untrusted run against a self-hosted cache gets none: nx.json's token is no key to it", async () => {
    const d = decide(setup3({ 'self-hosted-cache-url': 'http://127.0.0.1:1' }), await forkFacts(), nx({ accessToken: SHARED }), {})
    expect(d.access).toBe('none')
    expect(Object.values(d.exports)).not.toContain(RW)
    expect(d.exports.NX_SELF_HOSTED_REMOTE_CACHE_SERVER).toBeUndefined()
  })

  test("without the secret, an untrusted run still writes with nx.json's token and says it is untrusted", async () => {
    const d = decide(config({ setup: 'shared-read-write', 'encryption-key': KEY }), await forkFacts(), nx({ accessToken: SHARED }), {})
    expect([d.access, d.tokenSource, d.exports.NX_CLOUD_ACCESS_TOKEN]).toEqual(['read-write', 'nx.json', SHARED])
    expect(d.reason).toContain("is untrusted, so it uses nx.json's token")
  })
})

describe('access reports what the exported token can do', () => {
  const pushMain = (): Promise<RunFacts> => facts({ event: 'push', ref: 'refs/heads/main', payload: pushPayload('refs/heads/main') })

  test('setup 3 with a read-only token in nx.json is read-only, and the reason says so', async () => {
    const d = decide(config({ setup: 'shared-read-write', 'encryption-key': KEY }), await pushMain(), nx({ accessToken: RO }), {})
    expect([d.access, d.tokenSource, d.exports.NX_CLOUD_ACCESS_TOKEN]).toEqual(['read-only', 'nx.json', RO])
    expect(d.reason).toBe("shared-read-write: every run may write, but nx.json's token decodes as read-only, so it reads only.")
    expect(d.detail).toBe(
      "shared-read-write: every run may write, with nx.json's token, but nx.json's token decodes as read-only, so it reads only."
    )
    expect(d.warnings.join(' ')).toContain('nobody can write')
  })

  test.each(['main-only', 'ci-read-write', 'shared-read-write'])(
    '%s: a read-write-token that decodes read-only is read-only',
    async setup => {
      const d = decide(config({ setup, 'read-write-token': RO, 'encryption-key': KEY }), await pushMain(), nx(), {})
      expect([d.access, d.tokenSource]).toEqual(['read-only', 'read-write-token'])
      expect(d.reason).toContain("but input 'read-write-token' decodes as read-only, so it reads only")
      expect(d.warnings.join(' ')).toContain('swapped')
    }
  )

  test('a token of unknown format is not judged', async () => {
    const d = decide(config({ 'read-write-token': 'opaque-new-style-token', 'encryption-key': KEY }), await pushMain(), nx(), {})
    expect(d.access).toBe('read-write')
  })
})

describe('Dependabot is untrusted on every event', () => {
  const dependabotRef = 'refs/heads/dependabot/npm_and_yarn/lodash-4.17.21'

  test.each([
    ['GITHUB_ACTOR', 'dependabot[bot]', pushPayload(dependabotRef), 'GITHUB_ACTOR'],
    ["the payload's sender", 'octocat', pushPayload(dependabotRef, { dependabot: true }), "the payload's sender"]
  ])('a push judged by %s', async (_by, actor, payload, words) => {
    const f = await facts({ event: 'push', ref: dependabotRef, actor, payload })
    expect(f.trusted).toBe(false)
    expect(f.trustReason).toBe(`a push run by dependabot[bot] (${words})`)
    const d = decide(config({ setup: 'ci-read-write', 'read-write-token': RW, 'read-only-token': RO, 'encryption-key': KEY }), f, nx(), {})
    expect([d.access, d.exports.NX_CLOUD_ACCESS_TOKEN]).toEqual(['read-only', RO])
  })

  test.each(['workflow_dispatch', 'schedule', 'repository_dispatch', 'merge_group', 'release', 'create', 'delete'])(
    'a %s run by dependabot[bot] is untrusted',
    async event => {
      expect(
        (await facts({ event, ref: 'refs/heads/main', actor: 'dependabot[bot]', payload: { repository: repository() } })).trusted
      ).toBe(false)
    }
  )

  test('a push by a person is still trusted', async () => {
    expect((await facts({ event: 'push', ref: dependabotRef, payload: pushPayload(dependabotRef) })).trusted).toBe(true)
  })
})

// ---- Runs left with no token: nxCloudId and workspace-id-access, and secrets GitHub withholds ----

type Origin4 = 'push to main' | 'same-repo PR' | 'fork PR' | 'Dependabot PR'
const CLOUD_ID = '65f1c2a9d4e8b70012345678'

function runOf(origin: Origin4): Partial<RunInput> & { event: string } {
  switch (origin) {
    case 'push to main':
      return { event: 'push', ref: 'refs/heads/main', payload: pushPayload('refs/heads/main') }
    case 'same-repo PR':
      return { event: 'pull_request', ref: 'refs/pull/104/merge', payload: prPayload() }
    case 'fork PR':
      return { event: 'pull_request', ref: 'refs/pull/104/merge', payload: prPayload({ fork: 'mallory/monorepo' }) }
    case 'Dependabot PR':
      return {
        event: 'pull_request',
        ref: 'refs/pull/104/merge',
        actor: 'dependabot[bot]',
        payload: prPayload({ author: 'dependabot[bot]' })
      }
  }
}

/** Secrets as GitHub hands them: none to a fork's pull request, only Dependabot's to Dependabot. */
const secretless = (origin: Origin4): boolean => origin === 'fork PR' || origin === 'Dependabot PR'

type Wia = 'none' | 'read-only'
type Row = [
  Origin4,
  Wia,
  'nxCloudId' | 'no nxCloudId',
  'key in nx.json' | 'key in a secret',
  string,
  string,
  'NX_NO_CLOUD' | 'cloud',
  string
]

/**
 * The decision table for tokenless runs (setup main-only, no read-only token anywhere, nx.json
 * commits no token; read-write-token and encryption-key are secrets). Last column: the notice or
 * the reason's words that must appear ('' for none).
 */
export const TOKENLESS_TABLE: Row[] = [
  ['push to main', 'none', 'nxCloudId', 'key in nx.json', 'read-write', 'read-write-token', 'cloud', ''],
  ['push to main', 'none', 'nxCloudId', 'key in a secret', 'read-write', 'read-write-token', 'cloud', ''],
  ['push to main', 'read-only', 'nxCloudId', 'key in nx.json', 'read-write', 'read-write-token', 'cloud', ''],
  ['push to main', 'read-only', 'nxCloudId', 'key in a secret', 'read-write', 'read-write-token', 'cloud', ''],
  ['push to main', 'read-only', 'no nxCloudId', 'key in a secret', 'read-write', 'read-write-token', 'cloud', 'changes nothing'],
  ['same-repo PR', 'none', 'nxCloudId', 'key in nx.json', 'none', 'none', 'NX_NO_CLOUD', 'Set the workspace ID access level to read-only'],
  ['same-repo PR', 'none', 'nxCloudId', 'key in a secret', 'none', 'none', 'NX_NO_CLOUD', 'Set the workspace ID access level to read-only'],
  ['same-repo PR', 'none', 'no nxCloudId', 'key in a secret', 'none', 'none', 'NX_NO_CLOUD', ''],
  [
    'same-repo PR',
    'read-only',
    'nxCloudId',
    'key in nx.json',
    'read-only',
    'nx.json',
    'cloud',
    'the workspace ID access level set in Nx Cloud decides'
  ],
  [
    'same-repo PR',
    'read-only',
    'nxCloudId',
    'key in a secret',
    'read-only',
    'nx.json',
    'cloud',
    'the workspace ID access level set in Nx Cloud decides'
  ],
  ['same-repo PR', 'read-only', 'no nxCloudId', 'key in a secret', 'none', 'none', 'NX_NO_CLOUD', 'changes nothing'],
  ['fork PR', 'none', 'nxCloudId', 'key in nx.json', 'none', 'none', 'NX_NO_CLOUD', 'Set the workspace ID access level to read-only'],
  ['fork PR', 'none', 'nxCloudId', 'key in a secret', 'none', 'none', 'NX_NO_CLOUD', 'GitHub gives a pull request from a fork no secrets'],
  [
    'fork PR',
    'none',
    'no nxCloudId',
    'key in a secret',
    'none',
    'none',
    'NX_NO_CLOUD',
    'GitHub gives a pull request from a fork no secrets'
  ],
  [
    'fork PR',
    'read-only',
    'nxCloudId',
    'key in nx.json',
    'read-only',
    'nx.json',
    'cloud',
    'the workspace ID access level set in Nx Cloud decides'
  ],
  // require-encryption is false by default: a run GitHub gives no key still reads where the level allows.
  [
    'fork PR',
    'read-only',
    'nxCloudId',
    'key in a secret',
    'read-only',
    'nx.json',
    'cloud',
    'the workspace ID access level set in Nx Cloud decides'
  ],
  ['fork PR', 'read-only', 'no nxCloudId', 'key in nx.json', 'none', 'none', 'NX_NO_CLOUD', 'changes nothing'],
  ['Dependabot PR', 'none', 'nxCloudId', 'key in nx.json', 'none', 'none', 'NX_NO_CLOUD', 'Set the workspace ID access level to read-only'],
  [
    'Dependabot PR',
    'none',
    'nxCloudId',
    'key in a secret',
    'none',
    'none',
    'NX_NO_CLOUD',
    "GitHub gives Dependabot's pull requests only Dependabot secrets"
  ],
  [
    'Dependabot PR',
    'read-only',
    'nxCloudId',
    'key in nx.json',
    'read-only',
    'nx.json',
    'cloud',
    'the workspace ID access level set in Nx Cloud decides'
  ],
  [
    'Dependabot PR',
    'read-only',
    'nxCloudId',
    'key in a secret',
    'read-only',
    'nx.json',
    'cloud',
    'the workspace ID access level set in Nx Cloud decides'
  ]
]

describe('tokenless runs: the decision table', () => {
  test.each(TOKENLESS_TABLE)(
    '%s, workspace-id-access %s, %s, %s → %s via %s (%s)',
    async (origin, wia, cloud, key, access, source, noCloud, words) => {
      const secrets = secretless(origin) ? {} : { 'read-write-token': RW, ...(key === 'key in a secret' ? { 'encryption-key': KEY } : {}) }
      const d = decide(
        config({ 'workspace-id-access': wia, ...secrets }),
        await facts({ actor: 'octocat', ...runOf(origin) }),
        nx({ cloudId: cloud === 'nxCloudId' ? CLOUD_ID : '', encryptionKey: key === 'key in nx.json' ? KEY : '' }),
        {}
      )
      expect([d.access, d.tokenSource]).toEqual([access, source])
      expect(d.exports.NX_NO_CLOUD).toBe(noCloud === 'NX_NO_CLOUD' ? 'true' : undefined)
      if (access === 'read-only') {
        // Through nxCloudId: no token at all reaches Nx, every token variable is blanked.
        for (const v of ['NX_CLOUD_ACCESS_TOKEN', 'NX_CLOUD_AUTH_TOKEN', 'NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN'])
          expect(d.exports[v]).toBe('')
      }
      if (access !== 'read-write') expect(Object.values(d.exports)).not.toContain(RW)
      if (words !== '') expect([d.detail, d.fix, ...d.notices].join(' ')).toContain(words)
    }
  )

  test.each(['fork PR', 'Dependabot PR'] as const)(
    'by default, a %s left with no token gets exactly one notice: no secrets, no remote cache, how to let it read',
    async origin => {
      const d = decide(config({}), await facts(runOf(origin)), nx({ cloudId: CLOUD_ID }), {})
      expect([d.access, d.exports.NX_NO_CLOUD]).toEqual(['none', 'true'])
      expect(d.notices).toHaveLength(1)
      expect(d.notices[0]).toMatch(/^GitHub gives .* secrets, so this run .* runs without the remote cache; it is not failed for it/)
      expect(d.notices[0]).toContain("then 'workspace-id-access: read-only'")
      expect(d.warnings).toEqual([])
    }
  )

  test('by default, a fork PR that reads through nxCloudId with no key is not failed and gets no notice of its own', async () => {
    const d = decide(config({ 'workspace-id-access': 'read-only' }), await facts(runOf('fork PR')), nx({ cloudId: CLOUD_ID }), {})
    expect([d.access, d.tokenSource, d.encryption]).toEqual(['read-only', 'nx.json', 'disabled'])
    expect([d.notices, d.warnings]).toEqual([[], []])
  })

  test('with require-encryption: true, a secretless run that finds no key gets exactly one notice saying GitHub withholds secrets', async () => {
    const d = decide(
      config({ 'workspace-id-access': 'read-only', 'require-encryption': 'true' }),
      await facts(runOf('fork PR')),
      nx({ cloudId: CLOUD_ID }),
      {}
    )
    expect(d.notices).toHaveLength(1)
    expect(d.notices[0]).toMatch(/^GitHub gives a pull request from a fork no secrets, so 'encryption-key' is empty here/)
    expect(d.reason).toContain('but no encryption key was found')
  })

  test("by default, a fork PR reads with nx.json's token though it has no key", async () => {
    const d = decide(config({}), await facts(runOf('fork PR')), nx({ accessToken: RO }), {})
    expect([d.access, d.tokenSource, d.exports.NX_CLOUD_ACCESS_TOKEN]).toEqual(['read-only', 'nx.json', RO])
  })

  test("with require-encryption: true, a fork PR reading with nx.json's token but no key (the key is a secret) runs without the remote cache", async () => {
    const d = decide(config({ 'require-encryption': 'true' }), await facts(runOf('fork PR')), nx({ accessToken: RO }), {})
    expect([d.access, d.exports.NX_NO_CLOUD, d.exports.NX_CLOUD_ACCESS_TOKEN]).toEqual(['none', 'true', undefined])
    expect(d.notices.join(' ')).toContain('GitHub gives a pull request from a fork no secrets')
  })

  test.each(['same-repo PR', 'push to main'] as const)('with require-encryption: true, a %s without a key anywhere fails', async origin => {
    const c = config({
      'workspace-id-access': 'read-only',
      'read-write-token': origin === 'push to main' ? RW : '',
      'require-encryption': 'true'
    })
    const f = await facts(runOf(origin))
    expect(() => decide(c, f, nx({ cloudId: CLOUD_ID }), {})).toThrow("'encryption-key' is empty and no key was found")
  })

  test('by default, a push to main without a key anywhere writes, with one warning that it writes unencrypted', async () => {
    const d = decide(config({ 'read-write-token': RW }), await facts(runOf('push to main')), nx({ cloudId: CLOUD_ID }), {})
    expect([d.access, d.encryption]).toEqual(['read-write', 'disabled'])
    expect(d.warnings).toEqual([UNENCRYPTED_WRITE])
    expect(d.warnings[0]).toContain('openssl rand -hex 16')
  })

  test('by default, a same-repo PR without a key reads with no warning (it writes nothing shared)', async () => {
    const d = decide(config({ 'read-only-token': RO }), await facts(runOf('same-repo PR')), nx({ cloudId: CLOUD_ID }), {})
    expect([d.access, d.encryption, d.warnings]).toEqual(['read-only', 'disabled', []])
  })

  test('with require-encryption: true, a pull_request_target run (it gets secrets) without a key fails', async () => {
    const f = await facts({ event: 'pull_request_target', ref: 'refs/heads/main', payload: prPayload({ fork: 'mallory/monorepo' }) })
    expect(f.secretsWithheld).toBeNull()
    expect(() => decide(config({ 'read-only-token': RO, 'require-encryption': 'true' }), f, nx(), {})).toThrow('no key was found')
  })

  test('ambient token variables are blanked when the run connects through nxCloudId', async () => {
    const d = decide(
      config({ 'workspace-id-access': 'read-only' }),
      await facts(runOf('fork PR')),
      nx({ cloudId: CLOUD_ID, encryptionKey: KEY }),
      { NX_CLOUD_AUTH_TOKEN: RW }
    )
    expect(d.exports.NX_CLOUD_AUTH_TOKEN).toBe('')
    expect(d.notices.join(' ')).toContain('NX_CLOUD_AUTH_TOKEN was set')
  })

  test('a missing nx.json warns, naming the path looked at', async () => {
    const d = decide(
      config({ 'read-write-token': RW, 'encryption-key': KEY }),
      await facts(runOf('push to main')),
      { ...NO_NX_JSON, lookedAt: '/w/apps/nx.json' },
      {}
    )
    expect(d.warnings.join(' ')).toContain('No nx.json at /w/apps/nx.json')
  })

  test('secrets are withheld from fork and Dependabot runs only', async () => {
    expect((await facts(runOf('fork PR'))).secretsWithheld).toContain('fork')
    expect((await facts(runOf('Dependabot PR'))).secretsWithheld).toContain('Dependabot')
    expect(
      (await facts({ event: 'push', ref: 'refs/heads/x', actor: 'dependabot[bot]', payload: pushPayload('refs/heads/x') })).secretsWithheld
    ).toContain('Dependabot')
    expect((await facts(runOf('same-repo PR'))).secretsWithheld).toBeNull()
    expect((await facts(runOf('push to main'))).secretsWithheld).toBeNull()
  })
})

describe('the read-write secret on a run that may not write (docs/POLICY.md#read-write-secret-exposed)', () => {
  const exposed = (w: string[]): string[] => w.filter(x => x.startsWith("Input 'read-write-token' is set on a run that may not write"))

  test.each([
    ['main-only', 'same-repo PR'],
    ['main-only', 'push to a feature branch'],
    ['off', 'push to main']
  ] as const)('%s, %s, handed read-write-token: one warning saying where the secret went and how to move it', async (setup, origin) => {
    const run =
      origin === 'push to a feature branch'
        ? { event: 'push', ref: 'refs/heads/feature', payload: pushPayload('refs/heads/feature') }
        : runOf(origin)
    const d = decide(config({ setup, 'read-write-token': RW, 'read-only-token': RO, 'encryption-key': KEY }), await facts(run), nx(), {})
    expect(d.access).not.toBe('read-write')
    const w = exposed(d.warnings)
    expect(w).toHaveLength(1)
    expect(w[0]).toContain('anyone who can push a branch controls')
    expect(w[0]).toContain('GitHub environment')
    expect(w[0]).toContain('deployment branches are only the protected ones')
    expect(w[0]).not.toContain(RW)
  })

  test.each([
    ['main-only', 'push to main'],
    ['ci-read-write', 'same-repo PR']
  ] as const)('%s, %s: a run that may write says nothing of it', async (setup, origin) => {
    const d = decide(config({ setup, 'read-write-token': RW, 'encryption-key': KEY }), await facts(runOf(origin)), nx(), {})
    expect(d.access).toBe('read-write')
    expect(exposed(d.warnings)).toEqual([])
  })

  test('a run that may not write and was given no read-write-token says nothing of it', async () => {
    const d = decide(config({ 'read-only-token': RO, 'encryption-key': KEY }), await facts(runOf('same-repo PR')), nx(), {})
    expect(exposed(d.warnings)).toEqual([])
  })
})

describe('the reason (output and log) is short, and says what the run gets', () => {
  /** Every tokenless run of the table, under each setup that reads, with and without an nxCloudId. */
  const runs = async (): Promise<{ name: string; d: ReturnType<typeof decide> }[]> => {
    const out: { name: string; d: ReturnType<typeof decide> }[] = []
    for (const setup of ['main-only', 'ci-read-write', 'shared-read-write'])
      for (const origin of ['same-repo PR', 'fork PR', 'Dependabot PR'] as Origin4[])
        for (const cloudId of ['', CLOUD_ID])
          for (const wia of ['none', 'read-only']) {
            const secrets: Record<string, string> = secretless(origin) ? {} : { 'read-write-token': RW }
            const d = decide(
              config({ setup, 'workspace-id-access': wia, ...secrets }),
              await facts({ actor: 'octocat', ...runOf(origin) }),
              nx({ cloudId, encryptionKey: KEY }),
              {}
            )
            out.push({ name: `${setup}, ${origin}, ${cloudId === '' ? 'no nxCloudId' : 'nxCloudId'}, workspace-id-access ${wia}`, d })
          }
    return out
  }

  test('a run with no remote cache is never said to read, and every reason is at most 45 words', async () => {
    const all = await runs()
    expect(all.some(r => r.d.access === 'none')).toBe(true)
    const wrong = all
      .filter(({ d }) => (d.access === 'none' && /\b(?:it reads|reads only)\b/.test(d.reason)) || d.reason.split(/\s+/).length > 45)
      .map(r => `${r.name}: ${r.d.reason}`)
    expect(wrong).toEqual([])
  })

  test("a fork pull request with no token: the reason ends in 'no remote cache', the fix is in fix, the whole chain in detail", async () => {
    const d = decide(config({}), await facts(runOf('fork PR')), nx({ cloudId: CLOUD_ID, encryptionKey: KEY }), {})
    expect(d.access).toBe('none')
    expect(d.reason).toBe(
      'main-only: a pull request from the fork mallory/monorepo is untrusted, and no read-only token is set (GitHub gives a pull request from a fork no secrets), so no remote cache is used.'
    )
    expect(d.fix).toBe(
      "Set the workspace ID access level to read-only in Nx Cloud, then workspace-id-access: read-only, to let such runs read through nx.json's nxCloudId."
    )
    expect(d.detail).toContain("so it may only read, but no read-only token is set ('read-only-token' or nx.json;")
    expect(d.detail).not.toContain('reads only')
  })

  test('a run that gets what the setup gives it has nothing to fix', async () => {
    const push = decide(
      config({ 'read-write-token': RW, 'read-only-token': RO, 'encryption-key': KEY }),
      await facts({ event: 'push', ref: 'refs/heads/main', payload: pushPayload('refs/heads/main') }),
      nx(),
      {}
    )
    expect([push.access, push.fix, push.detail]).toEqual(['read-write', null, push.reason])
    const pr = decide(
      config({ 'read-write-token': RW, 'read-only-token': RO, 'encryption-key': KEY }),
      await facts(runOf('same-repo PR')),
      nx(),
      {}
    )
    expect([pr.access, pr.fix]).toEqual(['read-only', null])
  })

  test("a write run whose 'read-write-token' is empty: the fix names it", async () => {
    const d = decide(
      config({ 'read-only-token': RO, 'encryption-key': KEY }),
      await facts({ event: 'push', ref: 'refs/heads/main', payload: pushPayload('refs/heads/main') }),
      nx(),
      {}
    )
    expect(d.access).toBe('read-only')
    expect(d.fix).toMatch(/^Pass the read-write CI access token as 'read-write-token'/)
  })
})
