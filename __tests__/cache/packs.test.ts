// Packs and the rate limit, on the bundled cache/dist entries with the real @actions/cache against
// the loopback service, which allows 200 entries created a minute as GitHub does:
// - 1,000 new entries on main are all saved, and all served to a fresh runner afterwards;
// - a pack is checked as strictly as an entry: one member out of place refuses the whole pack;
// - a hash is never served with bytes saved under another hash, whatever a pack's index says.

import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pushPayload } from '../fixtures/payloads.js'
import { type ActionsCacheService, startActionsCacheService } from '../helpers/actions-cache-service.js'
import { entryArchive, libraryCompression } from '../helpers/entry-archive.js'
import { type ActionRun, runAction } from '../helpers/run-action.js'
import { getEntry, stopServer } from '../helpers/running-server.js'

const MAIN = 'cache/dist/main/index.js'
const POST = 'cache/dist/post/index.js'
const pushMain = { event: 'push', ref: 'refs/heads/main', payload: pushPayload('refs/heads/main') }
const PACK = 'nx-cloud-access-v1-pack-Linux-heads_main-'

let svc: ActionsCacheService
beforeEach(async () => {
  svc = await startActionsCacheService()
})
afterEach(async () => {
  await svc.close()
})

const env = (): Record<string, string> => ({ RUNNER_OS: 'Linux', GITHUB_RUN_ID: '4242', GITHUB_RUN_ATTEMPT: '1', ...svc.env() })
const creates = (): number => svc.requests.filter(r => r.call === 'CreateCacheEntry').length

async function startMain(inputs: Record<string, string> = {}): Promise<ActionRun> {
  const main = await runAction({ ...pushMain, entry: MAIN, env: env(), inputs })
  expect(main.status).toBe(0)
  expect(main.state['nca-started']).toBe('true')
  return main
}

/** What Nx would PUT, a few at a time. */
async function upload(main: ActionRun, hashes: string[], body: (h: string) => string): Promise<void> {
  for (let i = 0; i < hashes.length; i += 50) {
    const statuses = await Promise.all(
      hashes.slice(i, i + 50).map(async h => {
        const res = await fetch(`${main.env.NX_SELF_HOSTED_REMOTE_CACHE_SERVER}/v1/cache/${h}`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${main.env.NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN}` },
          body: body(h)
        })
        await res.arrayBuffer()
        return res.status
      })
    )
    expect(statuses.every(s => s === 200)).toBe(true)
  }
}

/** The version @actions/cache gives a pack (its one path, the compression, its salt). */
function packVersion(): string {
  return createHash('sha256').update(['nx-cache-pack', libraryCompression(), '1.0'].join('|')).digest('hex')
}

/** A pack archive made by hand: `files` under nx-cache-pack/, plus `extra` members as named. */
function packArchive(files: Record<string, string>, extra: string[] = []): Buffer {
  const dir = join(mkdtempSync(join(tmpdir(), 'nca-pack-')), 'pack')
  mkdirSync(join(dir, 'nx-cache-pack'), { recursive: true })
  writeFileSync(join(dir, '..', 'nca-climb'), 'beside the stage')
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, 'nx-cache-pack', name), text)
  return entryArchive(dir, ['nx-cache-pack', ...extra])
}

describe('packs', () => {
  it('1,000 new entries on main are saved under the 200-a-minute limit, and a fresh runner is served every one', async () => {
    const hashes = Array.from({ length: 1000 }, (_, i) => String(8_000_000 + i))
    const main = await startMain({ 'max-entries': '1000' })
    await upload(main, hashes, h => `output of task ${h}`)
    const post = await runAction({ ...pushMain, entry: POST, env: env(), state: main.state })
    expect(post.status).toBe(0)
    expect(post.warnings).toEqual([])
    expect(post.outputs.saved).toBe('1000')
    // Few entries created, far under the limit: one pack.
    expect(creates()).toBe(1)
    expect(svc.requests.filter(r => r.status === 429)).toEqual([])

    // A fresh runner: a new stage, nothing on disk; every hash served, each with its own bytes.
    const fresh = await startMain()
    try {
      expect(fresh.state['nca-stage']).not.toBe(main.state['nca-stage'])
      const lookups = svc.requests.filter(r => r.call === 'GetCacheEntryDownloadURL').length
      for (const h of hashes) {
        const res = await getEntry(fresh, h)
        expect(res.status).toBe(200)
        expect(await res.text()).toBe(`output of task ${h}`)
      }
      // Restored as one archive: no lookup per hash.
      expect(svc.requests.filter(r => r.call === 'GetCacheEntryDownloadURL').length - lookups).toBeLessThanOrEqual(2)
    } finally {
      stopServer(fresh)
    }
  })

  it('a pack with one member out of place is refused whole: nothing of it is written, and post names its key', async () => {
    const key = `${PACK}1-1-aaaaaaaa-0`
    svc.seed(
      key,
      packVersion(),
      packArchive({ '7700011': 'poisoned?', 'index.json': JSON.stringify([[key, ['7700011']]]) }, ['../nca-climb'])
    )
    const main = await startMain()
    try {
      expect((await getEntry(main, '7700011')).status).toBe(404)
      expect(readdirSync(join(main.state['nca-stage'], 'nx-cache')).filter(f => !f.startsWith('.'))).toEqual([])
    } finally {
      stopServer(main)
    }
    const post = await runAction({ ...pushMain, entry: POST, env: env(), state: main.state })
    expect(post.warnings.filter(w => w.includes(key))).toHaveLength(1)
    expect(post.warnings.join(' ')).toContain('climbs out with ..')
  })

  it.each(['a symlink', 'a folder inside'])('a pack holding %s is refused whole', async what => {
    const key = `${PACK}1-1-bbbbbbbb-0`
    const dir = mkdtempSync(join(tmpdir(), 'nca-pack-'))
    mkdirSync(join(dir, 'nx-cache-pack'))
    writeFileSync(join(dir, 'nx-cache-pack', '7700021'), 'fine')
    if (what === 'a symlink') {
      const { symlinkSync } = await import('node:fs')
      symlinkSync('/etc/passwd', join(dir, 'nx-cache-pack', '7700022'))
    } else {
      mkdirSync(join(dir, 'nx-cache-pack', 'sub'))
      writeFileSync(join(dir, 'nx-cache-pack', 'sub', '7700022'), 'nested')
    }
    svc.seed(key, packVersion(), entryArchive(dir, ['nx-cache-pack']))
    const main = await startMain()
    try {
      expect((await getEntry(main, '7700021')).status).toBe(404)
      expect((await getEntry(main, '7700022')).status).toBe(404)
    } finally {
      stopServer(main)
    }
  })

  it("a hash is never served with another hash's bytes, whatever a pack's index claims", async () => {
    // The older pack holds 7700032 only; the newest one's index says it holds 7700031 too.
    const older = `${PACK}1-1-cccccccc-0`
    const newest = `${PACK}2-1-dddddddd-0`
    svc.seed(older, packVersion(), packArchive({ '7700032': 'bytes of 7700032', 'index.json': '[]' }))
    svc.seed(
      newest,
      packVersion(),
      packArchive({
        '7700033': 'bytes of 7700033',
        'index.json': JSON.stringify([
          [newest, ['7700033']],
          [older, ['7700031', '7700032']]
        ])
      })
    )
    const main = await startMain()
    try {
      expect((await getEntry(main, '7700031')).status).toBe(404)
      const ok = await getEntry(main, '7700032')
      expect(ok.status).toBe(200)
      expect(await ok.text()).toBe('bytes of 7700032')
      expect(await (await getEntry(main, '7700033')).text()).toBe('bytes of 7700033')
    } finally {
      stopServer(main)
    }
  })

  it("main never reads a pull request's pack, even one named like main's", async () => {
    const key = `${PACK}9-1-eeeeeeee-0`
    // Saved by a pull request's run, in its scope, under a name like main's.
    svc.seed(key, packVersion(), packArchive({ '7700041': 'from the PR', 'index.json': '[]' }), 'refs/pull/7/merge')
    const main = await startMain()
    try {
      expect((await getEntry(main, '7700041')).status).toBe(404)
    } finally {
      stopServer(main)
    }
  })
})

describe('pack keys', () => {
  it("one ref's prefix never starts another ref's pack key", async () => {
    const { packPrefix, packKeys } = await import('../../src/cache/adapter/packs.js')
    const main = packPrefix('Linux', 'refs/heads/main')
    for (const other of ['refs/heads/main-foo', 'refs/heads/main_foo', 'refs/heads/main/x', 'refs/pull/1/merge']) {
      const [key] = packKeys('Linux', other, 1, { id: '1', attempt: '1' })
      expect(key.startsWith(main)).toBe(false)
    }
    expect(packKeys('Linux', 'refs/heads/main', 2, { id: '77', attempt: '2' }).every(k => k.startsWith(main))).toBe(true)
  })
})
