// Four findings of an attack review of the cache action, each as a later step of a job would try
// it, on the bundled cache/dist entries with the real @actions/cache against the loopback service:
// 1. a later step rewrites a chunk of the server's bundle that the server would load after it has
//    the credentials, to have the server run its code with the runtime token;
// 2. a later step raises the server's core-size limit, to dump its memory (credentials in it);
// 3. a restored entry larger than max-entry-size, to fill the runner's disk and memory;
// 4. a later step on a writing run rewrites the server's report so post saves a file from outside
//    the staging folder into the Actions cache.

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { pushPayload } from '../fixtures/payloads.js'
import { type ActionsCacheService, startActionsCacheService } from '../helpers/actions-cache-service.js'
import { entryArchive, entryVersion, libraryCompression } from '../helpers/entry-archive.js'
import { execFileSync } from 'node:child_process'
import { gunzipSync } from 'node:zlib'
import { REPO_ROOT, runAction } from '../helpers/run-action.js'
import { getEntry, stopServer } from '../helpers/running-server.js'

const MAIN = 'cache/dist/main/index.js'
const POST = 'cache/dist/post/index.js'
const onLinux = process.platform === 'linux' ? it : it.skip
const pushMain = { event: 'push', ref: 'refs/heads/main', payload: pushPayload('refs/heads/main') }
const key = (h: string): string => `nx-cloud-access-v1-Linux-${h}`

let svc: ActionsCacheService
beforeAll(async () => {
  svc = await startActionsCacheService()
})
afterAll(async () => {
  await svc.close()
})

function seedEntry(hash: string, bytes: Buffer | string): void {
  const src = mkdtempSync(join(tmpdir(), 'nca-src-'))
  mkdirSync(join(src, 'nx-cache'))
  writeFileSync(join(src, 'nx-cache', hash), bytes)
  svc.seed(key(hash), entryVersion(hash), entryArchive(src, [`nx-cache/${hash}`]))
}

/** The member names of an archive as the library compressed it. */
function members(blob: Buffer): string[] {
  const tar = libraryCompression() === 'gzip' ? gunzipSync(blob) : execFileSync('zstd', ['-d', '-c'], { input: blob })
  return execFileSync('tar', ['-tf', '-'], { input: tar, encoding: 'utf8' }).split('\n').filter(Boolean).sort()
}

async function waitGone(pid: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      process.kill(pid, 0)
    } catch {
      return
    }
    await new Promise(r => setTimeout(r, 25))
  }
}

describe('attacks on the cache action from a later step of the job', () => {
  onLinux('1. a rewritten chunk of the server bundle is never loaded once the server holds the credentials', async () => {
    // The server as the action ships it, in a folder the later step can write (as it can the action's).
    const copy = join(mkdtempSync(join(tmpdir(), 'nca-bundle-')), 'server')
    cpSync(join(REPO_ROOT, 'cache', 'dist', 'server'), copy, { recursive: true })
    const leak = join(dirname(copy), 'leaked-token')
    seedEntry('7500001', 'entry 7500001')
    const main = await runAction({
      ...pushMain,
      entry: MAIN,
      env: { RUNNER_OS: 'Linux', ...svc.env(), NCA_CACHE_SERVER_ENTRY: join(copy, 'index.js') }
    })
    try {
      expect(main.status).toBe(0)
      expect(main.state['nca-started']).toBe('true')
      // The later step: every chunk now sends the server's runtime token out (here: to a file).
      const chunks = readdirSync(copy).filter(f => /^\d+\.index\.js$/.test(f))
      expect(chunks.length).toBeGreaterThan(0)
      for (const f of chunks) {
        writeFileSync(
          join(copy, f),
          `import { writeFileSync } from 'node:fs'\nwriteFileSync(${JSON.stringify(leak)}, String(process.env.ACTIONS_RUNTIME_TOKEN))\nexport const id = 0, ids = [], modules = {}\n`
        )
      }
      // A restore, as Nx's first GET of a task hash in the Actions cache asks for it.
      const res = await getEntry(main, '7500001')
      expect(res.status).toBe(200)
      expect(await res.text()).toBe('entry 7500001')
      expect(existsSync(leak)).toBe(false)
    } finally {
      stopServer(main)
    }
  })

  onLinux('2. the server runs with a hard core-size limit of 0, which a later step cannot raise', async () => {
    const main = await runAction({ ...pushMain, entry: MAIN, env: { RUNNER_OS: 'Linux', ...svc.env() } })
    try {
      expect(main.status).toBe(0)
      const pid = Number(main.state['nca-pid'])
      const limits = readFileSync(`/proc/${pid}/limits`, 'utf8')
      const core = /^Max core file size\s+(\S+)\s+(\S+)/m.exec(limits)
      expect(core?.slice(1)).toEqual(['0', '0'])
      // It is still the server (post finds it by its command line).
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain(join('server', 'index.js'))
    } finally {
      stopServer(main)
    }
  })

  it('3. a restored entry over max-entry-size is a miss, and nothing of it is kept', async () => {
    seedEntry('7500003', Buffer.alloc(64 * 1024, 7))
    seedEntry('7500004', Buffer.alloc(1024, 7))
    const main = await runAction({
      ...pushMain,
      entry: MAIN,
      inputs: { 'max-entry-size': '16K' },
      env: { RUNNER_OS: 'Linux', ...svc.env() }
    })
    try {
      expect(main.status).toBe(0)
      expect((await getEntry(main, '7500003')).status).toBe(404)
      const stage = main.state['nca-stage']
      expect(readdirSync(join(stage, 'nx-cache')).filter(f => f.includes('7500003'))).toEqual([])
      // One within the limit is restored as before.
      const ok = await getEntry(main, '7500004')
      expect(ok.status).toBe(200)
      expect(Buffer.from(await ok.arrayBuffer()).length).toBe(1024)
    } finally {
      stopServer(main)
    }
  })

  it("4. post saves only files in the staging folder's entries, whatever a later step writes in the server's report", async () => {
    const main = await runAction({ ...pushMain, entry: MAIN, env: { RUNNER_OS: 'Linux', ...svc.env() } })
    expect(main.status).toBe(0)
    const stage = main.state['nca-stage']
    const put = await fetch(`${main.env.NX_SELF_HOSTED_REMOTE_CACHE_SERVER}/v1/cache/7500005`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${main.env.NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN}` },
      body: 'entry 7500005'
    })
    expect(put.status).toBe(200)
    // The later step: a secret beside the staging folder, the server stopped, and its report rewritten.
    const secret = join(dirname(stage), `nca-secret-${process.pid}`)
    writeFileSync(secret, 'the deploy key')
    const pid = Number(main.state['nca-pid'])
    process.kill(pid, 'SIGKILL')
    await waitGone(pid)
    const names = ['7500005', `../../${secret.split('/').pop()}`, `../${secret.split('/').pop()}`, secret, 'nx-cache/../../x']
    writeFileSync(join(stage, 'stats.json'), JSON.stringify({ stats: {}, uploads: names }))
    writeFileSync(join(stage, 'uploads.txt'), names.join('\n'))
    const creates = svc.requests.filter(r => r.call === 'CreateCacheEntry').length
    const post = await runAction({ ...pushMain, entry: POST, env: { RUNNER_OS: 'Linux', ...svc.env() }, state: main.state })
    expect(post.status).toBe(0)
    const created = svc.requests.filter(r => r.call === 'CreateCacheEntry').slice(creates)
    // One pack, holding the one real entry and nothing else.
    expect(created).toHaveLength(1)
    expect(members(svc.entry(created[0].key!)!.blob!)).toEqual(['nx-cache-pack/', 'nx-cache-pack/7500005', 'nx-cache-pack/index.json'])
    expect(post.summary).toContain('1 pack(s)')
    expect(post.outputs.saved).toBe('1')
  })
})
