// Nx's self-hosted remote cache protocol (Nx 20.8+), served on 127.0.0.1 for one job:
// `GET /v1/cache/{hash}` and `PUT /v1/cache/{hash}` with `Authorization: Bearer <token>`.
//
// What Nx 24 does with each answer (measured with nx 24.0.6) shapes every status below:
// GET 200 is a hit and 404 a miss, while anything else — 401, 403, 5xx, a bad body, a refused
// connection — aborts the whole Nx run; PUT 200, 403 and 409 are accepted silently, while 5xx,
// 202 and 401 are retried six times and then fail the task. So a failed restore is a 404, a
// refused or failed store a 403 (or 409 when the entry exists), and nothing here ever answers 5xx.
// A 401 (a wrong token, never Nx with the job's own token) carries a text/plain body, as Nx needs.
//
// Uploads are written to disk and answered at once: Nx waits on every PUT, so the network
// transfer to the Actions cache happens later, in `post`. Where the policy refuses writes, every
// PUT is a 403 and nothing reaches the disk.

// What an entry is, and every rule about the files behind it, is the store's (store.ts); this file
// only checks the token, routes, and maps the store's answers to the statuses above.

import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { isEntryHash } from '../adapter/names.js'
import { STATS_PATH, type ServerReport, type ServerStats } from '../state.js'
import { EntryStore, type RefusalKind, type StoreOptions, type UploadOutcome, isRefusal } from './store.js'

export type { EntrySource } from './store.js'

interface ServerOptions extends StoreOptions {
  /** The bearer token Nx must send (random per job, a secret). */
  token: string
}

/** Every refusal of a PUT is one Nx accepts silently: 409 where the entry is (or will be) there. */
const REFUSAL_STATUS: Record<RefusalKind, 403 | 409> = {
  'read-only': 403,
  exists: 409,
  restoring: 409,
  'too-large': 403,
  'over-cap': 403
}

export interface NxCacheServer {
  server: Server
  stats: ServerStats
  uploads: string[]
  /** Listens on 127.0.0.1 (port 0: a free one); resolves the port. */
  listen(port?: number): Promise<number>
  close(): Promise<void>
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

/** Answers without reading the body, draining what the client still sends so the connection is not reset. */
function answerUnread(req: IncomingMessage, res: ServerResponse, status: number, body: string): void {
  req.resume()
  text(res, status, body)
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}

/** The bearer check, in constant time whatever the length of what was sent. */
function bearerCheck(token: string): (req: IncomingMessage) => boolean {
  const expected = createHash('sha256').update(`Bearer ${token}`).digest()
  return req =>
    timingSafeEqual(
      createHash('sha256')
        .update(String(req.headers.authorization ?? ''))
        .digest(),
      expected
    )
}

async function get(store: EntryStore, hash: string, res: ServerResponse): Promise<void> {
  const body = await store.lookup(hash)
  if (body === null) return text(res, 404, 'miss')
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length })
  res.end(body)
}

/** Streams the body into a reservation, pausing the request while the file catches up. */
function put(store: EntryStore, hash: string, req: IncomingMessage, res: ServerResponse): void {
  const r = store.reserve(hash, Number(req.headers['content-length'] ?? NaN))
  if (isRefusal(r)) return answerUnread(req, res, REFUSAL_STATUS[r.refused], r.message)
  void r.settled.then((o: UploadOutcome) => {
    if ('stored' in o) return text(res, 200, 'stored')
    req.resume()
    if (!res.headersSent) text(res, 403, o.message)
  })
  req.on('data', (chunk: Buffer) => {
    if (!r.write(chunk)) {
      req.pause()
      r.onDrain(() => req.resume())
    }
  })
  req.on('error', e => r.abort(`The upload broke off: ${e.message}`))
  req.on('end', () => r.commit())
}

export function createNxCacheServer(opts: ServerOptions): NxCacheServer {
  const store = new EntryStore(opts)
  const log = opts.log ?? (() => undefined)
  const authorized = bearerCheck(opts.token)

  const server = createServer((req, res) => {
    try {
      const path = (req.url ?? '').split('?')[0]
      if (!authorized(req)) {
        store.stats.unauthorized++
        return answerUnread(req, res, 401, 'Unauthorized: this cache needs the bearer token of its own job.')
      }
      if (path === STATS_PATH && req.method === 'GET') {
        req.resume()
        const body = JSON.stringify({ stats: store.stats, uploads: store.uploads } satisfies ServerReport)
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
        return res.end(body)
      }
      const m = /^\/v1\/cache\/([^/]+)$/.exec(path)
      const hash = m ? decodeURIComponent(m[1]) : ''
      // Not an entry: a miss for GET, a refusal for PUT. Neither ever aborts Nx.
      if (!m || !isEntryHash(hash)) return answerUnread(req, res, req.method === 'PUT' ? 403 : 404, 'Not a cache entry path.')
      if (req.method === 'GET') {
        req.resume()
        get(store, hash, res).catch(e => {
          log(`GET ${hash} failed: ${message(e)}`)
          if (!res.headersSent) text(res, 404, 'miss')
        })
        return
      }
      if (req.method === 'PUT') return put(store, hash, req, res)
      return answerUnread(req, res, 405, 'Only GET and PUT.')
    } catch (e) {
      log(`request failed: ${message(e)}`)
      if (!res.headersSent) text(res, req.method === 'GET' ? 404 : 403, 'The cache could not answer.')
    }
  })
  // Nx keeps connections alive between tasks; nothing here may hold `post` up, though.
  server.keepAliveTimeout = 5000

  return {
    server,
    stats: store.stats,
    uploads: store.uploads,
    listen(port = 0) {
      return new Promise((resolvePort, reject) => {
        server.once('error', reject)
        server.listen(port, '127.0.0.1', () => resolvePort((server.address() as AddressInfo).port))
      })
    },
    close() {
      return new Promise(resolveClose => {
        server.close(() => resolveClose())
        server.closeAllConnections()
      })
    }
  }
}
