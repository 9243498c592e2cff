// A loopback stand-in of the GitHub Actions cache service, as @actions/cache 6 speaks to it with
// ACTIONS_CACHE_SERVICE_V2 set: Twirp JSON calls under /twirp/github.actions.results.api.v1.CacheService/
// (CreateCacheEntry, FinalizeCacheEntryUpload, GetCacheEntryDownloadURL, with the runtime token as
// bearer), and the signed blob URLs they hand out, which the Azure storage SDK uses:
//   upload   PUT  <blob> with x-ms-blob-type: BlockBlob (Put Blob: one shot, the archives here are
//            far below the 128 MiB single-shot limit), answered 201;
//   download HEAD <blob> (getProperties: the length), then GET <blob> with x-ms-range (downloadToBuffer).
// Entries match as the service matches them: key by exact value or prefix (the newest entry of a
// prefix), version exactly.
//
// Scopes, as GitHub keeps them: every entry belongs to the ref of the run that created it. The
// runtime token says which scopes a run may read and which one it may write (GitHub's `ac` claim:
// a JSON list of { Scope, Permission }, 1 read, 2 write, 3 both); the service, not the client,
// applies it. A push to main reads and writes refs/heads/main; a pull_request run reads its own
// refs/pull/N/merge scope, then its base branch's and the default branch's, and writes only its own.
// Lookups go through the readable scopes in the token's order.
//
// The rate limit, as GitHub's: `createsPerWindow` (200) entries created per `windowMs` (a minute)
// per repository; beyond it, CreateCacheEntry is a 429 with Retry-After (whole seconds). The clock
// is `now()`, which a test may replace (a fake minute, so no test waits real minutes).
// Every request is recorded; switches make it rate-limit, refuse writes, or fail.

import { createHmac, randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

const TWIRP = '/twirp/github.actions.results.api.v1.CacheService/'

export interface ServiceEntry {
  /** The ref whose scope holds it (the run that created it). */
  scope: string
  key: string
  version: string
  blob: Buffer | null
  finalized: boolean
  /** Order of creation: a prefix lookup answers the newest. */
  created: number
}

/** What a run's runtime token lets it do with the cache, as GitHub mints it from the run's ref. */
export interface RunScope {
  /** The run's own ref: the scope it writes to (and reads first). */
  ref: string
  /** Further scopes it may read, in order (a pull request's base branch, the default branch). */
  reads?: string[]
  /** May it write its own scope? (false: a read-only cache token) */
  write?: boolean
}

export const MAIN_SCOPE: RunScope = { ref: 'refs/heads/main' }

/** The scope GitHub gives a pull_request run of PR `n` into `base` (default branch main). */
export function pullRequestScope(n: number, base = 'main', defaultBranch = 'main'): RunScope {
  return { ref: `refs/pull/${n}/merge`, reads: [...new Set([`refs/heads/${base}`, `refs/heads/${defaultBranch}`])] }
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
  /** The runtime token of a push to main (see env()). */
  runtimeToken: string
  /** `<scope> <key>` → entry (finalized ones are what a later job can restore). */
  entries: Map<string, ServiceEntry>
  /** The entry under `key` in `scope` (default refs/heads/main). */
  entry(key: string, scope?: string): ServiceEntry | undefined
  /** Finalized entries and their bytes, per scope: what the repository's storage holds. */
  usage(): Map<string, { entries: number; bytes: number }>
  /** Entries created per window (GitHub: 200 a minute); beyond it CreateCacheEntry answers 429. */
  createsPerWindow: number
  /** The window of the rate limit in milliseconds of `now()` (GitHub: 60000). */
  windowMs: number
  /** The service's clock (Date.now by default; a test may make it fake). */
  now: () => number
  requests: ServiceRequest[]
  /** Answer CreateCacheEntry with 429 (no Retry-After) after this many successful reservations (Infinity: never). */
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
  /** Puts a finalized entry in place, as if some job of `scope` (main's) had saved `blob` under `key` and `version`. */
  seed(key: string, version: string, blob: Buffer, scope?: string): void
  /** Environment @actions/cache needs to talk to this stand-in, as a run of `scope` (a push to main) gets it. */
  env(scope?: RunScope): Record<string, string>
  /** The runtime token GitHub would mint for a run of `scope`. */
  tokenFor(scope: RunScope): string
  close(): Promise<void>
}

const b64url = (s: string): string => Buffer.from(s).toString('base64url')

export async function startActionsCacheService(): Promise<ActionsCacheService> {
  const secret = randomBytes(16)
  const entries = new Map<string, ServiceEntry>()
  const blobs = new Map<string, string>() // blob id → entry id (`<scope> <key>`)
  const blocks = new Map<string, Map<string, Buffer>>() // blob id → staged blocks by block id
  const requests: ServiceRequest[] = []
  let reservations = 0
  let created = 0
  /** now() of every entry created, for the rate limit. */
  const creations: number[] = []
  let url = ''
  const id = (scope: string, key: string): string => `${scope} ${key}`

  /** A JWT-shaped token whose `ac` claim lists the scopes, signed so no client can forge one. */
  const tokenFor = (scope: RunScope): string => {
    const ac = [
      { Scope: scope.ref, Permission: scope.write === false ? 1 : 3 },
      ...(scope.reads ?? []).filter(r => r !== scope.ref).map(r => ({ Scope: r, Permission: 1 }))
    ]
    const body = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify({ ac: JSON.stringify(ac) }))}`
    return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`
  }
  /** The scopes of a bearer token, or null when it is not one this service signed. */
  const scopesOf = (auth: string | undefined): { read: string[]; write: string | null } | null => {
    const m = /^Bearer ([^.]+\.[^.]+)\.([^.]+)$/.exec(auth ?? '')
    if (!m || createHmac('sha256', secret).update(m[1]).digest('base64url') !== m[2]) return null
    const ac = JSON.parse(JSON.parse(Buffer.from(m[1].split('.')[1], 'base64url').toString('utf8')).ac) as {
      Scope: string
      Permission: number
    }[]
    return { read: ac.filter(a => a.Permission & 1).map(a => a.Scope), write: ac.find(a => a.Permission & 2)?.Scope ?? null }
  }
  const runtimeToken = tokenFor(MAIN_SCOPE)

  const svc: ActionsCacheService = {
    url: '',
    runtimeToken,
    entries,
    entry: (key, scope = MAIN_SCOPE.ref) => entries.get(id(scope, key)),
    usage: () => {
      const out = new Map<string, { entries: number; bytes: number }>()
      for (const e of entries.values()) {
        if (!e.finalized || e.blob === null) continue
        const u = out.get(e.scope) ?? { entries: 0, bytes: 0 }
        u.entries++
        u.bytes += e.blob.length
        out.set(e.scope, u)
      }
      return out
    },
    createsPerWindow: 200,
    windowMs: 60_000,
    now: () => Date.now(),
    tokenFor,
    requests,
    rateLimitAfter: Infinity,
    denyWrites: false,
    failReservations: null,
    ignoreVersion: false,
    latencyMs: 0,
    keyFaults: new Map(),
    maxInFlight: 0,
    seed: (key, version, blob, scope = MAIN_SCOPE.ref) => {
      const bid = randomBytes(8).toString('hex')
      for (const [b, e] of blobs) if (e === id(scope, key)) blobs.delete(b)
      blobs.set(bid, id(scope, key))
      entries.set(id(scope, key), { scope, key, version, blob, finalized: true, created: ++created })
    },
    env: (scope = MAIN_SCOPE) => ({
      ACTIONS_RESULTS_URL: `${url}/`,
      ACTIONS_RUNTIME_TOKEN: tokenFor(scope),
      ACTIONS_CACHE_SERVICE_V2: 'true',
      GITHUB_SERVER_URL: 'https://github.com'
    }),
    close: () =>
      new Promise<void>(r => {
        server.close(() => r())
        server.closeAllConnections()
      })
  }

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    const text = JSON.stringify(body)
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers })
    res.end(text)
  }
  /** Seconds until one more entry may be created, or 0 when one may be now. */
  const retryAfter = (): number => {
    const t = svc.now()
    while (creations.length > 0 && creations[0] <= t - svc.windowMs) creations.shift()
    if (creations.length < svc.createsPerWindow) return 0
    if (creations.length === 0) return Math.max(1, Math.ceil(svc.windowMs / 1000))
    return Math.max(1, Math.ceil((creations[0] + svc.windowMs - t) / 1000))
  }
  /** A 429, with Retry-After when `seconds` is given. */
  const rateLimited = (res: ServerResponse, seconds?: number): void =>
    json(res, 429, { code: 'resource_exhausted', msg: 'too many cache entries created' }, seconds ? { 'retry-after': String(seconds) } : {})

  function twirp(method: string, req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    const record = (status: number, key?: string): void => {
      requests.push({ method: 'POST', call: method, key, status })
    }
    const scopes = scopesOf(req.headers.authorization)
    if (scopes === null) {
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
          return rateLimited(res, 60)
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
          // A hard stop that names no time to come back.
          record(429, key)
          return rateLimited(res)
        }
        const wait = retryAfter()
        if (wait > 0) {
          record(429, key)
          return rateLimited(res, wait)
        }
        if (svc.denyWrites || scopes.write === null) {
          record(200, key)
          return json(res, 200, { ok: false, message: 'cache write denied: the cache token of this run is read-only' })
        }
        if (svc.failReservations !== null) {
          record(200, key)
          return json(res, 200, { ok: false, message: svc.failReservations })
        }
        const scope = scopes.write
        if (entries.has(id(scope, key))) {
          record(409, key)
          return json(res, 409, { code: 'already_exists', msg: 'cache entry with the same key, version, and scope already exists' })
        }
        reservations++
        creations.push(svc.now())
        const bid = randomBytes(8).toString('hex')
        blobs.set(bid, id(scope, key))
        entries.set(id(scope, key), { scope, key, version, blob: null, finalized: false, created: ++created })
        record(200, key)
        return json(res, 200, {
          ok: true,
          signed_upload_url: `${url}/devstoreaccount1/actions-cache/${bid}?sig=upload-${bid}&sv=2024-11-04`
        })
      }
      case 'FinalizeCacheEntryUpload': {
        const e = scopes.write === null ? undefined : entries.get(id(scopes.write, key))
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
        const usable = (e: ServiceEntry, scope: string): boolean =>
          e.scope === scope && e.finalized && (svc.ignoreVersion || e.version === version)
        for (const scope of scopes.read) {
          for (const k of keys) {
            const candidates = [...entries.values()].filter(e => usable(e, scope))
            const hit =
              candidates.find(e => e.key === k) ?? candidates.filter(e => e.key.startsWith(k)).sort((a, b) => b.created - a.created)[0]
            if (hit) {
              const bid = [...blobs.entries()].find(([, e]) => e === id(hit.scope, hit.key))?.[0]
              record(200, key)
              return json(res, 200, {
                ok: true,
                signed_download_url: `${url}/devstoreaccount1/actions-cache/${bid}?sig=download-${bid}&sv=2024-11-04`,
                matched_key: hit.key
              })
            }
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

  function blob(req: IncomingMessage, body: Buffer, res: ServerResponse, bid: string): void {
    const eid = blobs.get(bid)
    const entry = eid ? entries.get(eid) : undefined
    const key = entry?.key
    const record = (status: number): void => {
      requests.push({ method: req.method ?? '', call: 'blob', key, status })
    }
    const common = {
      'x-ms-request-id': randomBytes(8).toString('hex'),
      'x-ms-version': '2024-11-04',
      etag: `"0x${bid.toUpperCase()}"`,
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
      const staged = blocks.get(bid) ?? new Map<string, Buffer>()
      blocks.set(bid, staged)
      staged.set(query.get('blockid') ?? '', body)
      record(201)
      res.writeHead(201, { ...common, 'content-length': 0, 'x-ms-request-server-encrypted': 'true' })
      return void res.end()
    }
    if (req.method === 'PUT' && query.get('comp') === 'blocklist') {
      const staged = blocks.get(bid) ?? new Map<string, Buffer>()
      const ids = [...body.toString('utf8').matchAll(/<(?:Latest|Uncommitted|Committed)>([^<]*)<\//g)].map(m => m[1])
      if (ids.some(b => !staged.has(b))) {
        record(400)
        res.writeHead(400, { ...common, 'x-ms-error-code': 'InvalidBlockList' })
        return void res.end()
      }
      entry.blob = Buffer.concat(ids.map(b => staged.get(b)!))
      blocks.delete(bid)
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
