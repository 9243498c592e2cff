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

import { createHash, timingSafeEqual } from 'node:crypto'
import { appendFileSync, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'

/** Where entries come from when this job has not seen them: the Actions cache, in production. */
export interface EntrySource {
  /** The entry's bytes, or `null` on a miss. May throw: a failure is answered as a miss. */
  restore(hash: string): Promise<Buffer | null>
}

export interface ServerOptions {
  /** The bearer token Nx must send (random per job, a secret). */
  token: string
  /** May uploads be kept for saving? `false`: every PUT is answered 403. */
  write: boolean
  /** Folder holding entries of this job: uploads and restored ones, one file per hash. */
  entriesDir: string
  /** One hash a line, appended on every accepted upload: what `post` saves. */
  uploadsFile: string
  /** Uploads kept at most; the ones beyond are answered 403. */
  maxEntries: number
  /** Bytes per upload at most; a larger one is answered 403. */
  maxEntrySize: number
  source: EntrySource
  /**
   * How long a GET waits on the source before answering a miss (the restore goes on and lands on
   * disk for a later GET). The Actions cache client retries a failing service for half a minute;
   * Nx should not wait that long per task. After `maxRestoreTimeouts` of them, the source is not
   * asked again: every GET of an unknown entry is a miss at once.
   */
  restoreTimeoutMs?: number
  maxRestoreTimeouts?: number
  log?: (line: string) => void
}

export interface ServerStats {
  /** GETs answered 200. */
  hits: number
  /** GETs answered 404. */
  misses: number
  /** Of the misses, how many were failed restores (answered as misses). */
  restoreErrors: number
  /** Of the misses, how many outlasted restoreTimeoutMs. */
  restoreTimeouts: number
  /** PUTs kept for saving (200). */
  stored: number
  /** PUTs answered 403 because this run may not write. */
  refused: number
  /** PUTs answered 403 for being over max-entry-size. */
  tooLarge: number
  /** PUTs answered 403 for being over max-entries. */
  overCap: number
  /** PUTs answered 409: the entry was already there. */
  conflicts: number
  /** PUTs answered 403 because the body could not be written. */
  storeErrors: number
  /** Requests answered 401. */
  unauthorized: number
  bytesServed: number
  bytesStored: number
}

/** What the server reports: on its stats path, and in stats.json when it is stopped. */
export interface ServerReport {
  stats: ServerStats
  uploads: string[]
}

/** The one path this kit answers besides Nx's own (same bearer token): the statistics so far. */
export const STATS_PATH = '/v1/nx-cloud-access/stats'

/** Nx task hashes are decimal strings today; accept what can safely name a file, nothing else. */
const HASH = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/

export function emptyStats(): ServerStats {
  return {
    hits: 0,
    misses: 0,
    restoreErrors: 0,
    restoreTimeouts: 0,
    stored: 0,
    refused: 0,
    tooLarge: 0,
    overCap: 0,
    conflicts: 0,
    storeErrors: 0,
    unauthorized: 0,
    bytesServed: 0,
    bytesStored: 0
  }
}

export interface NxCacheServer {
  server: Server
  stats: ServerStats
  uploads: string[]
  /** Listens on 127.0.0.1 (port 0: a free one); resolves the port. */
  listen(port?: number): Promise<number>
  close(): Promise<void>
}

export function createNxCacheServer(opts: ServerOptions): NxCacheServer {
  const stats = emptyStats()
  const uploads: string[] = []
  const uploadSet = new Set<string>()
  const inFlight = new Map<string, Promise<Buffer | null>>()
  const log = opts.log ?? (() => undefined)
  const restoreTimeoutMs = opts.restoreTimeoutMs ?? 20000
  const maxRestoreTimeouts = opts.maxRestoreTimeouts ?? 3
  const expected = createHash('sha256').update(`Bearer ${opts.token}`).digest()
  mkdirSync(opts.entriesDir, { recursive: true })

  const authorized = (req: IncomingMessage): boolean => {
    const got = createHash('sha256').update(String(req.headers.authorization ?? '')).digest()
    return timingSafeEqual(got, expected)
  }

  const text = (res: ServerResponse, status: number, body: string): void => {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  }

  /** Drains what the client still sends, so an early answer never resets the connection. */
  const refusePut = (req: IncomingMessage, res: ServerResponse, status: number, body: string): void => {
    req.resume()
    text(res, status, body)
  }

  // The Actions cache source unpacks straight into `<entriesDir>/<hash>` (@actions/cache restores
  // to the path the entry was saved from), so while a restore is in flight that file may be half
  // written: it is not a local entry until the restore settles (see get and put), and a restore
  // that fails takes its partial file with it.
  const restore = (hash: string): Promise<Buffer | null> => {
    let p = inFlight.get(hash)
    if (!p) {
      p = opts.source
        .restore(hash)
        .catch((e: unknown) => {
          if (!uploadSet.has(hash)) {
            try {
              rmSync(join(opts.entriesDir, hash), { force: true })
            } catch {
              // Cannot be removed: later GETs still ask the source, as for any miss.
            }
          }
          throw e
        })
        .finally(() => inFlight.delete(hash))
      inFlight.set(hash, p)
    }
    return p
  }

  async function get(hash: string, res: ServerResponse): Promise<void> {
    const local = join(opts.entriesDir, hash)
    let body: Buffer | null = null
    // During a restore the file is half written: wait for the restore (below) instead.
    if (!inFlight.has(hash) && existsSync(local)) {
      try {
        body = readFileSync(local)
      } catch {
        body = null
      }
    }
    if (body === null && stats.restoreTimeouts < maxRestoreTimeouts) {
      try {
        let timer: NodeJS.Timeout | undefined
        const late = new Promise<'late'>(r => {
          timer = setTimeout(() => r('late'), restoreTimeoutMs)
        })
        const got = await Promise.race([restore(hash), late]).finally(() => clearTimeout(timer))
        if (got === 'late') {
          stats.restoreTimeouts++
          log(
            `restore of ${hash} took over ${restoreTimeoutMs} ms, answered as a miss` +
              (stats.restoreTimeouts >= maxRestoreTimeouts ? '; the Actions cache is not asked again in this job' : '')
          )
          body = null
        } else {
          body = got
        }
      } catch (e) {
        stats.restoreErrors++
        log(`restore of ${hash} failed, answered as a miss: ${e instanceof Error ? e.message : String(e)}`)
        body = null
      }
    }
    if (body === null) {
      stats.misses++
      return text(res, 404, 'miss')
    }
    stats.hits++
    stats.bytesServed += body.length
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length })
    res.end(body)
  }

  function put(hash: string, req: IncomingMessage, res: ServerResponse): void {
    if (!opts.write) {
      stats.refused++
      return refusePut(req, res, 403, 'This run may not write to the cache (read-only).')
    }
    if (uploadSet.has(hash) || existsSync(join(opts.entriesDir, hash))) {
      stats.conflicts++
      return refusePut(req, res, 409, 'The entry exists.')
    }
    if (inFlight.has(hash)) {
      // The entry is being restored from the Actions cache into the same file: it will exist.
      stats.conflicts++
      return refusePut(req, res, 409, 'The entry is being restored from the Actions cache.')
    }
    const declared = Number(req.headers['content-length'] ?? NaN)
    if (Number.isFinite(declared) && declared > opts.maxEntrySize) {
      stats.tooLarge++
      return refusePut(req, res, 403, `The entry is over max-entry-size (${opts.maxEntrySize} bytes): not saved.`)
    }
    // Kept and still streaming alike (uploadSet holds both): counting only finished uploads let
    // parallel PUTs past the cap.
    if (uploadSet.size >= opts.maxEntries) {
      stats.overCap++
      return refusePut(req, res, 403, `This run already keeps max-entries (${opts.maxEntries}) entries: not saved.`)
    }
    // Reserved now, so a second PUT of the same hash during this one is a conflict.
    uploadSet.add(hash)
    const tmp = join(opts.entriesDir, `.${hash}.${process.pid}.part`)
    const out = createWriteStream(tmp)
    let size = 0
    let failed: string | null = null
    const fail = (status: number, why: string, counter: 'tooLarge' | 'storeErrors'): void => {
      if (failed !== null) return
      failed = why
      stats[counter]++
      uploadSet.delete(hash)
      out.destroy()
      try {
        rmSync(tmp, { force: true })
      } catch {
        // Nothing was written, or it cannot be removed: either way it is not an entry.
      }
      req.resume()
      if (!res.headersSent) text(res, status, why)
    }
    req.on('data', (chunk: Buffer) => {
      if (failed !== null) return
      size += chunk.length
      if (size > opts.maxEntrySize) {
        return fail(403, `The entry is over max-entry-size (${opts.maxEntrySize} bytes): not saved.`, 'tooLarge')
      }
      if (!out.write(chunk)) {
        req.pause()
        out.once('drain', () => req.resume())
      }
    })
    req.on('error', e => fail(403, `The upload broke off: ${e.message}`, 'storeErrors'))
    out.on('error', e => fail(403, `The entry could not be written: ${e.message}`, 'storeErrors'))
    req.on('end', () => {
      if (failed !== null) return
      out.end(() => {
        if (failed !== null) return
        try {
          renameSync(tmp, join(opts.entriesDir, hash))
          appendFileSync(opts.uploadsFile, `${hash}\n`)
        } catch (e) {
          return fail(403, `The entry could not be written: ${e instanceof Error ? e.message : String(e)}`, 'storeErrors')
        }
        uploads.push(hash)
        stats.stored++
        stats.bytesStored += size
        text(res, 200, 'stored')
      })
    })
  }

  const server = createServer((req, res) => {
    try {
      const path = (req.url ?? '').split('?')[0]
      if (!authorized(req)) {
        stats.unauthorized++
        req.resume()
        return text(res, 401, 'Unauthorized: this cache needs the bearer token of its own job.')
      }
      if (path === STATS_PATH && req.method === 'GET') {
        req.resume()
        const body = JSON.stringify({ stats, uploads } satisfies ServerReport)
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
        return res.end(body)
      }
      const m = /^\/v1\/cache\/([^/]+)$/.exec(path)
      const hash = m ? decodeURIComponent(m[1]) : ''
      if (!m || !HASH.test(hash)) {
        req.resume()
        // A miss for GET; a refusal for PUT. Neither ever aborts Nx.
        return text(res, req.method === 'PUT' ? 403 : 404, 'Not a cache entry path.')
      }
      if (req.method === 'GET') {
        req.resume()
        get(hash, res).catch(e => {
          log(`GET ${hash} failed: ${e instanceof Error ? e.message : String(e)}`)
          if (!res.headersSent) text(res, 404, 'miss')
        })
        return
      }
      if (req.method === 'PUT') return put(hash, req, res)
      req.resume()
      return text(res, 405, 'Only GET and PUT.')
    } catch (e) {
      log(`request failed: ${e instanceof Error ? e.message : String(e)}`)
      if (!res.headersSent) text(res, req.method === 'GET' ? 404 : 403, 'The cache could not answer.')
    }
  })
  // Nx keeps connections alive between tasks; nothing here may hold `post` up, though.
  server.keepAliveTimeout = 5000

  return {
    server,
    stats,
    uploads,
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

/** The uploads file as `post` reads it when the server could not be asked (it died). */
export function readUploadsFile(path: string): string[] {
  try {
    return [...new Set(readFileSync(path, 'utf8').split('\n').filter(h => HASH.test(h)))]
  } catch {
    return []
  }
}

export function resetUploadsFile(path: string): void {
  writeFileSync(path, '')
}
