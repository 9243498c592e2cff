// The real `nx` CLI on a small workspace, with a self-hosted cache on 127.0.0.1 that answers a
// read-only token's upload with 403, and exactly the environment the bundled action exported.

import { type CacheServer, startCacheServer } from '../helpers/cache-server.js'
import { makeWorkspace, type Workspace } from '../helpers/nx-workspace.js'
import { runAction } from '../helpers/run-action.js'
import { prPayload, pushPayload } from '../fixtures/payloads.js'
import { KEY, RO, RW } from '../fixtures/run-cases.js'

const PROJECTS = { 'lib-a': [], 'lib-b': ['lib-a'], app: ['lib-b'], tool: [] }
const NX_JSON = { nxCloudEncryptionKey: KEY }

let server: CacheServer
beforeAll(async () => {
  server = await startCacheServer({ [RW]: 'read-write', [RO]: 'read-only' })
})
afterAll(() => server.close())

/** The variables the action exports for a run, read back from GITHUB_ENV as the runner would. */
async function actionEnv(
  ws: Workspace,
  run: { event: string; ref: string; payload: Record<string, unknown> },
  extra: Record<string, string> = {}
) {
  const r = await runAction({
    ...run,
    workspace: ws.dir,
    inputs: {
      'read-write-token': RW,
      'read-only-token': RO,
      'encryption-key': KEY,
      'self-hosted-cache-url': server.url,
      ...extra
    }
  })
  expect(r.errors).toEqual([])
  return { env: r.env, outputs: r.outputs }
}

const since = (n: number) => server.requests.slice(n)

test('main uploads, a PR reads main and is refused, a laptop reads main, skip-cache asks nothing', async () => {
  // 1. A push to main: the read-write token, every task uploaded.
  const mainWs = makeWorkspace({ projects: PROJECTS, nxJson: NX_JSON })
  const main = await actionEnv(mainWs, { event: 'push', ref: 'refs/heads/main', payload: pushPayload('refs/heads/main') })
  expect(main.outputs.access).toBe('read-write')
  // nx.json holds the key: the action must not export it (hash neutrality).
  expect(main.env.NX_CLOUD_ENCRYPTION_KEY).toBeUndefined()
  let mark = server.requests.length
  const built = await mainWs.nx(['run', 'app:build'], main.env)
  expect(built.status).toBe(0)
  const puts = since(mark).filter(r => r.method === 'PUT')
  expect(puts).toHaveLength(3)
  expect(puts.every(p => p.status === 200 && p.token === RW)).toBe(true)
  const mainHashes = new Set(puts.map(p => p.hash))

  // 2. A pull request on a fresh runner: reads main's entries, its own upload is refused (403).
  const prWs = makeWorkspace({ projects: PROJECTS, nxJson: NX_JSON })
  const pr = await actionEnv(prWs, { event: 'pull_request', ref: 'refs/pull/104/merge', payload: prPayload() })
  expect(pr.outputs.access).toBe('read-only')
  mark = server.requests.length
  const prRun = await prWs.nx(['run-many', '-t', 'build', '--output-style=static'], pr.env)
  expect(prRun.status).toBe(0)
  expect(prRun.output.match(/\[remote cache\]/g)).toHaveLength(3)
  const prRequests = since(mark)
  expect(prRequests.every(r => r.token === RO)).toBe(true)
  expect(
    prRequests
      .filter(r => r.method === 'GET' && r.status === 200)
      .map(r => r.hash)
      .sort()
  ).toEqual([...mainHashes].sort())
  expect(prRequests.filter(r => r.method === 'PUT').map(r => r.status)).toEqual([403])
  expect(server.entries.size).toBe(3)

  // 3. A developer's laptop: nx.json and a read-only token, none of the action's environment.
  const laptop = makeWorkspace({ projects: PROJECTS, nxJson: NX_JSON, local: true })
  const devEnv = { NX_SELF_HOSTED_REMOTE_CACHE_SERVER: server.url, NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: RO }
  const dev = await laptop.nx(['run', 'app:build', '--output-style=static'], devEnv)
  expect(dev.status).toBe(0)
  expect(dev.output.match(/\[remote cache\]/g)).toHaveLength(3)
  // The control: had CI exported the key that nx.json already holds, hashes would differ and nothing would hit.
  const control = makeWorkspace({ projects: PROJECTS, nxJson: NX_JSON, local: true })
  const miss = await control.nx(['run', 'lib-a:build', '--output-style=static'], { ...devEnv, NX_CLOUD_ENCRYPTION_KEY: KEY })
  expect(miss.output).not.toContain('[remote cache]')

  // 4. skip-cache: the main branch rebuilds with no cache request at all, and the outputs are fresh.
  const deployWs = makeWorkspace({ projects: PROJECTS, nxJson: NX_JSON })
  const deploy = await actionEnv(
    deployWs,
    { event: 'push', ref: 'refs/heads/main', payload: pushPayload('refs/heads/main') },
    { 'skip-cache': 'true' }
  )
  expect(deploy.env.NX_SKIP_NX_CACHE).toBe('true')
  mark = server.requests.length
  const rebuilt = await deployWs.nx(['run', 'app:build', '--output-style=static'], deploy.env)
  expect(rebuilt.status).toBe(0)
  expect(since(mark)).toEqual([])
  expect(rebuilt.output).not.toMatch(/\[(remote|local) cache\]/)
  expect(rebuilt.output.match(/^built /gm)).toHaveLength(3)
}, 120000)
