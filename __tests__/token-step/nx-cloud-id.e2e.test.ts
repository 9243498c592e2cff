// The real `nx` CLI in an nxCloudId-only workspace (no token in nx.json), run with exactly the
// environment the bundled action exported to a fork's pull request. Nx Cloud is a 127.0.0.1
// listener (nx.json's nxCloudUrl) that records each connection and drops it, as an unreachable
// Nx Cloud would: Nx must try it with no token, and carry on without a remote cache.

import { writeFileSync, readFileSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { makeWorkspace } from '../helpers/nx-workspace.js'
import { runAction } from '../helpers/run-action.js'
import { prPayload } from '../fixtures/payloads.js'
import { KEY } from '../fixtures/run-cases.js'

const CLOUD_ID = '65f1c2a9d4e8b70012345678'
const TOKEN_VARS = ['NX_CLOUD_ACCESS_TOKEN', 'NX_CLOUD_AUTH_TOKEN', 'NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN']

// Each task writes the Nx variables it was given, so the test sees what Nx passed on.
const BUILD_SCRIPT = `
const fs = require('fs'); const path = require('path');
const name = process.argv[2];
const out = path.join('dist', name); fs.mkdirSync(out, { recursive: true });
const seen = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('NX_CLOUD') || k === 'NX_NO_CLOUD' || k.startsWith('NX_SELF_HOSTED')));
fs.writeFileSync(path.join(out, 'env.json'), JSON.stringify(seen));
console.log('built ' + name);
`

let cloud: Server
let url: string
const seen: { url: string; headers: IncomingHttpHeaders }[] = []
beforeAll(async () => {
  cloud = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers })
    res.socket?.destroy()
  })
  await new Promise<void>(r => cloud.listen(0, '127.0.0.1', () => r()))
  url = `http://127.0.0.1:${(cloud.address() as AddressInfo).port}`
})
afterAll(() => cloud.close())

async function forkRun(inputs: Record<string, string>, jobLevelEnv: Record<string, string> = {}) {
  const ws = makeWorkspace({ nxJson: { nxCloudId: CLOUD_ID, nxCloudUrl: url, nxCloudEncryptionKey: KEY } })
  writeFileSync(join(ws.dir, 'build.cjs'), BUILD_SCRIPT)
  // A fork's pull request: GitHub hands the secret inputs over empty.
  const r = await runAction({
    event: 'pull_request',
    ref: 'refs/pull/104/merge',
    payload: prPayload({ fork: 'mallory/monorepo' }),
    workspace: ws.dir,
    inputs: { 'read-write-token': '', 'read-only-token': '', 'encryption-key': '', ...inputs },
    // A job-level env: token the workflow forgot, which must not reach Nx.
    env: { NX_CLOUD_ACCESS_TOKEN: 'ambient-token-from-job-env', ...jobLevelEnv }
  })
  expect(r.errors).toEqual([])
  // The job's environment for the next step: the job's env:, then what the action wrote to GITHUB_ENV
  // (NX_NO_CLOUD: undefined removes the workspace helper's own default).
  const jobEnv = {
    NX_NO_CLOUD: undefined,
    NX_CLOUD_ACCESS_TOKEN: 'ambient-token-from-job-env',
    ...jobLevelEnv,
    ...r.env
  } as unknown as Record<string, string>
  const mark = seen.length
  const nx = await ws.nx(['run', 'app:build', '--output-style=static'], { ...jobEnv, GITHUB_ACTIONS: 'true' })
  const taskEnv = JSON.parse(readFileSync(join(ws.dir, 'dist', 'app', 'env.json'), 'utf8')) as Record<string, string>
  return { r, nx, taskEnv, contacts: seen.slice(mark) }
}

test('workspace-id-access read-only: Nx gets no NX_NO_CLOUD and no token, tries nxCloudId with no token, and does not fail offline', async () => {
  const { r, nx, taskEnv, contacts } = await forkRun({ 'workspace-id-access': 'read-only' })
  expect([r.outputs.access, r.outputs['token-source']]).toEqual(['read-only', 'nx.json'])
  expect(r.env.NX_NO_CLOUD).toBeUndefined()
  for (const v of TOKEN_VARS) expect(r.env[v]).toBe('')
  // What Nx passed on to its task: no NX_NO_CLOUD, no token.
  expect(taskEnv.NX_NO_CLOUD).toBeUndefined()
  for (const v of TOKEN_VARS) expect(taskEnv[v] ?? '').toBe('')
  // Nx tried Nx Cloud, with no token, and went on without it.
  expect(contacts.length).toBeGreaterThan(0)
  for (const c of contacts) expect(JSON.stringify(c.headers)).not.toContain('ambient-token-from-job-env')
  expect(nx.status).toBe(0)
  expect(nx.output).toContain('Nx Cloud was not used for this command')
  expect(nx.output.match(/^built /gm)).toHaveLength(3)
}, 120000)

test('workspace-id-access none (the default): NX_NO_CLOUD=true, Nx contacts nothing', async () => {
  const { r, nx, taskEnv, contacts } = await forkRun({})
  expect(r.outputs.access).toBe('none')
  expect(r.env.NX_NO_CLOUD).toBe('true')
  expect(taskEnv.NX_NO_CLOUD).toBe('true')
  expect(contacts).toEqual([])
  expect(nx.status).toBe(0)
}, 120000)

test("NX_NO_CLOUD=true in the job's env: is honoured: the run gets no remote cache, a warning says so, and Nx contacts nothing", async () => {
  const { r, nx, taskEnv, contacts } = await forkRun({ 'workspace-id-access': 'read-only' }, { NX_NO_CLOUD: 'true' })
  expect(r.outputs.access).toBe('none')
  expect(r.env.NX_NO_CLOUD).toBe('true')
  expect(r.warnings.join('\n')).toContain('NX_NO_CLOUD=true is set in the job')
  expect(taskEnv.NX_NO_CLOUD).toBe('true')
  expect(contacts).toEqual([])
  expect(nx.status).toBe(0)
}, 120000)
