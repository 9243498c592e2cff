// The token Nx uses is the token the kit reports (issue 20, docs/POLICY.md#exports). For each run,
// the bundled token step runs as the runner runs it; then Nx's OWN modules are asked, with the job's
// environment plus what the step exported, which token, key and setting they settle on:
//
// - nx/bin/workspace-env.js loadWorkspaceEnv: `.local.env`, `.env.local`, `.env` loaded and
//   expanded together (nx/src/utils/dotenv.js);
// - nx/src/nx-cloud/utilities/environment.js ACCESS_TOKEN: NX_CLOUD_AUTH_TOKEN ||
//   NX_CLOUD_ACCESS_TOKEN || the same two of nx-cloud.env;
// - nx/src/config/nx-json.js readNxJson (nx.json merged over its `extends`), and
//   nx/src/nx-cloud/utilities/get-cloud-options.js getCloudOptions (the runner options, nx.json's
//   token and key among them);
// - nx/src/utils/nx-cloud-utils.js isNxCloudDisabled (NX_NO_CLOUD=true or neverConnectToCloud).
//
// Nx Cloud's client (downloaded at run time, so not here) takes the environment's ACCESS_TOKEN
// before the runner options' accessToken, as Nx Cloud's docs say an NX_CLOUD_ACCESS_TOKEN overrides
// nx.json's; the kit assumes the same.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { type ActionRun, runAction, unmaskedText } from '../helpers/run-action.js'
import { type NxSettles, whatNxSettlesOn } from '../helpers/nx-settles.js'
import { prPayload, pushPayload } from '../fixtures/payloads.js'
import { KEY, RO, RW } from '../fixtures/run-cases.js'
import { parseSummary } from '../helpers/step-summary.js'

const CLOUD_ID = '65f1c2a9d4e8b70012345678'
/** A token of a level the kit cannot decode (today's CI access tokens do not say their level). */
const OPAQUE = 'ZmlsZS10b2tlbi1vZi11bmtub3duLWxldmVs'

/** What Nx will do with Nx Cloud, in the kit's words. */
function nxAccess(nx: NxSettles, workspaceIdAccess: string): string {
  if (nx.disabled) return 'none'
  if (nx.token === RW) return 'read-write'
  if (nx.token === RO) return 'read-only'
  if (nx.token !== '') return `the token ${nx.token === OPAQUE ? 'OPAQUE' : nx.token}`
  if (nx.cloudId !== '') return workspaceIdAccess === 'read-only' ? 'read-only' : 'the workspace ID access level'
  return 'none'
}

function workspace(files: Record<string, string>): string {
  const ws = mkdtempSync(join(tmpdir(), 'nca-agree-'))
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(ws, name)), { recursive: true })
    writeFileSync(join(ws, name), text)
  }
  return ws
}

type Run = 'push to main' | 'same-repo pull request' | 'fork pull request'

interface Case {
  setup: string
  run: Run
  files: Record<string, string>
  /** Job-level env: of the workflow. */
  env?: Record<string, string>
  workspaceIdAccess?: string
}

async function runKit(c: Case, ws: string): Promise<ActionRun> {
  const fork = c.run === 'fork pull request'
  // Secrets as GitHub gives them: none to a pull request from a fork.
  const secrets = fork
    ? { 'read-write-token': '', 'read-only-token': '', 'encryption-key': '' }
    : { 'read-write-token': RW, 'read-only-token': RO, 'encryption-key': '' }
  const pr = c.run !== 'push to main'
  return runAction({
    event: pr ? 'pull_request' : 'push',
    ref: pr ? 'refs/pull/104/merge' : 'refs/heads/main',
    payload: pr ? prPayload(fork ? { fork: 'mallory/monorepo' } : {}) : pushPayload('refs/heads/main'),
    workspace: ws,
    env: c.env ?? {},
    inputs: { setup: c.setup, ...secrets, 'workspace-id-access': c.workspaceIdAccess ?? 'read-only', 'require-encryption': 'false' }
  })
}

/** The kit's report and Nx's own answer, side by side; `refused` when the step failed. */
async function both(c: Case): Promise<{ kit: string; nx: string; key: [string, string]; run: ActionRun }> {
  const ws = workspace(c.files)
  const r = await runKit(c, ws)
  const nx = whatNxSettlesOn(ws, { ...(c.env ?? {}), ...r.env })
  if (r.status !== 0) return { kit: 'refused', nx: nxAccess(nx, c.workspaceIdAccess ?? 'read-only'), key: ['', nx.key], run: r }
  return {
    kit: r.outputs.access,
    nx: nxAccess(nx, c.workspaceIdAccess ?? 'read-only'),
    key: [r.outputs.access === 'none' ? 'none' : r.outputs.encryption, nx.disabled ? 'none' : nx.key !== '' ? 'enabled' : 'disabled'],
    run: r
  }
}

const nxJson = (o: Record<string, unknown>): string => JSON.stringify(o)

// The attack review's cases (issue 20), each as it was reported.
describe('the cases of the attack review: Nx and the kit agree, and a committed read-write token is refused', () => {
  test.each<[string, Record<string, string>]>([
    ['in .env, NX_CLOUD_AUTH_TOKEN=${NX_RW} with NX_RW on the next line', { '.env': `NX_CLOUD_AUTH_TOKEN=\${NX_RW}\nNX_RW=${RW}\n` }],
    [
      'split across .env.local (NX_RW) and .env (NX_CLOUD_AUTH_TOKEN=${NX_RW})',
      { '.env.local': `NX_RW=${RW}\n`, '.env': 'NX_CLOUD_AUTH_TOKEN=${NX_RW}\n' }
    ],
    ['in .env, NX_CLOUD_ACCESS_TOKEN=${X} with X on the next line', { '.env': `NX_CLOUD_ACCESS_TOKEN=\${X}\nX=${RW}\n` }],
    ['nx.json extends ./base.json, whose nxCloudAccessToken is read-write', { 'base.json': nxJson({ nxCloudAccessToken: RW }) }]
  ])(
    '%s',
    async (_, extra) => {
      const extendsBase = 'base.json' in extra
      const files = {
        'nx.json': nxJson({ nxCloudId: CLOUD_ID, nxCloudEncryptionKey: KEY, ...(extendsBase ? { extends: './base.json' } : {}) }),
        ...extra
      }
      // Nx itself settles on the read-write token where the job leaves the variables empty.
      expect(whatNxSettlesOn(workspace(files), { NX_CLOUD_ACCESS_TOKEN: '', NX_CLOUD_AUTH_TOKEN: '' }).token).toBe(RW)
      // Every run, side by side: the kit's report and what Nx's own modules settle on.
      const got: string[][] = []
      const want: string[][] = []
      const refusals: ActionRun[] = []
      for (const setup of ['main-only', 'ci-read-write', 'shared-read-write']) {
        for (const run of ['push to main', 'same-repo pull request', 'fork pull request'] as const) {
          const { kit, nx, run: r } = await both({ setup, run, files })
          got.push([setup, run, `kit: ${kit}`, `Nx: ${nx}`])
          // Under main-only and ci-read-write: refused every time, one error naming where the token sits.
          // Under shared-read-write the token is allowed, and the kit says what Nx does with it.
          want.push([setup, run, `kit: ${setup === 'shared-read-write' ? nx : 'refused'}`, `Nx: ${nx}`])
          if (setup !== 'shared-read-write') refusals.push(r)
        }
      }
      expect(got).toEqual(want)
      for (const r of refusals) {
        expect(r.errors).toHaveLength(1)
        expect(r.errors[0]).toMatch(
          extendsBase
            ? /base\.json \(the file .*nx\.json extends.*\) commits a read-write Nx Cloud token/
            : /sets \w+ to a read-write Nx Cloud token/
        )
        expect(r.env).toEqual({})
        expect(unmaskedText(r)).not.toContain(RW)
        // The failure's summary: the refusal as its cause, what is accepted as the fix, no token.
        const summary = parseSummary(r.summary)
        expect(summary.verdict).toBe('❌ Failed: nothing was exported')
        expect(summary.cause).toMatch(/commits a read-write Nx Cloud token|to a read-write Nx Cloud token/)
        expect(summary.fix).toMatch(/^Use what is accepted: /)
        expect(r.summary).not.toContain(RW)
      }
    },
    120000
  )

  test('neverConnectToCloud: true in nx.json: Nx never connects, and access is none with a warning that says why', async () => {
    const files = { 'nx.json': nxJson({ nxCloudId: CLOUD_ID, nxCloudEncryptionKey: KEY, neverConnectToCloud: true }) }
    for (const run of ['push to main', 'same-repo pull request'] as const) {
      const { kit, nx, run: r } = await both({ setup: 'main-only', run, files })
      expect([run, kit, nx]).toEqual([run, 'none', 'none'])
      expect(r.warnings.join('\n')).toContain('sets neverConnectToCloud, so Nx never connects to Nx Cloud')
      expect(r.outputs.reason).toContain('neverConnectToCloud')
      expect(r.summary).toContain('neverConnectToCloud')
      const summary = parseSummary(r.summary)
      expect(summary.verdict).toBe('Nx Cloud access: none')
      expect(summary.cause).toMatch(/but .*nx\.json sets neverConnectToCloud, which turns Nx Cloud off, so no remote cache is used/)
      expect(summary.fix).toMatch(/^Remove neverConnectToCloud from .*nx\.json to use Nx Cloud, or use setup: off to say so\.$/)
      expect(Object.values(r.env).join('\n')).not.toContain(RW)
    }
  }, 60000)
})

describe('the same for NX_NO_CLOUD and the key in an env file', () => {
  test('NX_NO_CLOUD=true in .env turns Nx Cloud off: access none, with a warning naming the file', async () => {
    const files = { 'nx.json': nxJson({ nxCloudId: CLOUD_ID, nxCloudEncryptionKey: KEY }), '.env': 'NX_NO_CLOUD=true\n' }
    const { kit, nx, run: r } = await both({ setup: 'main-only', run: 'push to main', files })
    expect([kit, nx]).toEqual(['none', 'none'])
    expect(r.warnings.join('\n')).toMatch(/\.env sets NX_NO_CLOUD=true/)
    const summary = parseSummary(r.summary)
    expect(summary.verdict).toBe('Nx Cloud access: none')
    expect(summary.cause).toMatch(/\.env sets NX_NO_CLOUD=true, which turns Nx Cloud off, so no remote cache is used/)
    expect(summary.fix).toMatch(/^Remove NX_NO_CLOUD from .*\.env to use Nx Cloud, or use setup: off to say so\.$/)
  }, 30000)

  test('NX_CLOUD_ENCRYPTION_KEY in .env.local is the key Nx uses: encryption is enabled, and the key is masked', async () => {
    const files = { 'nx.json': nxJson({ nxCloudId: CLOUD_ID }), '.env.local': `NX_CLOUD_ENCRYPTION_KEY=${KEY}\n` }
    const ws = workspace(files)
    const r = await runAction({
      event: 'push',
      ref: 'refs/heads/main',
      payload: pushPayload('refs/heads/main'),
      workspace: ws,
      inputs: { 'read-write-token': RW, 'read-only-token': RO, 'require-encryption': 'true' }
    })
    expect(r.errors).toEqual([])
    expect(r.outputs.encryption).toBe('enabled')
    expect(whatNxSettlesOn(ws, r.env).key).toBe(KEY)
    expect(unmaskedText(r)).not.toContain(KEY)
  }, 30000)
})

describe('a self-hosted remote cache in an env file, which Nx uses wherever Nx Cloud is not', () => {
  const files = {
    'nx.json': nxJson({ nxCloudId: CLOUD_ID, nxCloudEncryptionKey: KEY }),
    '.env': 'NX_SELF_HOSTED_REMOTE_CACHE_SERVER=https://cache.example.test\nNX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN=committed\n'
  }

  test.each(['main-only', 'shared-read-write', 'off'])(
    'refused under %s: one error naming the file, nothing exported',
    async setup => {
      const ws = workspace(files)
      // Nx itself: not disabled by the step's NX_NO_CLOUD=true, the file's server is in its environment.
      expect(whatNxSettlesOn(ws, { NX_NO_CLOUD: 'true', NX_SELF_HOSTED_REMOTE_CACHE_SERVER: '' }).selfHostedServer).toBe(
        'https://cache.example.test'
      )
      const r = await runKit({ setup, run: 'fork pull request', files: {} }, ws)
      expect(r.errors).toHaveLength(1)
      expect(r.errors[0]).toContain(`${join(ws, '.env')} sets NX_SELF_HOSTED_REMOTE_CACHE_SERVER: Nx loads that file into every run`)
      expect(r.env).toEqual({})
    },
    30000
  )

  test("with self-hosted-cache-url, the step's server and token win over the file's", async () => {
    const ws = workspace(files)
    const r = await runAction({
      event: 'pull_request',
      ref: 'refs/pull/104/merge',
      payload: prPayload(),
      workspace: ws,
      inputs: { 'read-write-token': 'rw-secret', 'read-only-token': 'ro-secret', 'self-hosted-cache-url': 'https://ours.example.test' }
    })
    expect(r.errors).toEqual([])
    expect(r.outputs.access).toBe('read-only')
    const nx = whatNxSettlesOn(ws, r.env)
    expect(nx.selfHostedServer).toBe('https://ours.example.test')
    expect(r.env.NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN).toBe('ro-secret')
  }, 30000)
})

// A generated table: every combination of setup, run, nx.json and env files below. Where the kit
// runs, its `access` and `encryption` must be what Nx's own modules settle on; where it refuses, a
// read-write token must be committed somewhere Nx reads it under setup main-only or ci-read-write.
const NX_JSONS: Record<string, Record<string, string>> = {
  'cloud id': { 'nx.json': nxJson({ nxCloudId: CLOUD_ID, nxCloudEncryptionKey: KEY }) },
  'cloud id and a read-only token': { 'nx.json': nxJson({ nxCloudId: CLOUD_ID, nxCloudAccessToken: RO, nxCloudEncryptionKey: KEY }) },
  'extends a base with the token and key': {
    'nx.json': nxJson({ extends: './config/base.json', nxCloudId: CLOUD_ID }),
    'config/base.json': nxJson({ nxCloudAccessToken: RO, nxCloudEncryptionKey: KEY })
  },
  'legacy runner options': {
    'nx.json': nxJson({ tasksRunnerOptions: { default: { runner: 'nx-cloud', options: { accessToken: RO, encryptionKey: KEY } } } })
  },
  neverConnectToCloud: { 'nx.json': nxJson({ nxCloudId: CLOUD_ID, nxCloudEncryptionKey: KEY, neverConnectToCloud: true }) }
}
const ENV_FILE_SETS: Record<string, Record<string, string>> = {
  'no env file': {},
  'AUTH=${T} then T=<opaque> in .env': { '.env': `NX_CLOUD_AUTH_TOKEN=\${T}\nT=${OPAQUE}\n` },
  'T=<read-write> in .env.local, ACCESS=${T} in .env': { '.env.local': `T=${RW}\n`, '.env': 'NX_CLOUD_ACCESS_TOKEN=${T}\n' },
  'AUTH=<opaque> in nx-cloud.env': { 'nx-cloud.env': `NX_CLOUD_AUTH_TOKEN=${OPAQUE}\n` },
  'NX_NO_CLOUD=true in .local.env': { '.local.env': 'NX_NO_CLOUD=true\n' },
  'a key in .env': { '.env': `NX_CLOUD_ENCRYPTION_KEY=${KEY}\n` }
}
const RUNS: Run[] = ['push to main', 'same-repo pull request', 'fork pull request']
const TABLE = ['main-only', 'shared-read-write'].flatMap(setup =>
  RUNS.flatMap(run => Object.keys(NX_JSONS).flatMap(n => Object.keys(ENV_FILE_SETS).map(e => ({ setup, run, n, e }))))
)

describe(`a generated table of ${TABLE.length} combinations`, () => {
  test.each(TABLE)(
    '$setup, $run, nx.json: $n, env files: $e',
    async ({ setup, run, n, e }) => {
      const files = { ...NX_JSONS[n], ...ENV_FILE_SETS[e] }
      const { kit, nx, key, run: r } = await both({ setup, run, files })
      const committedReadWrite = Object.values(files).some(t => t.includes(RW))
      if (kit === 'refused') {
        expect({ setup, committedReadWrite, error: r.errors }).toEqual({
          setup: 'main-only',
          committedReadWrite: true,
          error: [expect.stringContaining('read-write Nx Cloud token')]
        })
        return
      }
      expect({ setup, committedReadWrite }).not.toEqual({ setup: 'main-only', committedReadWrite: true })
      expect(kit).toBe(nx)
      expect(key[0]).toBe(key[1])
    },
    30000
  )
})
