// A loopback stand-in of the GitHub Actions cache service, as @actions/cache 6 speaks to it with
// ACTIONS_CACHE_SERVICE_V2 set: Twirp JSON calls under /twirp/github.actions.results.api.v1.CacheService/
// (CreateCacheEntry, FinalizeCacheEntryUpload, GetCacheEntryDownloadURL, with the runtime token as
// bearer), and the signed blob URLs they hand out, which the Azure storage SDK uses:
//   upload   PUT  <blob> with x-ms-blob-type: BlockBlob (Put Blob: one shot, the archives here are
//            far below the 128 MiB single-shot limit), answered 201;
//   download HEAD <blob> (getProperties: the length), then GET <blob> with x-ms-range (downloadToBuffer).
// Entries match as the service matches them: key by exact value or prefix, version exactly.
// Every request is recorded; switches make it rate-limit, refuse writes, or fail.

import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

const TWIRP = '/twirp/github.actions.results.api.v1.CacheService/'

export interface ServiceEntry {
  key: string
  version: string
  blob: Buffer | null
  finalized: boolean
}

export interface ServiceRequest {
  method: string
  /** Twirp method name, or `blob` for the storage URLs. */
  call: string
  key?: string
  status: number
}

export interface ActionsCacheService {
  url: string
  runtimeToken: string
  /** key → entry (finalized ones are what a later job can restore). */
  entries: Map<string, ServiceEntry>
  requests: ServiceRequest[]
  /** Answer CreateCacheEntry with 429 after this many successful reservations (Infinity: never). */
  rateLimitAfter: number
  /** Answer CreateCacheEntry with ok:false and a "cache write denied:" message (a read-only token). */
  denyWrites: boolean
  /**
   * Answer CreateCacheEntry with ok:false and this message (a reservation the service refuses for
   * another reason than an existing entry), or `null` to reserve as usual.
   */
  failReservations: string | null
  /**
   * Match a restore by key prefix whatever the version: a service that matched more loosely than
   * the real one, to show what the client itself must reject.
   */
  ignoreVersion: boolean
  /** Per key, how CreateCacheEntry answers instead of reserving: 429, a refused write, or a refusal. */
  keyFaults: Map<string, 'rate-limit' | 'deny' | 'fail'>
  /** The most requests the service was answering at once (overlap seen). */
  maxInFlight: number
  /** Milliseconds every request waits before it is answered, as a remote service would (0: none). */
  latencyMs: number
  /** Puts a finalized entry in place, as if some job had saved `blob` under `key` and `version`. */
  seed(key: string, version: string, blob: Buffer): void
  /** Environment @actions/cache needs to talk to this stand-in. */
  env(): Record<string, string>
  close(): Promise<void>
}

export async function startActionsCacheService(): Promise<ActionsCacheService> {
  const runtimeToken = randomBytes(16).toString('hex')
  const entries = new Map<string, ServiceEntry>()
  const blobs = new Map<string, string>() // blob id → key
  const blocks = new Map<string, Map<string, Buffer>>() // blob id → staged blocks by block id
  const requests: ServiceRequest[] = []
  let reservations = 0
  let url = ''

  const svc: ActionsCacheService = {
    url: '',
    runtimeToken,
    entries,
    requests,
    rateLimitAfter: Infinity,
    denyWrites: false,
    failReservations: null,
    ignoreVersion: false,
    latencyMs: 0,
    keyFaults: new Map(),
    maxInFlight: 0,
    seed: (key, version, blob) => {
      const id = randomBytes(8).toString('hex')
      for (const [bid, bk] of blobs) if (bk === key) blobs.delete(bid)
      blobs.set(id, key)
      entries.set(key, { key, version, blob, finalized: true })
    },
    env: () => ({
      ACTIONS_RESULTS_URL: `${url}/`,
      ACTIONS_RUNTIME_TOKEN: runtimeToken,
      ACTIONS_CACHE_SERVICE_V2: 'true',
      GITHUB_SERVER_URL: 'https://github.com'
    }),
    close: () =>
      new Promise<void>(r => {
        server.close(() => r())
        server.closeAllConnections()
      })
  }

  const json = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body)
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
    res.end(text)
  }

  function twirp(method: string, req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    const record = (status: number, key?: string): void => {
      requests.push({ method: 'POST', call: method, key, status })
    }
    if (req.headers.authorization !== `Bearer ${runtimeToken}`) {
      record(401)
      return json(res, 401, { code: 'unauthenticated', msg: 'bad runtime token' })
    }
    const msg = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>
    const key = String(msg.key ?? '')
    const version = String(msg.version ?? '')
    switch (method) {
      case 'CreateCacheEntry': {
        const fault = svc.keyFaults.get(key)
        if (fault === 'rate-limit') {
          record(429, key)
          return json(res, 429, { code: 'resource_exhausted', msg: 'too many cache entries created' })
        }
        if (fault === 'deny') {
          record(200, key)
          return json(res, 200, { ok: false, message: 'cache write denied: the cache token of this run is read-only' })
        }
        if (fault === 'fail') {
          record(200, key)
          return json(res, 200, { ok: false, message: 'the service could not reserve this entry' })
        }
        if (reservations >= svc.rateLimitAfter) {
          record(429, key)
          return json(res, 429, { code: 'resource_exhausted', msg: 'too many cache entries created' })
        }
        if (svc.denyWrites) {
          record(200, key)
          return json(res, 200, { ok: false, message: 'cache write denied: the cache token of this run is read-only' })
        }
        if (svc.failReservations !== null) {
          record(200, key)
          return json(res, 200, { ok: false, message: svc.failReservations })
        }
        if (entries.has(key)) {
          record(409, key)
          return json(res, 409, { code: 'already_exists', msg: 'cache entry with the same key, version, and scope already exists' })
        }
        reservations++
        const id = randomBytes(8).toString('hex')
        blobs.set(id, key)
        entries.set(key, { key, version, blob: null, finalized: false })
        record(200, key)
        return json(res, 200, { ok: true, signed_upload_url: `${url}/devstoreaccount1/actions-cache/${id}?sig=upload-${id}&sv=2024-11-04` })
      }
      case 'FinalizeCacheEntryUpload': {
        const e = entries.get(key)
        if (!e || e.version !== version || e.blob === null) {
          record(200, key)
          return json(res, 200, { ok: false, message: 'no uploaded entry to finalize' })
        }
        e.finalized = true
        record(200, key)
        return json(res, 200, { ok: true, entry_id: String(entries.size) })
      }
      case 'GetCacheEntryDownloadURL': {
        const keys = [key, ...((msg.restore_keys as string[] | undefined) ?? [])]
        for (const k of keys) {
          const hit = [...entries.values()].find(
            e => e.finalized && (svc.ignoreVersion || e.version === version) && (e.key === k || e.key.startsWith(k))
          )
          if (hit) {
            const id = [...blobs.entries()].find(([, bk]) => bk === hit.key)?.[0]
            record(200, key)
            return json(res, 200, {
              ok: true,
              signed_download_url: `${url}/devstoreaccount1/actions-cache/${id}?sig=download-${id}&sv=2024-11-04`,
              matched_key: hit.key
            })
          }
        }
        record(200, key)
        return json(res, 200, { ok: false })
      }
      default:
        record(404)
        return json(res, 404, { code: 'bad_route', msg: `no method ${method}` })
    }
  }

  function blob(req: IncomingMessage, body: Buffer, res: ServerResponse, id: string): void {
    const key = blobs.get(id)
    const entry = key ? entries.get(key) : undefined
    const record = (status: number): void => {
      requests.push({ method: req.method ?? '', call: 'blob', key, status })
    }
    const common = {
      'x-ms-request-id': randomBytes(8).toString('hex'),
      'x-ms-version': '2024-11-04',
      etag: `"0x${id.toUpperCase()}"`,
      'last-modified': new Date().toUTCString()
    }
    if (!entry) {
      record(404)
      res.writeHead(404, { ...common, 'x-ms-error-code': 'BlobNotFound' })
      return void res.end()
    }
    // Archives over 128 MiB come as blocks (Put Block), then the list that commits them (Put Block List).
    const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '')
    if (req.method === 'PUT' && query.get('comp') === 'block') {
      const staged = blocks.get(id) ?? new Map<string, Buffer>()
      blocks.set(id, staged)
      staged.set(query.get('blockid') ?? '', body)
      record(201)
      res.writeHead(201, { ...common, 'content-length': 0, 'x-ms-request-server-encrypted': 'true' })
      return void res.end()
    }
    if (req.method === 'PUT' && query.get('comp') === 'blocklist') {
      const staged = blocks.get(id) ?? new Map<string, Buffer>()
      const ids = [...body.toString('utf8').matchAll(/<(?:Latest|Uncommitted|Committed)>([^<]*)<\//g)].map(m => m[1])
      if (ids.some(b => !staged.has(b))) {
        record(400)
        res.writeHead(400, { ...common, 'x-ms-error-code': 'InvalidBlockList' })
        return void res.end()
      }
      entry.blob = Buffer.concat(ids.map(b => staged.get(b)!))
      blocks.delete(id)
      record(201)
      res.writeHead(201, { ...common, 'content-length': 0, 'x-ms-request-server-encrypted': 'true' })
      return void res.end()
    }
    if (req.method === 'PUT') {
      if (req.headers['x-ms-blob-type'] !== 'BlockBlob') {
        record(400)
        res.writeHead(400, { ...common, 'x-ms-error-code': 'InvalidHeaderValue' })
        return void res.end()
      }
      entry.blob = body
      record(201)
      res.writeHead(201, { ...common, 'content-length': 0, 'x-ms-request-server-encrypted': 'true' })
      return void res.end()
    }
    if (!entry.finalized || entry.blob === null) {
      record(404)
      res.writeHead(404, { ...common, 'x-ms-error-code': 'BlobNotFound' })
      return void res.end()
    }
    const data = entry.blob
    const props = {
      ...common,
      'x-ms-blob-type': 'BlockBlob',
      'content-type': 'application/octet-stream',
      'accept-ranges': 'bytes'
    }
    if (req.method === 'HEAD') {
      record(200)
      res.writeHead(200, { ...props, 'content-length': data.length })
      return void res.end()
    }
    if (req.method === 'GET') {
      const range = String(req.headers['x-ms-range'] ?? req.headers.range ?? '')
      const m = /bytes=(\d+)-(\d*)/.exec(range)
      if (m) {
        const start = Number(m[1])
        const end = m[2] === '' ? data.length - 1 : Math.min(Number(m[2]), data.length - 1)
        const part = data.subarray(start, end + 1)
        record(206)
        res.writeHead(206, { ...props, 'content-length': part.length, 'content-range': `bytes ${start}-${end}/${data.length}` })
        return void res.end(part)
      }
      record(200)
      res.writeHead(200, { ...props, 'content-length': data.length })
      return void res.end(data)
    }
    record(405)
    res.writeHead(405, common)
    res.end()
  }

  let inFlight = 0
  const server = createServer((req, res) => {
    inFlight++
    svc.maxInFlight = Math.max(svc.maxInFlight, inFlight)
    res.on('close', () => inFlight--)
    const chunks: Buffer[] = []
    req.on('data', c => chunks.push(c as Buffer))
    req.on('end', () => {
      if (svc.latencyMs > 0) setTimeout(answer, svc.latencyMs)
      else answer()
    })
    function answer(): void {
      const body = Buffer.concat(chunks)
      const path = (req.url ?? '').split('?')[0]
      if (path.startsWith(TWIRP) && req.method === 'POST') return twirp(path.slice(TWIRP.length), req, body, res)
      const m = /^\/devstoreaccount1\/actions-cache\/([0-9a-f]+)$/.exec(path)
      if (m) return blob(req, body, res, m[1])
      requests.push({ method: req.method ?? '', call: `unknown ${path}`, status: 404 })
      res.writeHead(404)
      res.end()
    }
  })
  await new Promise<void>(r => server.listen(0, '127.0.0.1', () => r()))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  svc.url = url
  return svc
}
