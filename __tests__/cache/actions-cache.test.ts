// Entries through the real @actions/cache 6 against the loopback stand-in of the cache service:
// what one staging folder saves, another (a fresh runner, another RUNNER_TEMP) restores; and
// each way a save can be refused is told apart.

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  ENTRY_DIR,
  UnsafeEntryError,
  classifySaveError,
  enterStage,
  entryKey,
  restoreEntry,
  saveEntry
} from '../../src/cache/adapter/actions-cache.js'
import { type ActionsCacheService, startActionsCacheService } from '../helpers/actions-cache-service.js'
import { entryArchive, entryVersion } from '../helpers/entry-archive.js'

let svc: ActionsCacheService
const cwd = process.cwd()
const savedEnv = { ...process.env }
const write = process.stdout.write.bind(process.stdout)

beforeAll(async () => {
  svc = await startActionsCacheService()
  Object.assign(process.env, svc.env())
  // The library's log lines (hundreds of ::debug::) are not this test's subject.
  process.stdout.write = (() => true) as typeof process.stdout.write
})
afterAll(async () => {
  process.stdout.write = write
  process.chdir(cwd)
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k]
  Object.assign(process.env, savedEnv)
  await svc.close()
})

/** A runner's staging folder, as the server and post use it: its own RUNNER_TEMP. */
function freshStage(): string {
  const runnerTemp = mkdtempSync(join(tmpdir(), 'nca-runner-'))
  process.env.RUNNER_TEMP = runnerTemp
  const stage = join(runnerTemp, 'nx-cloud-access-cache')
  mkdirSync(join(stage, ENTRY_DIR), { recursive: true })
  enterStage(stage)
  return stage
}

describe('saveEntry and restoreEntry with @actions/cache', () => {
  it('restores on a fresh runner, byte for byte, what another runner saved', async () => {
    const a = freshStage()
    const bytes = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) % 256))
    writeFileSync(join(a, ENTRY_DIR, '8877'), bytes)
    expect(await saveEntry('8877', 'Linux')).toEqual({ kind: 'saved' })
    expect(svc.entry(entryKey('8877', 'Linux'))?.finalized).toBe(true)

    const b = freshStage()
    expect(b).not.toBe(a)
    const restored = await restoreEntry(b, '8877', 'Linux', 1024 * 1024)
    expect(restored).toEqual(bytes)
  })

  it('misses a hash that was never saved, and one saved on another OS', async () => {
    const a = freshStage()
    writeFileSync(join(a, ENTRY_DIR, '5555'), 'x')
    expect((await saveEntry('5555', 'Linux')).kind).toBe('saved')
    const b = freshStage()
    expect(await restoreEntry(b, '4444', 'Linux', 1024 * 1024)).toBeNull()
    expect(await restoreEntry(b, '5555', 'Windows', 1024 * 1024)).toBeNull()
  })

  it('does not take an entry whose key only starts with the hash', async () => {
    const a = freshStage()
    writeFileSync(join(a, ENTRY_DIR, '12345'), 'longer hash')
    expect((await saveEntry('12345', 'Linux')).kind).toBe('saved')
    // The real service matches the version (a hash of the path, so of the hash) exactly, and so
    // never hands 12345 to 1234; restoreEntry's own exact-key check must hold without it too.
    expect(await restoreEntry(freshStage(), '1234', 'Linux', 1024 * 1024)).toBeNull()
    svc.ignoreVersion = true
    try {
      expect(await restoreEntry(freshStage(), '1234', 'Linux', 1024 * 1024)).toBeNull()
    } finally {
      svc.ignoreVersion = false
    }
  })

  it('tells an existing entry from a saved one', async () => {
    const a = freshStage()
    writeFileSync(join(a, ENTRY_DIR, '6000'), 'one')
    expect((await saveEntry('6000', 'Linux')).kind).toBe('saved')
    expect((await saveEntry('6000', 'Linux')).kind).toBe('exists')
  })

  it('calls a reservation refused for another reason a failure, not an existing entry', async () => {
    // @actions/cache prints "another job may be creating this cache" for every failed reservation.
    const a = freshStage()
    writeFileSync(join(a, ENTRY_DIR, '6100'), 'x')
    svc.failReservations = 'the cache storage quota of this repository is exceeded'
    try {
      expect((await saveEntry('6100', 'Linux')).kind).toBe('failed')
    } finally {
      svc.failReservations = null
    }
    expect(classifySaveError('Unable to reserve cache with key k, another job may be creating this cache.').kind).toBe('failed')
    expect(
      classifySaveError(
        'Failed to CreateCacheEntry: Received non-retryable error: Failed request: (409) Conflict: cache entry with the same key, version, and scope already exists'
      ).kind
    ).toBe('exists')
  })

  it('tells a 429 apart (the library only mentions it in a debug line)', async () => {
    const a = freshStage()
    writeFileSync(join(a, ENTRY_DIR, '7000'), 'seven')
    svc.rateLimitAfter = 0
    try {
      const outcome = await saveEntry('7000', 'Linux')
      expect(outcome.kind).toBe('rate-limited')
    } finally {
      svc.rateLimitAfter = Infinity
    }
    expect(svc.entry(entryKey('7000', 'Linux')) !== undefined).toBe(false)
  })

  it("reads a 429's Retry-After from the service's own answer (the library only prints it)", async () => {
    const a = freshStage()
    writeFileSync(join(a, ENTRY_DIR, '7001'), 'seven')
    svc.createsPerWindow = 0
    try {
      expect(await saveEntry('7001', 'Linux')).toMatchObject({ kind: 'rate-limited', retryAfter: 60 })
    } finally {
      svc.createsPerWindow = 200
    }
    // Without one (a hard stop), none is made up.
    svc.rateLimitAfter = 0
    try {
      const outcome = await saveEntry('7001', 'Linux')
      expect(outcome.kind).toBe('rate-limited')
      expect('retryAfter' in outcome).toBe(false)
    } finally {
      svc.rateLimitAfter = Infinity
    }
  })

  it('tells a write the service refuses (a read-only cache token) apart', async () => {
    const a = freshStage()
    writeFileSync(join(a, ENTRY_DIR, '7100'), 'x')
    svc.denyWrites = true
    try {
      expect((await saveEntry('7100', 'Linux')).kind).toBe('denied')
    } finally {
      svc.denyWrites = false
    }
  })

  it('classifies overlapping saves each on its own: saved, existing, 429, refused write, failure at once', async () => {
    const a = freshStage()
    const hashes = ['7301', '7302', '7303', '7304', '7305', '7306']
    for (const h of hashes) writeFileSync(join(a, ENTRY_DIR, h), `entry ${h}`)
    expect((await saveEntry('7302', 'Linux')).kind).toBe('saved')
    svc.keyFaults.set(entryKey('7303', 'Linux'), 'rate-limit')
    svc.keyFaults.set(entryKey('7304', 'Linux'), 'deny')
    svc.keyFaults.set(entryKey('7305', 'Linux'), 'fail')
    svc.latencyMs = 150
    svc.maxInFlight = 0
    try {
      const outcomes = await Promise.all(hashes.map(h => saveEntry(h, 'Linux')))
      expect(outcomes.map(o => o.kind)).toEqual(['saved', 'exists', 'rate-limited', 'denied', 'failed', 'saved'])
      expect(outcomes[2].kind === 'rate-limited' && outcomes[2].message).toContain('429')
      expect(outcomes[4].kind === 'failed' && outcomes[4].message).toContain('could not reserve this entry')
      // They did overlap at the service.
      expect(svc.maxInFlight).toBeGreaterThanOrEqual(4)
    } finally {
      svc.latencyMs = 0
      svc.keyFaults.clear()
    }
    expect(svc.entry(entryKey('7306', 'Linux'))?.finalized).toBe(true)
  })

  it('is refused by ACTIONS_CACHE_MODE read without a request', async () => {
    const a = freshStage()
    writeFileSync(join(a, ENTRY_DIR, '7200'), 'x')
    const before = svc.requests.length
    process.env.ACTIONS_CACHE_MODE = 'read'
    try {
      expect((await saveEntry('7200', 'Linux')).kind).toBe('denied')
    } finally {
      delete process.env.ACTIONS_CACHE_MODE
    }
    expect(svc.requests.length).toBe(before)
  })
})

describe('restoreEntry takes only the layout the kit saves (never `tar -P` on what a tampered entry holds)', () => {
  /** A folder with `nx-cache/<hash>` in it, as a job's stage would have it. */
  function source(hash: string, content = `entry ${hash}`): string {
    const dir = mkdtempSync(join(tmpdir(), 'nca-src-'))
    mkdirSync(join(dir, ENTRY_DIR))
    writeFileSync(join(dir, ENTRY_DIR, hash), content)
    return dir
  }

  /** What of RUNNER_TEMP is left besides the stage: a downloaded archive would be. */
  function leftovers(stage: string): string[] {
    const runnerTemp = join(stage, '..')
    return readdirSync(runnerTemp, { recursive: true, encoding: 'utf8' }).filter(p => !p.startsWith('nx-cloud-access-cache'))
  }

  async function expectRejected(stage: string, hash: string, why: RegExp): Promise<void> {
    const err = await restoreEntry(stage, hash, 'Linux', 1024 * 1024).then(
      () => null,
      (e: unknown) => e
    )
    expect(err).toBeInstanceOf(UnsafeEntryError)
    expect((err as UnsafeEntryError).key).toBe(entryKey(hash, 'Linux'))
    expect((err as UnsafeEntryError).message).toMatch(why)
    expect(readdirSync(join(stage, ENTRY_DIR))).toEqual([])
    expect(leftovers(stage)).toEqual([])
  }

  it('an entry whose archive gains an absolute-path member is refused, and that file is not written', async () => {
    const src = source('8101')
    const outside = mkdtempSync(join(tmpdir(), 'nca-outside-'))
    writeFileSync(join(outside, 'pwned'), 'written by a tampered cache entry')
    svc.seed(entryKey('8101', 'Linux'), entryVersion('8101'), entryArchive(src, ['nx-cache/8101', join(outside, 'pwned')]))
    rmSync(join(outside, 'pwned'))
    const stage = freshStage()
    await expectRejected(stage, '8101', /an absolute path/)
    expect(existsSync(join(outside, 'pwned'))).toBe(false)
  })

  it('an entry with a member climbing out with ../ is refused, and that file is not written', async () => {
    const src = source('8102')
    const name = `nca-escape-${process.pid}-${Date.now()}`
    writeFileSync(join(src, '..', name), 'written beside the stage')
    svc.seed(entryKey('8102', 'Linux'), entryVersion('8102'), entryArchive(src, ['nx-cache/8102', `../${name}`]))
    const stage = freshStage()
    await expectRejected(stage, '8102', /climbs out with \.\./)
    // `tar -P -C <stage>` would have written it beside the stage, in RUNNER_TEMP.
    expect(existsSync(join(stage, '..', name))).toBe(false)
  })

  it('an entry whose nx-cache/<hash> is a symlink is refused', async () => {
    const src = mkdtempSync(join(tmpdir(), 'nca-src-'))
    mkdirSync(join(src, ENTRY_DIR))
    symlinkSync('/etc/hostname', join(src, ENTRY_DIR, '8103'))
    svc.seed(entryKey('8103', 'Linux'), entryVersion('8103'), entryArchive(src, ['nx-cache/8103']))
    const stage = freshStage()
    await expectRejected(stage, '8103', /symlink, not a regular file/)
  })

  it('an entry holding another file besides its own is refused', async () => {
    const src = source('8104')
    writeFileSync(join(src, ENTRY_DIR, 'other'), 'x')
    svc.seed(entryKey('8104', 'Linux'), entryVersion('8104'), entryArchive(src, ['nx-cache/8104', 'nx-cache/other']))
    await expectRejected(freshStage(), '8104', /"nx-cache\/other", not only nx-cache\/8104/)
  })

  it('a clean entry made the same way (and one with its folder entry) still restores, leaving no archive behind', async () => {
    const src = source('8105', 'clean bytes')
    svc.seed(entryKey('8105', 'Linux'), entryVersion('8105'), entryArchive(src, ['nx-cache/8105']))
    const stage = freshStage()
    expect((await restoreEntry(stage, '8105', 'Linux', 1024 * 1024))?.toString()).toBe('clean bytes')
    expect(readdirSync(join(stage, ENTRY_DIR))).toEqual(['8105'])
    expect(leftovers(stage)).toEqual([])

    const withDir = source('8106', 'with its folder')
    svc.seed(entryKey('8106', 'Linux'), entryVersion('8106'), entryArchive(withDir, ['--no-recursion', 'nx-cache', 'nx-cache/8106']))
    expect((await restoreEntry(freshStage(), '8106', 'Linux', 1024 * 1024))?.toString()).toBe('with its folder')
  })
})
