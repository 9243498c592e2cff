// The workspace's env files and the job's NX_NO_CLOUD, as the runner runs the bundled token step
// (docs/POLICY.md#exports, #no-token). Nx 24 loads the workspace root's .local.env, .env.local and
// .env into its environment at start-up (dotenv, then dotenv-expand, which fills a variable the
// job left empty), and Nx Cloud's client falls back to nx-cloud.env. So an empty export hides no
// token those files set: the action must see them. Found by an attack on the tokenless read.
//
// What Nx settles on is asked of Nx itself: its own start-up modules run with exactly the
// environment the action exported (a real `nx run` against an offline Nx Cloud cannot show the
// token: the client download, which fails offline, carries none).

import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO_ROOT, runAction, unmaskedText } from '../helpers/run-action.js'
import { machineEnv } from '../helpers/runner-env.js'
import { prPayload, pushPayload } from '../fixtures/payloads.js'
import { KEY, RO, RW } from '../fixtures/run-cases.js'

const CLOUD_ID = '65f1c2a9d4e8b70012345678'
const NX = join(REPO_ROOT, 'node_modules', 'nx', 'dist')
/** A token of a level the kit cannot decode (today's CI access tokens do not say their level). */
const OPAQUE = 'ZmlsZS10b2tlbi1vZi11bmtub3duLWxldmVs'

/** As nx.js starts: loadWorkspaceEnv(root), then Nx Cloud's environment module; its token. */
function tokenNxSettlesOn(ws: string, env: Record<string, string>): string {
  const script = `
    (async () => {
      await require(${JSON.stringify(join(NX, 'bin', 'workspace-env.js'))}).loadWorkspaceEnv(${JSON.stringify(ws)});
      const e = require(${JSON.stringify(join(NX, 'src', 'nx-cloud', 'utilities', 'environment.js'))});
      process.stdout.write(String(e.ACCESS_TOKEN ?? ''));
    })()`
  const r = spawnSync(process.execPath, ['-e', script], {
    cwd: ws,
    env: { ...machineEnv(), NX_WORKSPACE_ROOT_PATH: ws, NX_WORKSPACE_DATA_DIRECTORY: join(ws, '.nx', 'workspace-data'), ...env },
    encoding: 'utf8'
  })
  if (r.status !== 0) throw new Error(r.stderr)
  return r.stdout
}

function workspace(files: Record<string, string>): string {
  const ws = mkdtempSync(join(tmpdir(), 'nca-envfiles-'))
  writeFileSync(join(ws, 'nx.json'), JSON.stringify({ nxCloudId: CLOUD_ID, nxCloudEncryptionKey: KEY }))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(ws, name), text)
  return ws
}

/** A pull request from a branch of this repository, read-only-token unset: a read through nxCloudId. */
const sameRepoPr = (ws: string, env: Record<string, string> = {}) =>
  runAction({
    event: 'pull_request',
    ref: 'refs/pull/104/merge',
    payload: prPayload(),
    workspace: ws,
    env,
    inputs: { 'read-write-token': RW, 'read-only-token': '', 'workspace-id-access': 'read-only' }
  })

/** A push to main with the read-write token passed: the run that may write under main-only. */
const pushToMain = (ws: string, env: Record<string, string> = {}) =>
  runAction({
    event: 'push',
    ref: 'refs/heads/main',
    payload: pushPayload('refs/heads/main'),
    workspace: ws,
    env,
    inputs: { 'read-write-token': RW }
  })

test('control: with no env file, that run reads through nxCloudId and Nx settles on no token', async () => {
  const ws = workspace({})
  const r = await sameRepoPr(ws)
  expect([r.outputs.access, r.outputs['token-source']]).toEqual(['read-only', 'nx.json'])
  expect(tokenNxSettlesOn(ws, r.env)).toBe('')
})

describe.each(['.env', '.local.env', '.env.local', 'nx-cloud.env'])('a token in %s', file => {
  test('a read through nxCloudId becomes no remote cache, with a warning naming the file; the token is never printed', async () => {
    const ws = workspace({ [file]: `# written by someone\nNX_CLOUD_ACCESS_TOKEN=${OPAQUE}\n` })
    // What Nx would have used had the action blanked the variable with an empty export.
    expect(tokenNxSettlesOn(ws, { NX_CLOUD_ACCESS_TOKEN: '' })).toBe(OPAQUE)
    const r = await sameRepoPr(ws)
    expect(r.errors).toEqual([])
    expect([r.outputs.access, r.outputs['token-source']]).toEqual(['none', 'none'])
    expect(r.env.NX_NO_CLOUD).toBe('true')
    expect(r.warnings.join('\n')).toContain(`${join(ws, file)} sets NX_CLOUD_ACCESS_TOKEN`)
    expect(r.outputs.reason).toContain('which Nx would use instead')
    expect(unmaskedText(r)).not.toContain(OPAQUE)
  })

  test('a read-write token there is refused under main-only: one error naming the file, nothing exported', async () => {
    const ws = workspace({ [file]: `NX_CLOUD_ACCESS_TOKEN="${RW}"\n` })
    const r = await pushToMain(ws)
    expect(r.status).not.toBe(0)
    expect(r.errors).toHaveLength(1)
    expect(r.errors[0]).toContain(`${join(ws, file)} sets NX_CLOUD_ACCESS_TOKEN to a read-write Nx Cloud token`)
    expect(r.env).toEqual({})
    expect(unmaskedText(r)).not.toContain(RW)
  })
})

test("NX_CLOUD_AUTH_TOKEN in .env (which Nx prefers) gets the run's chosen token too, so Nx uses the choice", async () => {
  const ws = workspace({ '.env': `NX_CLOUD_AUTH_TOKEN=${OPAQUE}\n` })
  expect(tokenNxSettlesOn(ws, { NX_CLOUD_ACCESS_TOKEN: RO })).toBe(OPAQUE)
  const r = await runAction({
    event: 'pull_request',
    ref: 'refs/pull/104/merge',
    payload: prPayload(),
    workspace: ws,
    inputs: { 'read-write-token': RW, 'read-only-token': RO }
  })
  expect([r.outputs.access, r.outputs['token-source']]).toEqual(['read-only', 'read-only-token'])
  expect([r.env.NX_CLOUD_ACCESS_TOKEN, r.env.NX_CLOUD_AUTH_TOKEN]).toEqual([RO, RO])
  expect(tokenNxSettlesOn(ws, r.env)).toBe(RO)
})

describe("NX_NO_CLOUD in the job's environment", () => {
  test("exactly 'true' is honoured: a run that could read gets no remote cache, with a warning that says so", async () => {
    const r = await sameRepoPr(workspace({}), { NX_NO_CLOUD: 'true' })
    expect(r.errors).toEqual([])
    expect(r.outputs.access).toBe('none')
    expect(r.env.NX_NO_CLOUD).toBe('true')
    expect(r.warnings.join('\n')).toContain('NX_NO_CLOUD=true is set in the job')
  })

  test("exactly 'true' is honoured on a run that could write: no token exported", async () => {
    const r = await pushToMain(workspace({}), { NX_NO_CLOUD: 'true' })
    expect(r.outputs.access).toBe('none')
    expect(r.env.NX_CLOUD_ACCESS_TOKEN).toBeUndefined()
    expect(Object.values(r.env).join('\n')).not.toContain(RW)
  })

  test.each(['false', '1', 'TRUE'])("'%s' is not Nx's off switch: the run keeps its access, and nothing is said", async value => {
    const r = await sameRepoPr(workspace({}), { NX_NO_CLOUD: value })
    expect(r.outputs.access).toBe('read-only')
    expect(r.env.NX_NO_CLOUD).toBeUndefined()
    expect([...r.warnings, ...r.notices].join('\n')).not.toContain('NX_NO_CLOUD')
  })
})

describe('env files as Nx reads them, whatever their size or form (found by a second attack)', () => {
  test("a 2 MiB .env is read whole, as Nx reads it: its NX_CLOUD_AUTH_TOKEN gets the run's chosen token", async () => {
    const padding = `${'#'.repeat(2 * 1024 * 1024)}\n`
    const ws = workspace({ '.env': `NX_CLOUD_AUTH_TOKEN=${OPAQUE}\n${padding}` })
    const r = await runAction({
      event: 'pull_request',
      ref: 'refs/pull/104/merge',
      payload: prPayload(),
      workspace: ws,
      inputs: { 'read-write-token': RW, 'read-only-token': RO }
    })
    expect(r.outputs.access).toBe('read-only')
    expect(r.env.NX_CLOUD_AUTH_TOKEN).toBe(RO)
    expect(tokenNxSettlesOn(ws, r.env)).toBe(RO)
    // And a read-write one there is refused under main-only, however large the file.
    const rw = workspace({ '.env': `NX_CLOUD_ACCESS_TOKEN=${RW}\n${padding}` })
    const refused = await pushToMain(rw)
    expect(refused.errors).toHaveLength(1)
    expect(refused.env).toEqual({})
  })

  test('a token made of ${OTHER} (dotenv-expand, as Nx expands it) is judged by its value: read-write is refused under main-only', async () => {
    const ws = workspace({ '.env': `CI_TOKEN=${RW}\nNX_CLOUD_ACCESS_TOKEN=\${CI_TOKEN}\n` })
    expect(tokenNxSettlesOn(ws, {})).toBe(RW)
    const r = await pushToMain(ws)
    expect(r.errors).toHaveLength(1)
    expect(r.errors[0]).toContain('sets NX_CLOUD_ACCESS_TOKEN to a read-write Nx Cloud token')
    expect(r.env).toEqual({})
  })

  test('an nx.json that is a FIFO fails the step at once, naming it, instead of hanging it', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'nca-envfiles-'))
    execFileSync('mkfifo', [join(ws, 'nx.json')])
    const r = await pushToMain(ws)
    expect(r.errors).toHaveLength(1)
    expect(r.errors[0]).toContain('which is not a regular file')
    expect(r.env).toEqual({})
  }, 20000)
})
