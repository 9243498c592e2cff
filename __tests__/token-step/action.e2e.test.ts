// The token step as the runner runs it: dist/index.js spawned with INPUT_* variables, a real-shaped
// payload and the file-command files; then what it wrote is parsed and checked.

import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type ActionRun, REPO_ROOT, runAction, unmaskedText } from '../helpers/run-action.js'
import { prPayload, pushPayload, schedulePayload, workflowRunPayload } from '../fixtures/payloads.js'
import { KEY, RO, RUN_CASES, RW, SHARED, expectedToken } from '../fixtures/run-cases.js'
import { marked } from 'marked'
import { parseSummary } from '../helpers/step-summary.js'

const SECRETS = [RW, RO, KEY]
const TOKEN_VARS = ['NX_CLOUD_ACCESS_TOKEN', 'NX_CLOUD_AUTH_TOKEN', 'NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN']

/** Every run: no raw secret anywhere but in ::add-mask:: and GITHUB_ENV. */
function expectNoSecretLeak(run: ActionRun, secrets: string[] = SECRETS): void {
  const text = unmaskedText(run)
  for (const s of secrets) expect(text).not.toContain(s)
}

function expectNothingExported(run: ActionRun): void {
  expect(run.status).not.toBe(0)
  for (const v of TOKEN_VARS) expect(run.env[v]).toBeUndefined()
  expect(run.env.NX_CLOUD_ENCRYPTION_KEY).toBeUndefined()
  expect(run.outputs).toEqual({})
}

function workspace(nxJson?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'nca-ws-'))
  if (nxJson !== undefined) writeFileSync(join(dir, 'nx.json'), nxJson)
  return dir
}

const TOKENS = { 'read-write-token': RW, 'read-only-token': RO, 'encryption-key': KEY }

describe('each run of the shared table gets what docs/POLICY.md says', () => {
  test.each(RUN_CASES.map(c => [c.name, c] as const))('%s', async (_name, c) => {
    const run = await runAction({
      event: c.event,
      ref: c.ref,
      actor: c.actor,
      payload: c.payload,
      inputs: { setup: c.setup, ...TOKENS, ...c.inputs },
      workspace: c.nxJsonToken === undefined ? undefined : workspace(JSON.stringify({ nxCloudAccessToken: c.nxJsonToken }))
    })
    expect(run.errors).toEqual([])
    expect(run.status).toBe(0)
    expect(run.outputs.access).toBe(c.expect.access)
    expect(run.outputs['token-source']).toBe(c.expect.tokenSource)
    expect(run.env.NX_CLOUD_ACCESS_TOKEN).toBe(expectedToken(c))
    // The read-write-token secret reaches the job's environment only when it is the choice.
    if (c.expect.tokenSource !== 'read-write-token') expect(Object.values(run.env).join('\n')).not.toContain(RW)
    expect(run.outputs.reason.length).toBeGreaterThan(20)
    if (c.reason !== undefined) expect(run.outputs.reason).toContain(c.reason)
    expect(run.summary).toContain(`Nx Cloud access: ${c.expect.access}`)
    expectNoSecretLeak(run, [...SECRETS, SHARED])
  })
})

describe('exports', () => {
  test('masks every secret before anything else is printed', async () => {
    const run = await runAction({ event: 'push', ref: 'refs/heads/main', payload: pushPayload('refs/heads/main'), inputs: TOKENS })
    const lines = run.stdout.split('\n').filter(l => l !== '')
    const firstOther = lines.findIndex(l => !l.startsWith('::add-mask::'))
    for (const s of SECRETS) {
      const at = lines.indexOf(`::add-mask::${s}`)
      expect(at).toBeGreaterThanOrEqual(0)
      expect(at).toBeLessThan(firstOther)
    }
  })

  test('an ambient read-write token from job-level env: is overridden on a PR, with a notice naming it', async () => {
    const run = await runAction({
      event: 'pull_request',
      ref: 'refs/pull/104/merge',
      payload: prPayload(),
      inputs: TOKENS,
      env: { NX_CLOUD_ACCESS_TOKEN: RW, NX_CLOUD_AUTH_TOKEN: RW }
    })
    expect(run.env.NX_CLOUD_ACCESS_TOKEN).toBe(RO)
    expect(run.env.NX_CLOUD_AUTH_TOKEN).toBe(RO)
    expect(run.notices.join('\n')).toContain('NX_CLOUD_ACCESS_TOKEN')
    expect(run.notices.join('\n')).toContain('NX_CLOUD_AUTH_TOKEN')
    expectNoSecretLeak(run)
  })

  test('no NX_CLOUD_AUTH_TOKEN is exported when the job had none', async () => {
    const run = await runAction({ event: 'push', ref: 'refs/heads/main', payload: pushPayload('refs/heads/main'), inputs: TOKENS })
    expect(run.env.NX_CLOUD_AUTH_TOKEN).toBeUndefined()
    expect(run.notices).toEqual([])
  })

  test('a PR with no read-only token anywhere gets none: Nx Cloud off, the ambient token blanked', async () => {
    const run = await runAction({
      event: 'pull_request',
      ref: 'refs/pull/104/merge',
      payload: prPayload(),
      inputs: { 'read-write-token': RW, 'encryption-key': KEY },
      env: { NX_CLOUD_ACCESS_TOKEN: RW }
    })
    expect(run.outputs.access).toBe('none')
    expect(run.outputs['token-source']).toBe('none')
    expect(run.env.NX_NO_CLOUD).toBe('true')
    expect(run.env.NX_CLOUD_ACCESS_TOKEN).toBe('')
  })

  test.each([
    ['setup off', { setup: 'off' }],
    ['access none', { 'read-only-token': '' }]
  ])('%s: an ambient self-hosted cache token is blanked, since NX_NO_CLOUD=true would make Nx use it', async (_n, inputs) => {
    const run = await runAction({
      event: 'pull_request',
      ref: 'refs/pull/104/merge',
      payload: prPayload(),
      inputs: { ...TOKENS, ...inputs },
      env: { NX_SELF_HOSTED_REMOTE_CACHE_SERVER: 'http://127.0.0.1:4000', NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: RW }
    })
    expect(run.status).toBe(0)
    expect(run.env.NX_NO_CLOUD).toBe('true')
    expect(run.env.NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN).toBe('')
    expect(run.env.NX_SELF_HOSTED_REMOTE_CACHE_SERVER).toBe('')
    expect(run.notices.join('\n')).toContain('NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN was set')
    expectNoSecretLeak(run)
  })

  test('the read-only token comes from nx.json when the input is empty (both layouts)', async () => {
    const modern = workspace(JSON.stringify({ nxCloudAccessToken: RO, nxCloudEncryptionKey: KEY }))
    const legacy = workspace(
      `{ // comments and trailing commas, as Nx allows
        "tasksRunnerOptions": { "default": { "runner": "nx-cloud", "options": { "accessToken": "${RO}", "encryptionKey": "${KEY}", }, }, },
      }`
    )
    for (const ws of [modern, legacy]) {
      const run = await runAction({
        event: 'pull_request',
        ref: 'refs/pull/104/merge',
        payload: prPayload(),
        inputs: { 'read-write-token': RW },
        workspace: ws
      })
      expect(run.errors).toEqual([])
      expect(run.outputs['token-source']).toBe('nx.json')
      expect(run.env.NX_CLOUD_ACCESS_TOKEN).toBe(RO)
      expect(run.outputs.encryption).toBe('enabled')
      expectNoSecretLeak(run)
    }
  })

  test('the legacy layout wins over the top-level keys when both are present', async () => {
    const other = Buffer.from('11111111-2222-4333-8444-555555555555|read-only').toString('base64')
    const ws = workspace(JSON.stringify({ nxCloudAccessToken: other, tasksRunnerOptions: { default: { options: { accessToken: RO } } } }))
    const run = await runAction({
      event: 'pull_request',
      ref: 'refs/pull/104/merge',
      payload: prPayload(),
      inputs: { 'require-encryption': 'false' },
      workspace: ws
    })
    expect(run.env.NX_CLOUD_ACCESS_TOKEN).toBe(RO)
  })

  test('working-directory points at the workspace', async () => {
    const root = workspace()
    const sub = join(root, 'apps-ws')
    mkdirSync(sub)
    writeFileSync(join(sub, 'nx.json'), JSON.stringify({ nxCloudAccessToken: RO, nxCloudEncryptionKey: KEY }))
    const run = await runAction({
      event: 'pull_request',
      ref: 'refs/pull/104/merge',
      payload: prPayload(),
      inputs: { 'working-directory': 'apps-ws' },
      workspace: root
    })
    expect(run.errors).toEqual([])
    expect(run.outputs['token-source']).toBe('nx.json')
  })

  test('skip-cache exports NX_SKIP_NX_CACHE=true and says so', async () => {
    const run = await runAction({
      event: 'push',
      ref: 'refs/heads/main',
      payload: pushPayload('refs/heads/main'),
      inputs: { ...TOKENS, 'skip-cache': 'true' }
    })
    expect(run.env.NX_SKIP_NX_CACHE).toBe('true')
    expect(run.outputs['skip-cache']).toBe('true')
    expect(run.outputs.reason).toMatch(
      /^main-only: [^.]*read-write-token\. The cache is skipped for the rest of the job \(NX_SKIP_NX_CACHE=true\)\.$/
    )
  })

  test('setup off exports NX_NO_CLOUD=true and no token', async () => {
    const run = await runAction({
      event: 'push',
      ref: 'refs/heads/main',
      payload: pushPayload('refs/heads/main'),
      inputs: { ...TOKENS, setup: 'off' }
    })
    expect(run.env).toEqual({ NX_NO_CLOUD: 'true' })
    expect(run.outputs.access).toBe('none')
  })

  test('self-hosted cache: the token and URL go to the self-hosted variables, Nx Cloud is off', async () => {
    const inputs = { ...TOKENS, 'self-hosted-cache-url': 'http://127.0.0.1:4000' }
    const main = await runAction({ event: 'push', ref: 'refs/heads/main', payload: pushPayload('refs/heads/main'), inputs })
    expect(main.env.NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN).toBe(RW)
    expect(main.env.NX_SELF_HOSTED_REMOTE_CACHE_SERVER).toBe('http://127.0.0.1:4000')
    expect(main.env.NX_NO_CLOUD).toBe('true')
    expect(main.env.NX_CLOUD_ACCESS_TOKEN).toBeUndefined()
    const pr = await runAction({ event: 'pull_request', ref: 'refs/pull/104/merge', payload: prPayload(), inputs })
    expect(pr.env.NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN).toBe(RO)
    expect(pr.outputs.access).toBe('read-only')
  })

  test('self-hosted cache with no read-only token: no server is exported (Nx would abort on a 401)', async () => {
    const run = await runAction({
      event: 'pull_request',
      ref: 'refs/pull/104/merge',
      payload: prPayload(),
      inputs: { 'read-write-token': RW, 'self-hosted-cache-url': 'http://127.0.0.1:4000' }
    })
    expect(run.status).toBe(0)
    expect(run.outputs.access).toBe('none')
    expect(run.env.NX_SELF_HOSTED_REMOTE_CACHE_SERVER).toBeUndefined()
  })
})

describe('read-write withheld and premises', () => {
  test('a run that may write but has an empty read-write-token reads, with a warning', async () => {
    const run = await runAction({
      event: 'push',
      ref: 'refs/heads/main',
      payload: pushPayload('refs/heads/main'),
      inputs: { 'read-only-token': RO, 'encryption-key': KEY }
    })
    expect(run.status).toBe(0)
    expect(run.outputs.access).toBe('read-only')
    expect(run.warnings.join('\n')).toContain("'read-write-token' is empty")
  })

  test('swapped secrets: a read-write-token that decodes read-only warns', async () => {
    const run = await runAction({
      event: 'push',
      ref: 'refs/heads/main',
      payload: pushPayload('refs/heads/main'),
      inputs: { 'read-write-token': RO, 'encryption-key': KEY }
    })
    expect(run.warnings.join('\n')).toContain('swapped')
  })

  test('shared-read-write in a public repository warns', async () => {
    const ws = workspace(JSON.stringify({ nxCloudAccessToken: RW, nxCloudEncryptionKey: KEY }))
    const run = await runAction({
      event: 'push',
      ref: 'refs/heads/main',
      payload: pushPayload('refs/heads/main', { private: false }),
      inputs: { setup: 'shared-read-write' },
      workspace: ws
    })
    expect(run.status).toBe(0)
    expect(run.outputs['token-source']).toBe('nx.json')
    expect(run.outputs.access).toBe('read-write')
    expect(run.warnings.join('\n')).toContain('public repository')
  })

  test.each(['main-only', 'ci-read-write'])('%s fails when nx.json commits a read-write token', async setup => {
    const ws = workspace(JSON.stringify({ nxCloudAccessToken: RW, nxCloudEncryptionKey: KEY }))
    const run = await runAction({
      event: 'push',
      ref: 'refs/heads/main',
      payload: pushPayload('refs/heads/main'),
      inputs: { ...TOKENS, setup },
      workspace: ws
    })
    expect(run.errors).toHaveLength(1)
    expect(run.errors[0]).toContain("Input 'setup'")
    expect(run.errors[0]).toContain('read-write')
    expectNothingExported(run)
    expectNoSecretLeak(run)
  })
})

/** A workspace as `nx connect` leaves it: nxCloudId in nx.json, no token, no key. */
function nxCloudIdWorkspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nca-ws-'))
  writeFileSync(join(dir, 'nx.json'), JSON.stringify({ nxCloudId: '65f1c2a9d4e8b70012345678' }))
  return dir
}

describe('encryption: hash neutrality', () => {
  test('the key is exported when nx.json has none', async () => {
    const run = await runAction({ event: 'push', ref: 'refs/heads/main', payload: pushPayload('refs/heads/main'), inputs: TOKENS })
    expect(run.env.NX_CLOUD_ENCRYPTION_KEY).toBe(KEY)
    expect(run.outputs.encryption).toBe('enabled')
  })

  test('the same key as nx.json is not exported, and the run says so', async () => {
    const ws = workspace(JSON.stringify({ nxCloudEncryptionKey: KEY }))
    const run = await runAction({
      event: 'push',
      ref: 'refs/heads/main',
      payload: pushPayload('refs/heads/main'),
      inputs: TOKENS,
      workspace: ws
    })
    expect(run.status).toBe(0)
    expect(run.env.NX_CLOUD_ENCRYPTION_KEY).toBeUndefined()
    expect(run.outputs.encryption).toBe('enabled')
    expect(run.notices.join('\n')).toContain('not exported')
  })

  test('a key that differs from nx.json fails closed', async () => {
    const ws = workspace(JSON.stringify({ nxCloudEncryptionKey: 'another-key-0000' }))
    const run = await runAction({
      event: 'push',
      ref: 'refs/heads/main',
      payload: pushPayload('refs/heads/main'),
      inputs: TOKENS,
      workspace: ws
    })
    expect(run.errors).toHaveLength(1)
    expect(run.errors[0]).toContain("Input 'encryption-key' differs from the key in nx.json")
    expectNothingExported(run)
    expectNoSecretLeak(run, [...SECRETS, 'another-key-0000'])
  })

  test('with require-encryption: true, no key anywhere fails, naming the three places', async () => {
    const run = await runAction({
      event: 'push',
      ref: 'refs/heads/main',
      payload: pushPayload('refs/heads/main'),
      inputs: { 'read-write-token': RW, 'read-only-token': RO, 'require-encryption': 'true' }
    })
    expect(run.errors).toHaveLength(1)
    for (const place of ["'encryption-key'", 'NX_CLOUD_ENCRYPTION_KEY', 'nxCloudEncryptionKey in nx.json']) {
      expect(run.errors[0]).toContain(place)
    }
    expectNothingExported(run)
  })

  test('a key in the job environment satisfies require-encryption and is not re-exported', async () => {
    const run = await runAction({
      event: 'push',
      ref: 'refs/heads/main',
      payload: pushPayload('refs/heads/main'),
      inputs: { 'read-write-token': RW },
      env: { NX_CLOUD_ENCRYPTION_KEY: KEY }
    })
    expect(run.status).toBe(0)
    expect(run.outputs.encryption).toBe('enabled')
    expect(run.env.NX_CLOUD_ENCRYPTION_KEY).toBeUndefined()
  })

  test.each<Record<string, string>>([{}, { 'require-encryption': 'false' }])(
    'without a key, a push to main writes unencrypted with one warning, said in the summary too (inputs %j)',
    async extra => {
      const run = await runAction({
        workspace: nxCloudIdWorkspace(),
        event: 'push',
        ref: 'refs/heads/main',
        payload: pushPayload('refs/heads/main'),
        inputs: { 'read-write-token': RW, ...extra }
      })
      expect(run.status).toBe(0)
      expect([run.outputs.access, run.outputs.encryption]).toEqual(['read-write', 'disabled'])
      expect(run.warnings).toHaveLength(1)
      expect(run.warnings[0]).toContain('This run writes to the Nx Cloud cache unencrypted')
      expect(run.summary).toContain('not end-to-end encrypted')
      expect(run.env.NX_CLOUD_ENCRYPTION_KEY).toBeUndefined()
    }
  )

  test('without a key, a same-repo pull request reads with no warning, and the summary says the key is missing', async () => {
    const run = await runAction({
      workspace: nxCloudIdWorkspace(),
      event: 'pull_request',
      ref: 'refs/pull/1/merge',
      payload: prPayload(),
      inputs: { 'read-only-token': RO }
    })
    expect(run.status).toBe(0)
    expect([run.outputs.access, run.outputs.encryption, run.warnings]).toEqual(['read-only', 'disabled', []])
    expect(run.summary).toContain('not end-to-end encrypted')
  })
})

describe('bad input fails closed: one ::error:: line naming the input, nothing exported', () => {
  const cases: [string, Record<string, string>, string | null, string][] = [
    [
      'unknown setup',
      { setup: 'everything' },
      null,
      "Input 'setup' has an unknown value 'everything'. Accepted: main-only, ci-read-write, shared-read-write, off"
    ],
    ['unknown write event', { 'write-events': 'push, pusj' }, null, "Input 'write-events' names an unknown or non-writing event 'pusj'"],
    ['pull_request as a write event', { 'write-events': 'pull_request' }, null, 'a pull request has no branch'],
    ['a token with a line break', { 'read-write-token': `${RW}\nX` }, null, "Input 'read-write-token' contains a line break"],
    [
      'a key with a control character',
      { 'encryption-key': `${KEY}\u0007` },
      null,
      "Input 'encryption-key' contains a line break or control character"
    ],
    ['skip-cache not a boolean', { 'skip-cache': 'yes' }, null, "Input 'skip-cache' has an unknown value 'yes'. Accepted: true or false."],
    ['self-hosted URL not a URL', { 'self-hosted-cache-url': 'cache.local' }, null, "Input 'self-hosted-cache-url' is not a URL"],
    ['off with a self-hosted URL', { setup: 'off', 'self-hosted-cache-url': 'http://127.0.0.1:1' }, null, "contradicts setup 'off'"],
    ['malformed nx.json', {}, '{ "nxCloudAccessToken": ', "Input 'working-directory' points at a malformed"],
    ['nx.json nested 100k [ deep', {}, '['.repeat(100_000), 'nx.json (nested deeper than 256 levels'],
    ['nx.json nested 100k {"a": deep', {}, '{"a":'.repeat(100_000), 'nx.json (nested deeper than 256 levels'],
    [
      'nx.json with a token next to 100k closed { }',
      {},
      `{"nxCloudAccessToken": "${RO}", "x": ${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`,
      'nx.json (nested deeper than 256 levels'
    ],
    [
      'self-hosted URL with a line break',
      { 'self-hosted-cache-url': 'http://127.0.0.1:1\nNX_NO_CLOUD=false' },
      null,
      "Input 'self-hosted-cache-url' contains a line break or control character"
    ],
    [
      'self-hosted URL with a tab',
      { 'self-hosted-cache-url': 'http://127.0.0.1:\t1' },
      null,
      "Input 'self-hosted-cache-url' contains a line break or control character"
    ],
    [
      'self-hosted URL with a carriage return',
      { 'self-hosted-cache-url': 'http://cache\r.local' },
      null,
      "Input 'self-hosted-cache-url' contains a line break or control character"
    ],
    [
      'self-hosted URL with credentials',
      { 'self-hosted-cache-url': 'https://nx:hunter2-pw@cache.local' },
      null,
      "Input 'self-hosted-cache-url' carries credentials"
    ],
    ['a read-write token as read-only-token', { 'read-only-token': RW }, null, "Input 'read-only-token' holds a read-write token"],
    [
      'a negated write-branches glob',
      { 'write-branches': 'main, !release/old' },
      null,
      "Input 'write-branches' has a negated glob '!release/old'"
    ],
    ['a setup named after an object property', { setup: 'constructor' }, null, "Input 'setup' has an unknown value 'constructor'"]
  ]
  test.each(cases)('%s', async (_name, inputs, nxJson, message) => {
    const run = await runAction({
      event: 'push',
      ref: 'refs/heads/main',
      payload: pushPayload('refs/heads/main'),
      inputs: { ...TOKENS, ...inputs },
      workspace: nxJson === null ? undefined : workspace(nxJson)
    })
    expect(run.errors).toHaveLength(1)
    expect(run.errors[0]).toContain(message)
    expectNothingExported(run)
    expect(run.env).toEqual({})
    expectNoSecretLeak(run, [...SECRETS, 'hunter2'])
    expect(run.stdout).not.toContain('Maximum call stack')
    expect(run.stderr).toBe('')
    // The summary says what failed and what is accepted: the error line, cut at "Accepted:".
    const summary = parseSummary(run.summary)
    expect(summary.verdict).toBe('❌ Failed: nothing was exported')
    expect(summary.cause).toContain(message.split(' Accepted: ')[0])
    const [cause, accepted] = run.errors[0].split(' Accepted: ')
    expect(summary.cause).toBe(cause)
    expect(summary.fix).toBe(accepted === undefined ? null : `Use what is accepted: ${accepted}`)
  })
})

describe('setup 3 never hands the read-write-token secret to an untrusted run', () => {
  test.each([
    ['a fork pull_request_target', 'pull_request_target', prPayload({ fork: 'mallory/monorepo' }), 'octocat'],
    ['a workflow_run', 'workflow_run', workflowRunPayload(), 'mallory'],
    ['a fork pull_request', 'pull_request', prPayload({ fork: 'mallory/monorepo' }), 'mallory'],
    ['a Dependabot pull_request', 'pull_request', prPayload({ author: 'dependabot[bot]' }), 'dependabot[bot]']
  ])('%s with no token in nx.json gets no remote cache, and no secret', async (_name, event, payload, actor) => {
    const run = await runAction({
      event,
      ref: 'refs/heads/main',
      actor,
      payload,
      inputs: { setup: 'shared-read-write', ...TOKENS },
      workspace: workspace(JSON.stringify({ nxCloudId: 'abc123' }))
    })
    expect(run.errors).toEqual([])
    expect([run.outputs.access, run.outputs['token-source']]).toEqual(['none', 'none'])
    expect(run.env.NX_NO_CLOUD).toBe('true')
    for (const v of TOKEN_VARS) expect(run.env[v]).toBeUndefined()
    expect(Object.values(run.env).join('\n')).not.toContain(RW)
    expect(run.outputs.reason).toContain('is untrusted, so the read-write-token secret is withheld')
    expect(run.summary).toContain('Nx Cloud access: none')
    expectNoSecretLeak(run)
  })
})

describe('access tells the truth', () => {
  test('setup 3 with a read-only token committed in nx.json: access read-only, and the summary agrees', async () => {
    const run = await runAction({
      event: 'push',
      ref: 'refs/heads/main',
      payload: pushPayload('refs/heads/main'),
      inputs: { setup: 'shared-read-write', 'encryption-key': KEY },
      workspace: workspace(JSON.stringify({ nxCloudAccessToken: RO }))
    })
    expect(run.errors).toEqual([])
    expect([run.outputs.access, run.outputs['token-source']]).toEqual(['read-only', 'nx.json'])
    expect(run.env.NX_CLOUD_ACCESS_TOKEN).toBe(RO)
    expect(run.outputs.reason).toContain("nx.json's token decodes as read-only, so it reads only")
    expect(run.warnings.join('\n')).toContain('nobody can write')
    expect(parseSummary(run.summary).verdict).toBe('Nx Cloud access: read-only')
    expect(run.stdout).toContain('nx-cloud-access: read-only.')
    expectNoSecretLeak(run)
  })

  test('a read-write-token that decodes as read-only: access read-only', async () => {
    const run = await runAction({
      event: 'push',
      ref: 'refs/heads/main',
      payload: pushPayload('refs/heads/main'),
      inputs: { setup: 'ci-read-write', 'read-write-token': RO, 'encryption-key': KEY }
    })
    expect([run.outputs.access, run.outputs['token-source']]).toEqual(['read-only', 'read-write-token'])
    expect(run.outputs.reason).toContain("input 'read-write-token' decodes as read-only")
    expect(run.summary).toContain('Nx Cloud access: read-only')
    expectNoSecretLeak(run)
  })
})

describe('default branch', () => {
  test('the payload default branch is the write branch (a repo on master)', async () => {
    const master = await runAction({
      event: 'push',
      ref: 'refs/heads/master',
      payload: pushPayload('refs/heads/master', { defaultBranch: 'master' }),
      inputs: TOKENS
    })
    expect(master.outputs.access).toBe('read-write')
    const main = await runAction({
      event: 'push',
      ref: 'refs/heads/main',
      payload: pushPayload('refs/heads/main', { defaultBranch: 'master' }),
      inputs: TOKENS
    })
    expect(main.outputs.access).toBe('read-only')
  })

  test('schedule (no default branch in the payload) asks the API with github-token, once', async () => {
    const seen: string[] = []
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization}`)
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ full_name: 'acme/monorepo', default_branch: 'trunk' }))
    })
    await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
    const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    try {
      const trunk = await runAction({
        event: 'schedule',
        ref: 'refs/heads/trunk',
        payload: schedulePayload(),
        inputs: { ...TOKENS, 'github-token': 'ghs_apitoken123' },
        env: { GITHUB_API_URL: api }
      })
      expect(trunk.errors).toEqual([])
      expect(trunk.outputs.access).toBe('read-write')
      expect(seen).toEqual(['GET /repos/acme/monorepo token ghs_apitoken123'])
      expectNoSecretLeak(trunk, [...SECRETS, 'ghs_apitoken123'])
      // A push payload carries the default branch: no API call even with a token.
      await runAction({
        event: 'push',
        ref: 'refs/heads/main',
        payload: pushPayload('refs/heads/main'),
        inputs: { ...TOKENS, 'github-token': 'ghs_apitoken123' },
        env: { GITHUB_API_URL: api }
      })
      expect(seen).toHaveLength(1)
    } finally {
      server.close()
    }
  })

  test('schedule without github-token falls back to main, and the reason says so', async () => {
    const run = await runAction({ event: 'schedule', ref: 'refs/heads/main', payload: schedulePayload(), inputs: TOKENS })
    expect(run.outputs.access).toBe('read-write')
    expect(run.outputs.reason).toContain('fallback')
  })
})

describe('summary', () => {
  test('a pull request from a fork: the step, the verdict, the reason, then the pull request, the key and the exports', async () => {
    const run = await runAction({
      event: 'pull_request',
      ref: 'refs/pull/104/merge',
      payload: prPayload({ fork: 'mallory/monorepo', headRef: 'fix-typo' }),
      inputs: TOKENS
    })
    const summary = parseSummary(run.summary)
    // Markdown under the step's name, never raw HTML; h2 for the step, h3 for its sections.
    expect(run.summary).not.toMatch(/<[a-z]+[ >]/)
    expect(run.summary.startsWith('## Nx Cloud Access\n')).toBe(true)
    expect(summary.headings).toEqual([
      { depth: 2, text: 'Nx Cloud Access' },
      { depth: 3, text: 'Details' }
    ])
    expect(summary.verdict).toBe('Nx Cloud access: read-only')
    expect(summary.cause).toBe(
      'main-only: a pull request from the fork mallory/monorepo is untrusted, so it reads only, with read-only-token.'
    )
    expect(summary.cause).toBe(run.outputs.reason)
    expect(summary.fix).toBeNull()
    expect(summary.sections[0].rows).toEqual({
      'Pull request': '#104 fix-typo → main, from the fork mallory/monorepo',
      'Encryption key': "input 'encryption-key', exported as NX_CLOUD_ENCRYPTION_KEY",
      Exported: 'NX_CLOUD_ACCESS_TOKEN, NX_CLOUD_ENCRYPTION_KEY'
    })
    expect(summary.sections[0].items).toEqual([expect.stringContaining('isolated to this branch')])
    expect(summary.other).toEqual([])
    expectNoSecretLeak(run)
  })

  test('a fork pull request with no token: the reason short, one To fix line, the whole rule in the details, no key row', async () => {
    const run = await runAction({
      workspace: workspace(JSON.stringify({ nxCloudId: '65f1c2a9d4e8b70012345678' })),
      event: 'pull_request',
      ref: 'refs/pull/104/merge',
      payload: prPayload({ fork: 'mallory/monorepo' }),
      inputs: {}
    })
    expect(run.outputs.access).toBe('none')
    const summary = parseSummary(run.summary)
    expect(summary.verdict).toBe('Nx Cloud access: none')
    expect(summary.cause).toBe(run.outputs.reason)
    expect(summary.cause).not.toMatch(/reads only/)
    expect(summary.cause.split(' ').length).toBeLessThanOrEqual(45)
    expect(summary.fix).toMatch(/^Set the workspace ID access level to read-only in Nx Cloud, then workspace-id-access: read-only/)
    const rows = summary.sections[0].rows
    expect(Object.keys(rows)).toEqual(['Pull request', 'Rule', 'Exported'])
    expect(rows.Rule).toMatch(
      /^main-only: a pull request from the fork mallory\/monorepo is untrusted, so it may only read, but no read-only token/
    )
    // The log says it as the output does, and the fix on a line of its own.
    expect(run.stdout).toContain(`nx-cloud-access: none. ${run.outputs.reason}\n`)
    expect(run.stdout).toContain(`To fix: ${summary.fix}\n`)
  })

  test('docs/inputs-outputs.md shows what the action writes for that pull request, character for character', async () => {
    const page = readFileSync(join(REPO_ROOT, 'docs/inputs-outputs.md'), 'utf8')
    const block =
      /For a pull request from a fork \(GitHub gives it no secrets\) under\s+`setup: ci-read-write` with\s+`workspace-id-access: read-only`, the summary's markdown:\n\n````markdown\n([\s\S]*?)````/.exec(
        page
      )
    expect(block).not.toBeNull()
    const workspace = mkdtempSync(join(tmpdir(), 'nca-readme-'))
    writeFileSync(join(workspace, 'nx.json'), JSON.stringify({ nxCloudId: '65f1c2a9d4e8b70012345678' }))
    const run = await runAction({
      workspace,
      event: 'pull_request',
      ref: 'refs/pull/104/merge',
      payload: prPayload({ fork: 'mallory/monorepo', headRef: 'fix-typo' }),
      // What GitHub gives a fork's run: no secrets at all.
      inputs: { setup: 'ci-read-write', 'workspace-id-access': 'read-only' }
    })
    expect((block as RegExpExecArray)[1]).toBe(run.summary)
  })

  test('a pull request from a branch of this repository says so', async () => {
    const run = await runAction({
      event: 'pull_request',
      ref: 'refs/pull/104/merge',
      payload: prPayload(),
      inputs: { setup: 'ci-read-write', ...TOKENS }
    })
    const summary = parseSummary(run.summary)
    expect(summary.verdict).toBe('Nx Cloud access: read-write')
    expect(summary.sections[0].rows['Pull request']).toBe('#104 feature → main, from a branch of this repository')
  })

  test('a push to main: the verdict first, then the run, the key from nx.json, the exports', async () => {
    const run = await runAction({
      event: 'push',
      ref: 'refs/heads/main',
      payload: pushPayload('refs/heads/main'),
      inputs: { setup: 'main-only', 'read-write-token': RW, 'read-only-token': RO, 'rebuild-command': 'nx run-many -t build' },
      workspace: workspace(JSON.stringify({ nxCloudEncryptionKey: KEY }))
    })
    expect(run.status).toBe(0)
    const summary = parseSummary(run.summary)
    expect(summary.verdict).toBe('Nx Cloud access: read-write, cache skipped')
    expect(summary.cause).toBe(
      'main-only: a trusted push to main matches write-branches (main, the default branch), so it writes with read-write-token. The cache is skipped for the rest of the job (NX_SKIP_NX_CACHE=true), as rebuild-command is set.'
    )
    expect(summary.sections[0].rows).toEqual({
      Run: 'push on refs/heads/main',
      Rule: 'main-only: a trusted push to main matches write-branches (main, the default branch), so it writes with read-write-token; the cache is skipped for the rest of the job (NX_SKIP_NX_CACHE=true) because rebuild-command is set.',
      'Encryption key': 'nx.json (nxCloudEncryptionKey)',
      Exported: 'NX_CLOUD_ACCESS_TOKEN, NX_SKIP_NX_CACHE'
    })
    expectNoSecretLeak(run)
  })

  test('warnings come before the details, each marked; values from the run are escaped, not markup', async () => {
    const branch = 'x_<img src=y>*b*|`c`'
    const run = await runAction({
      event: 'push',
      ref: `refs/heads/${branch}`,
      payload: pushPayload(`refs/heads/${branch}`),
      inputs: { 'read-only-token': RO, 'encryption-key': KEY, 'write-branches': branch },
      workspace: workspace('{}')
    })
    expect(run.outputs.access).toBe('read-only')
    const summary = parseSummary(run.summary)
    expect(summary.warnings).toEqual([expect.stringMatching(/^This run may write, but input 'read-write-token' is empty/)])
    expect(summary.fix).toMatch(/^Pass the read-write CI access token as 'read-write-token'/)
    expect(summary.sections[0].rows.Run).toBe(`push on refs/heads/${branch}`)
    expect(summary.cause).toContain(`a trusted push to ${branch} matches write-branches (${branch})`)
    // As GitHub renders it: the branch name is text, not an image, emphasis, a table or a code span.
    const html = marked.parse(run.summary, { async: false, gfm: true })
    expect(html).not.toMatch(/<img|<em>|<table|<code>/)
    expect(summary.other).toEqual([])
  })

  test('each secret is masked once', async () => {
    const run = await runAction({ event: 'push', ref: 'refs/heads/main', payload: pushPayload('refs/heads/main'), inputs: TOKENS })
    for (const s of SECRETS) expect(run.stdout.split('\n').filter(l => l === `::add-mask::${s}`)).toHaveLength(1)
  })
})

describe('the read-write secret handed to a run that may not write (docs/POLICY.md#read-write-secret-exposed)', () => {
  test('a same-repo pull request given read-write-token reads, and warns once that the secret reached it, never printing it', async () => {
    const run = await runAction({
      workspace: nxCloudIdWorkspace(),
      event: 'pull_request',
      ref: 'refs/pull/7/merge',
      payload: prPayload(),
      inputs: { 'read-write-token': RW, 'read-only-token': RO, 'encryption-key': KEY }
    })
    expect([run.status, run.outputs.access, run.outputs['token-source']]).toEqual([0, 'read-only', 'read-only-token'])
    expect(run.warnings).toHaveLength(1)
    expect(run.warnings[0]).toMatch(
      /^Input 'read-write-token' is set on a run that may not write \(a pull request from a branch of this repository: /
    )
    expect(run.warnings[0]).toContain('Move it into a GitHub environment')
    expect(run.summary).toContain('Move it into a GitHub environment')
    expect(Object.values(run.env)).not.toContain(RW)
    expect(unmaskedText(run)).not.toContain(RW)
  })

  test('the same inputs on a push to main write and say nothing of it', async () => {
    const run = await runAction({
      workspace: nxCloudIdWorkspace(),
      event: 'push',
      ref: 'refs/heads/main',
      payload: pushPayload('refs/heads/main'),
      inputs: { 'read-write-token': RW, 'read-only-token': RO, 'encryption-key': KEY }
    })
    expect([run.status, run.outputs.access, run.warnings]).toEqual([0, 'read-write', []])
  })
})
