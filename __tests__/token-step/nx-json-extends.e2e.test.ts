// nx.json's `extends`, read as Nx 24 reads it (nx/src/config/nx-json.js readNxJson): the named file
// is found by Node's resolver from the workspace's `.nx/installation` and then its root, and merged
// under nx.json one level deep, top-level keys of nx.json winning. The kit reads nothing outside
// the checkout: a base outside it, or a symlink out of it, is refused with one error, as is one that
// does not resolve (Nx cannot start then either). The bundled step runs as the runner runs it; Nx's
// own modules say what they settle on.

import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { REPO_ROOT, runAction, unmaskedText } from '../helpers/run-action.js'
import { whatNxSettlesOn } from '../helpers/nx-settles.js'
import { machineEnv } from '../helpers/runner-env.js'
import { prPayload, pushPayload } from '../fixtures/payloads.js'
import { KEY, RO, RW } from '../fixtures/run-cases.js'

const CLOUD_ID = '65f1c2a9d4e8b70012345678'
const json = (o: Record<string, unknown>): string => JSON.stringify(o)

/** A checkout (`repo`) inside a folder that also holds files outside it. */
function layout(files: Record<string, string>): { outer: string; repo: string } {
  const outer = mkdtempSync(join(tmpdir(), 'nca-extends-'))
  const repo = join(outer, 'repo')
  mkdirSync(repo)
  for (const [name, text] of Object.entries(files)) {
    const path = join(repo, name)
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(path, text)
  }
  return { outer, repo }
}

const forkPr = (ws: string) =>
  runAction({
    event: 'pull_request',
    ref: 'refs/pull/104/merge',
    payload: prPayload({ fork: 'mallory/monorepo' }),
    workspace: ws,
    inputs: { 'read-write-token': '', 'read-only-token': '', 'workspace-id-access': 'read-only' }
  })
const pushToMain = (ws: string) =>
  runAction({
    event: 'push',
    ref: 'refs/heads/main',
    payload: pushPayload('refs/heads/main'),
    workspace: ws,
    inputs: { 'read-write-token': RW }
  })

/** Does Nx itself start on this workspace (readNxJson)? Its error when it does not. */
function nxReadsNxJson(ws: string): string {
  const r = spawnSync(
    process.execPath,
    ['-e', `require(${JSON.stringify(join(REPO_ROOT, 'node_modules/nx/dist/src/config/nx-json.js'))}).readNxJson(${JSON.stringify(ws)})`],
    { cwd: ws, env: { ...machineEnv(), NX_WORKSPACE_ROOT_PATH: ws }, encoding: 'utf8' }
  )
  return r.status === 0 ? 'ok' : r.stderr
}

test("a base in a folder gives the token and key; a fork's read goes through them, as Nx does", async () => {
  const { repo } = layout({
    'nx.json': json({ extends: './config/nx.base.json', nxCloudId: CLOUD_ID }),
    'config/nx.base.json': json({ nxCloudAccessToken: RO, nxCloudEncryptionKey: KEY })
  })
  const r = await forkPr(repo)
  expect(r.errors).toEqual([])
  expect([r.outputs.access, r.outputs['token-source'], r.outputs.encryption]).toEqual(['read-only', 'nx.json', 'enabled'])
  const nx = whatNxSettlesOn(repo, r.env)
  expect([nx.token, nx.key]).toEqual([RO, KEY])
  expect(r.env.NX_CLOUD_ACCESS_TOKEN).toBe(RO)
  expect(unmaskedText(r)).not.toContain(RO)
})

test('nx.json replaces a top-level key of the base whole, as Nx merges them', async () => {
  const { repo } = layout({
    'nx.json': json({ extends: './base.json', tasksRunnerOptions: { default: { runner: 'nx-cloud', options: {} } }, nxCloudId: CLOUD_ID }),
    'base.json': json({ tasksRunnerOptions: { default: { runner: 'nx-cloud', options: { accessToken: RO } } }, nxCloudEncryptionKey: KEY })
  })
  const r = await forkPr(repo)
  // The base's runner options are gone: no token, a read through nxCloudId.
  expect([r.outputs.access, r.outputs['token-source']]).toEqual(['read-only', 'nx.json'])
  expect(r.env.NX_CLOUD_ACCESS_TOKEN).toBe('')
  expect(whatNxSettlesOn(repo, r.env).token).toBe('')
})

test("a base read from an installed package's file inside the checkout is read too: its read-write token is refused", async () => {
  const { repo } = layout({
    'nx.json': json({ extends: '@acme/nx-preset/nx.json' }),
    'node_modules/@acme/nx-preset/package.json': json({ name: '@acme/nx-preset', version: '1.0.0' }),
    'node_modules/@acme/nx-preset/nx.json': json({ nxCloudAccessToken: RW })
  })
  expect(whatNxSettlesOn(repo, {}).token).toBe(RW)
  const r = await pushToMain(repo)
  expect(r.errors).toHaveLength(1)
  expect(r.errors[0]).toContain('node_modules/@acme/nx-preset/nx.json (the file')
  expect(r.errors[0]).toContain('commits a read-write Nx Cloud token')
  expect(r.env).toEqual({})
})

describe('refused, with one error and nothing exported', () => {
  test.each<[string, (outer: string, repo: string) => string, string]>([
    [
      'a relative path out of the checkout',
      outer => (writeFileSync(join(outer, 'base.json'), json({ nxCloudAccessToken: RO })), '../base.json'),
      'outside the repository'
    ],
    [
      'an absolute path out of the checkout',
      outer => (writeFileSync(join(outer, 'base.json'), json({ nxCloudAccessToken: RO })), join(outer, 'base.json')),
      'outside the repository'
    ],
    [
      'a symlink in the checkout to a file out of it',
      (outer, repo) => {
        writeFileSync(join(outer, 'base.json'), json({ nxCloudAccessToken: RO }))
        symlinkSync(join(outer, 'base.json'), join(repo, 'base.json'))
        return './base.json'
      },
      'outside the repository'
    ],
    ['a file that does not exist (Nx cannot start either)', () => './missing.json', 'which does not resolve']
  ])('%s', async (_, make, says) => {
    const { outer, repo } = layout({})
    const spec = make(outer, repo)
    writeFileSync(join(repo, 'nx.json'), json({ extends: spec, nxCloudId: CLOUD_ID, nxCloudEncryptionKey: KEY }))
    const r = await pushToMain(repo)
    expect(r.status).not.toBe(0)
    expect(r.errors).toHaveLength(1)
    expect(r.errors[0]).toContain(`extends '${spec}'`)
    expect(r.errors[0]).toContain(says)
    expect(r.env).toEqual({})
    expect(r.outputs).toEqual({})
    if (says === 'which does not resolve') expect(nxReadsNxJson(repo)).toContain('Cannot find module')
  })

  test('a base that is a FIFO fails the step at once, naming it, instead of hanging it', async () => {
    const { repo } = layout({ 'nx.json': json({ extends: './base.json' }) })
    execFileSync('mkfifo', [join(repo, 'base.json')])
    const r = await pushToMain(repo)
    expect(r.errors).toHaveLength(1)
    expect(r.errors[0]).toContain('which is not a regular file')
    expect(r.env).toEqual({})
  }, 20000)

  test("a malformed base names the base's path", async () => {
    const { repo } = layout({ 'nx.json': json({ extends: './base.json' }), 'base.json': '{ "nxCloudId": ' })
    const r = await pushToMain(repo)
    expect(r.errors).toHaveLength(1)
    expect(r.errors[0]).toMatch(/malformed .*base\.json/)
  })
})

describe('one level, as Nx reads it: a chain or a cycle ends after the first base', () => {
  test("the base's own extends is read neither by Nx nor by the kit, which warns: a read-write token there is not Nx's", async () => {
    const { repo } = layout({
      'nx.json': json({ extends: './base.json', nxCloudId: CLOUD_ID }),
      'base.json': json({ extends: './deeper.json', nxCloudEncryptionKey: KEY }),
      'deeper.json': json({ nxCloudAccessToken: RW })
    })
    expect(whatNxSettlesOn(repo, {}).token).toBe('')
    const r = await forkPr(repo)
    expect(r.errors).toEqual([])
    expect([r.outputs.access, r.outputs.encryption]).toEqual(['read-only', 'enabled'])
    expect(r.warnings.join('\n')).toContain("has its own extends './deeper.json', which Nx reads no further than one level")
    expect(whatNxSettlesOn(repo, r.env).token).toBe('')
  })

  test.each([
    [
      'nx.json extends itself',
      { 'nx.json': json({ extends: './nx.json', nxCloudId: CLOUD_ID, nxCloudAccessToken: RO, nxCloudEncryptionKey: KEY }) }
    ],
    [
      'nx.json and base.json extend each other',
      {
        'nx.json': json({ extends: './base.json', nxCloudId: CLOUD_ID }),
        'base.json': json({ extends: './nx.json', nxCloudAccessToken: RO, nxCloudEncryptionKey: KEY })
      }
    ]
  ])('%s: the step ends, and reports what Nx settles on', async (_, files) => {
    const { repo } = layout(files)
    const r = await forkPr(repo)
    expect(r.errors).toEqual([])
    expect([r.outputs.access, r.outputs['token-source'], r.outputs.encryption]).toEqual(['read-only', 'nx.json', 'enabled'])
    expect(whatNxSettlesOn(repo, r.env)).toMatchObject({ token: RO, key: KEY, disabled: false })
  })
})
