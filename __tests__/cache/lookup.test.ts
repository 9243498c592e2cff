// What a lookup costs the running server (docs/POLICY.md#cache-action): the bundled cache/dist
// entries, started by main as the runner starts them, with the real @actions/cache against the
// loopback stand-in of the cache service, reached through a TCP relay that counts connections.
// Every task that is not in this job's entries asks the service once (a miss on a cold run); those
// lookups share one kept-alive connection instead of opening one (on a runner: a TLS handshake)
// each, and a connection the service closed as a lookup went out is asked again, not a miss.

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { type Server, type Socket, connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pushPayload } from '../fixtures/payloads.js'
import { type ActionsCacheService, startActionsCacheService } from '../helpers/actions-cache-service.js'
import { entryArchive, entryVersion } from '../helpers/entry-archive.js'
import { type ActionRun, runAction } from '../helpers/run-action.js'
import { getEntry, stopServer } from '../helpers/running-server.js'

const MAIN = 'cache/dist/main/index.js'
const onLinux = process.platform === 'linux' ? it : it.skip

interface Relay {
  url: string
  /** Connections the server opened to the service. */
  connections: number
  /** Cut the next request sent on a connection that already carried one, as a service closing an idle connection would. */
  cutNextReused: boolean
  close(): Promise<void>
}

/** A TCP relay to the service (its Twirp calls; the signed blob URLs point at the service itself). */
async function startRelay(target: string): Promise<Relay> {
  const { hostname, port } = new URL(target)
  const sockets = new Set<Socket>()
  const relay: Relay = { url: '', connections: 0, cutNextReused: false, close: async () => undefined }
  const server: Server = createServer(client => {
    relay.connections++
    sockets.add(client)
    const upstream = connect(Number(port), hostname)
    sockets.add(upstream)
    let requests = 0
    client.on('data', (chunk: Buffer) => {
      if (chunk.toString('latin1').startsWith('POST ') && ++requests > 1 && relay.cutNextReused) {
        relay.cutNextReused = false
        client.destroy()
        upstream.destroy()
        return
      }
      upstream.write(chunk)
    })
    upstream.pipe(client)
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
    client.on('close', () => upstream.destroy())
  })
  await new Promise<void>(r => server.listen(0, '127.0.0.1', () => r()))
  const address = server.address()
  relay.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`
  relay.close = () =>
    new Promise<void>(r => {
      for (const s of sockets) s.destroy()
      server.close(() => r())
    })
  return relay
}

let svc: ActionsCacheService
let relay: Relay
beforeAll(async () => {
  svc = await startActionsCacheService()
  relay = await startRelay(svc.env().ACTIONS_RESULTS_URL)
})
afterAll(async () => {
  await relay.close()
  await svc.close()
})

const pushMain = { event: 'push', ref: 'refs/heads/main', payload: pushPayload('refs/heads/main') }

async function startMain(): Promise<ActionRun> {
  const main = await runAction({
    ...pushMain,
    entry: MAIN,
    env: { RUNNER_OS: 'Linux', ...svc.env(), ACTIONS_RESULTS_URL: relay.url }
  })
  expect(main.status).toBe(0)
  expect(main.state['nca-started']).toBe('true')
  return main
}

const lookupsOf = (key: string): number => svc.requests.filter(r => r.call === 'GetCacheEntryDownloadURL' && r.key === key).length
const key = (hash: string): string => `nx-cloud-access-v1-Linux-${hash}`

describe('lookups of the running server in the Actions cache', () => {
  onLinux('every miss is asked of the service, all of them over one connection', async () => {
    const before = relay.connections
    const main = await startMain()
    try {
      const hashes = ['7500001', '7500002', '7500003', '7500004', '7500005']
      for (const h of hashes) expect((await getEntry(main, h)).status).toBe(404)
      // Each is still a real lookup: a miss is asked once per hash, nothing is assumed.
      for (const h of hashes) expect(lookupsOf(key(h))).toBe(1)
      // The server's look for packs at start goes over the same connection.
      expect(relay.connections - before).toBe(1)
    } finally {
      stopServer(main)
    }
  })

  onLinux('a lookup whose kept-alive connection is cut is asked again on a new one: a hit stays a hit', async () => {
    const src = mkdtempSync(join(tmpdir(), 'nca-src-'))
    mkdirSync(join(src, 'nx-cache'))
    writeFileSync(join(src, 'nx-cache', '7600002'), 'entry 7600002')
    svc.seed(key('7600002'), entryVersion('7600002'), entryArchive(src, ['nx-cache/7600002']))
    const main = await startMain()
    try {
      expect((await getEntry(main, '7600001')).status).toBe(404)
      relay.cutNextReused = true
      const hit = await getEntry(main, '7600002')
      expect(relay.cutNextReused).toBe(false)
      expect(hit.status).toBe(200)
      expect(await hit.text()).toBe('entry 7600002')
      expect(lookupsOf(key('7600002'))).toBe(1)
    } finally {
      stopServer(main)
    }
  })
})
