// The server's protocol, as Nx 24 needs it: every status Nx can see, its body and content type,
// and the bearer token. A source that fails or hangs must never turn into a 5xx.

import { afterEach, describe, expect, it } from '@jest/globals'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type EntrySource, type NxCacheServer, createNxCacheServer } from '../../src/cache/server/http.js'
import { STATS_PATH, readUploadsFile } from '../../src/cache/state.js'

const TOKEN = 'a'.repeat(64)
const auth = { authorization: `Bearer ${TOKEN}` }

interface Started {
  srv: NxCacheServer
  url: string
  dir: string
  restored: string[]
}

let running: NxCacheServer[] = []
afterEach(async () => {
  await Promise.all(running.map(s => s.close()))
  running = []
})

async function start(
  opts: { write?: boolean; maxEntries?: number; maxEntrySize?: number; source?: EntrySource; restoreTimeoutMs?: number } = {}
): Promise<Started> {
  const dir = mkdtempSync(join(tmpdir(), 'nca-srv-'))
  const restored: string[] = []
  const srv = createNxCacheServer({
    token: TOKEN,
    write: opts.write ?? true,
    entriesDir: join(dir, 'nx-cache'),
    uploadsFile: join(dir, 'uploads.txt'),
    maxEntries: opts.maxEntries ?? 100,
    maxEntrySize: opts.maxEntrySize ?? 1024 * 1024,
    restoreTimeoutMs: opts.restoreTimeoutMs,
    maxRestoreTimeouts: 2,
    source: opts.source ?? {
      async restore(hash) {
        restored.push(hash)
        return hash === 'remote1' ? Buffer.from('from the actions cache') : null
      }
    }
  })
  running.push(srv)
  const port = await srv.listen()
  return { srv, url: `http://127.0.0.1:${port}`, dir, restored }
}

const put = (url: string, hash: string, body: string | Buffer, headers: Record<string, string> = auth): Promise<Response> =>
  fetch(`${url}/v1/cache/${hash}`, { method: 'PUT', headers, body })

describe('GET /v1/cache/{hash}', () => {
  it('answers 404 text/plain on a miss, after asking the source', async () => {
    const s = await start()
    const res = await fetch(`${s.url}/v1/cache/123`, { headers: auth })
    expect(res.status).toBe(404)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/)
    expect(s.restored).toEqual(['123'])
    expect(s.srv.stats.misses).toBe(1)
  })

  it('answers 200 with the exact bytes of an entry restored from the source', async () => {
    const s = await start()
    const res = await fetch(`${s.url}/v1/cache/remote1`, { headers: auth })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/octet-stream')
    expect(await res.text()).toBe('from the actions cache')
    expect(s.srv.stats).toMatchObject({ hits: 1, bytesServed: 22 })
  })

  it('serves an entry uploaded in this job without asking the source', async () => {
    const s = await start()
    const bytes = Buffer.from([0, 1, 2, 250, 251, 252])
    expect((await put(s.url, '777', bytes)).status).toBe(200)
    const res = await fetch(`${s.url}/v1/cache/777`, { headers: auth })
    expect(res.status).toBe(200)
    expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes)
    expect(s.restored).toEqual([])
  })

  it('answers a failing source as a miss (404), never a 5xx: Nx aborts the run on anything else', async () => {
    const s = await start({
      source: {
        restore: async () => {
          throw new Error('cache service exploded')
        }
      }
    })
    const res = await fetch(`${s.url}/v1/cache/999`, { headers: auth })
    expect(res.status).toBe(404)
    expect(s.srv.stats).toMatchObject({ misses: 1, restoreErrors: 1 })
  })

  it('answers a miss when the source outlasts the time budget, and stops asking it after two such', async () => {
    const asked: string[] = []
    const s = await start({
      restoreTimeoutMs: 50,
      source: {
        restore: async hash => {
          asked.push(hash)
          await new Promise(r => setTimeout(r, 400))
          return Buffer.from('too late')
        }
      }
    })
    const t0 = Date.now()
    expect((await fetch(`${s.url}/v1/cache/1`, { headers: auth })).status).toBe(404)
    expect(Date.now() - t0).toBeLessThan(350)
    expect((await fetch(`${s.url}/v1/cache/2`, { headers: auth })).status).toBe(404)
    expect((await fetch(`${s.url}/v1/cache/3`, { headers: auth })).status).toBe(404)
    expect(asked).toEqual(['1', '2'])
    expect(s.srv.stats).toMatchObject({ misses: 3, restoreTimeouts: 2 })
  })

  it('asks the source once for concurrent GETs of one hash', async () => {
    let calls = 0
    const s = await start({
      source: {
        restore: async () => {
          calls++
          await new Promise(r => setTimeout(r, 50))
          return Buffer.from('x')
        }
      }
    })
    const answers = await Promise.all([1, 2, 3].map(() => fetch(`${s.url}/v1/cache/42`, { headers: auth })))
    expect(answers.map(a => a.status)).toEqual([200, 200, 200])
    expect(calls).toBe(1)
  })

  // The Actions cache source unpacks into <entriesDir>/<hash> itself, as @actions/cache does.
  it('never serves an entry the source is still writing, nor takes an upload over it', async () => {
    let release: () => void = () => undefined
    const gate = new Promise<void>(r => {
      release = r
    })
    let entries = ''
    const s = await start({
      source: {
        restore: async hash => {
          writeFileSync(join(entries, hash), 'half')
          await gate
          writeFileSync(join(entries, hash), 'the whole entry')
          return Buffer.from('the whole entry')
        }
      }
    })
    entries = join(s.dir, 'nx-cache')
    const first = fetch(`${s.url}/v1/cache/55`, { headers: auth })
    while (!existsSync(join(entries, '55'))) await new Promise(r => setTimeout(r, 5))
    const second = fetch(`${s.url}/v1/cache/55`, { headers: auth })
    const upload = await put(s.url, '55', 'an upload')
    expect(upload.status).toBe(409)
    expect(readFileSync(join(entries, '55'), 'utf8')).toBe('half')
    setTimeout(release, 50)
    for (const res of await Promise.all([first, second])) {
      expect(res.status).toBe(200)
      expect(await res.text()).toBe('the whole entry')
    }
    expect(s.srv.uploads).toEqual([])
  })

  it('removes what a failed restore left, so it is neither served nor blocks an upload', async () => {
    let entries = ''
    const s = await start({
      source: {
        restore: async hash => {
          writeFileSync(join(entries, hash), 'half')
          throw new Error('the download broke off')
        }
      }
    })
    entries = join(s.dir, 'nx-cache')
    expect((await fetch(`${s.url}/v1/cache/66`, { headers: auth })).status).toBe(404)
    expect(existsSync(join(entries, '66'))).toBe(false)
    expect((await put(s.url, '66', 'built here')).status).toBe(200)
    const res = await fetch(`${s.url}/v1/cache/66`, { headers: auth })
    expect(await res.text()).toBe('built here')
  })

  it('answers a path that is no entry with 404 and never touches the source', async () => {
    const s = await start()
    for (const path of ['/v1/cache/..%2F..%2Fetc%2Fpasswd', '/v1/cache/', '/v2/cache/1', '/']) {
      const res = await fetch(`${s.url}${path}`, { headers: auth })
      expect(res.status).toBe(404)
    }
    expect(s.restored).toEqual([])
  })
})

describe('authorization', () => {
  it.each([
    ['no header', {}],
    ['another token', { authorization: `Bearer ${'b'.repeat(64)}` }],
    ['the token without Bearer', { authorization: TOKEN }],
    ['a prefix of the token', { authorization: `Bearer ${TOKEN.slice(0, 10)}` }]
  ])('answers %s with 401 and a text/plain body, for GET and PUT', async (_name, headers) => {
    const s = await start()
    const get = await fetch(`${s.url}/v1/cache/1`, { headers })
    expect(get.status).toBe(401)
    expect(get.headers.get('content-type')).toMatch(/^text\/plain/)
    expect((await get.text()).length).toBeGreaterThan(0)
    const p = await put(s.url, '1', 'x', headers as Record<string, string>)
    expect(p.status).toBe(401)
    expect(p.headers.get('content-type')).toMatch(/^text\/plain/)
    expect(s.restored).toEqual([])
    expect(s.srv.uploads).toEqual([])
    expect(s.srv.stats.unauthorized).toBe(2)
  })

  it('does not show its statistics to a wrong token', async () => {
    const s = await start()
    const res = await fetch(`${s.url}${STATS_PATH}`, { headers: { authorization: 'Bearer nope' } })
    expect(res.status).toBe(401)
  })
})

describe('PUT /v1/cache/{hash}', () => {
  it('stores an upload (200), writes it to disk and records it for post', async () => {
    const s = await start()
    const res = await put(s.url, '1001', 'task output tarball')
    expect(res.status).toBe(200)
    expect(readFileSync(join(s.dir, 'nx-cache', '1001'), 'utf8')).toBe('task output tarball')
    expect(readUploadsFile(join(s.dir, 'uploads.txt'))).toEqual(['1001'])
    expect(s.srv.uploads).toEqual(['1001'])
    expect(s.srv.stats).toMatchObject({ stored: 1, bytesStored: 19 })
  })

  it('refuses every upload with 403 on a read-only run and writes nothing', async () => {
    const s = await start({ write: false })
    const res = await put(s.url, '1002', 'x'.repeat(5000))
    expect(res.status).toBe(403)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/)
    expect(existsSync(join(s.dir, 'nx-cache', '1002'))).toBe(false)
    expect(readUploadsFile(join(s.dir, 'uploads.txt'))).toEqual([])
    expect(s.srv.stats).toMatchObject({ refused: 1, stored: 0 })
  })

  it('answers a second upload of the same hash with 409 and keeps the first', async () => {
    const s = await start()
    expect((await put(s.url, '1003', 'first')).status).toBe(200)
    expect((await put(s.url, '1003', 'second')).status).toBe(409)
    expect(readFileSync(join(s.dir, 'nx-cache', '1003'), 'utf8')).toBe('first')
    expect(s.srv.uploads).toEqual(['1003'])
  })

  it('refuses an upload over max-entry-size with 403, whether declared or streamed', async () => {
    const s = await start({ maxEntrySize: 100 })
    expect((await put(s.url, '1004', 'y'.repeat(101))).status).toBe(403)
    // Chunked: no content-length, so the limit is found while streaming.
    const stream = new ReadableStream({
      start(c) {
        for (let i = 0; i < 5; i++) c.enqueue(new TextEncoder().encode('z'.repeat(40)))
        c.close()
      }
    })
    const res = await fetch(`${s.url}/v1/cache/1005`, { method: 'PUT', headers: auth, body: stream, duplex: 'half' } as RequestInit)
    expect(res.status).toBe(403)
    expect(existsSync(join(s.dir, 'nx-cache', '1004'))).toBe(false)
    expect(existsSync(join(s.dir, 'nx-cache', '1005'))).toBe(false)
    expect(s.srv.uploads).toEqual([])
    expect(s.srv.stats.tooLarge).toBe(2)
    // Exactly the limit is fine.
    expect((await put(s.url, '1006', 'y'.repeat(100))).status).toBe(200)
  })

  it('refuses uploads beyond max-entries with 403', async () => {
    const s = await start({ maxEntries: 2 })
    const statuses = []
    for (const h of ['1', '2', '3', '4']) statuses.push((await put(s.url, h, `entry ${h}`)).status)
    expect(statuses).toEqual([200, 200, 403, 403])
    expect(s.srv.uploads).toEqual(['1', '2'])
    expect(s.srv.stats.overCap).toBe(2)
  })

  it('counts uploads still streaming against max-entries, so parallel PUTs never keep more', async () => {
    const s = await start({ maxEntries: 2 })
    const port = Number(new URL(s.url).port)
    // Every PUT has sent its headers (and so been admitted or refused) before any body ends.
    const reqs = ['1', '2', '3', '4'].map(h => {
      const req = request({ host: '127.0.0.1', port, method: 'PUT', path: `/v1/cache/${h}`, headers: { ...auth, 'content-length': '10' } })
      const status = new Promise<number>((resolve, reject) => {
        req.on('response', res => {
          res.resume()
          resolve(res.statusCode ?? 0)
        })
        req.on('error', reject)
      })
      req.write('entry')
      return { req, status }
    })
    await new Promise(r => setTimeout(r, 100))
    for (const { req } of reqs) req.end(' body')
    const statuses = await Promise.all(reqs.map(r => r.status))
    expect(statuses.filter(x => x === 200)).toHaveLength(2)
    expect(statuses.filter(x => x === 403)).toHaveLength(2)
    expect(s.srv.uploads).toHaveLength(2)
    expect(readUploadsFile(join(s.dir, 'uploads.txt'))).toHaveLength(2)
    expect(s.srv.stats.overCap).toBe(2)
  })

  it('refuses a PUT to a path that is no entry with 403, never 5xx', async () => {
    const s = await start()
    const res = await fetch(`${s.url}/v1/cache/..%2Fescape`, { method: 'PUT', headers: auth, body: 'x' })
    expect(res.status).toBe(403)
    expect(existsSync(join(s.dir, 'escape'))).toBe(false)
  })

  it('refuses with 403 (not 5xx) when the entry cannot be written', async () => {
    const s = await start()
    // The entries folder replaced by a file: every write fails.
    const { rmSync, writeFileSync } = await import('node:fs')
    rmSync(join(s.dir, 'nx-cache'), { recursive: true })
    writeFileSync(join(s.dir, 'nx-cache'), 'not a folder')
    const res = await put(s.url, '1007', 'data')
    expect(res.status).toBe(403)
    expect(s.srv.stats.storeErrors).toBe(1)
    expect(s.srv.uploads).toEqual([])
  })
})

describe('stats', () => {
  it('reports the statistics and the uploads so far', async () => {
    const s = await start()
    await put(s.url, '5', 'five')
    await fetch(`${s.url}/v1/cache/6`, { headers: auth })
    await fetch(`${s.url}/v1/cache/5`, { headers: auth })
    const res = await fetch(`${s.url}${STATS_PATH}`, { headers: auth })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ uploads: ['5'], stats: { stored: 1, misses: 1, hits: 1, bytesServed: 4, bytesStored: 4 } })
  })
})
