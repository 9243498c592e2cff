// Entries through the real @actions/cache 6 against the loopback stand-in of the cache service:
// what one staging folder saves, another (a fresh runner, another RUNNER_TEMP) restores; and
// each way a save can be refused is told apart.

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ENTRY_DIR, classifySaveOutput, enterStage, entryKey, restoreEntry, saveEntry } from '../../src/cache/actions-store.js'
import { type ActionsCacheService, startActionsCacheService } from '../helpers/actions-cache-service.js'

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
    expect(svc.entries.get(entryKey('8877', 'Linux'))?.finalized).toBe(true)

    const b = freshStage()
    expect(b).not.toBe(a)
    const restored = await restoreEntry(b, '8877', 'Linux')
    expect(restored).toEqual(bytes)
  })

  it('misses a hash that was never saved, and one saved on another OS', async () => {
    const a = freshStage()
    writeFileSync(join(a, ENTRY_DIR, '5555'), 'x')
    expect((await saveEntry('5555', 'Linux')).kind).toBe('saved')
    const b = freshStage()
    expect(await restoreEntry(b, '4444', 'Linux')).toBeNull()
    expect(await restoreEntry(b, '5555', 'Windows')).toBeNull()
  })

  it('does not take an entry whose key only starts with the hash', async () => {
    const a = freshStage()
    writeFileSync(join(a, ENTRY_DIR, '12345'), 'longer hash')
    expect((await saveEntry('12345', 'Linux')).kind).toBe('saved')
    // The real service matches the version (a hash of the path, so of the hash) exactly, and so
    // never hands 12345 to 1234; restoreEntry's own exact-key check must hold without it too.
    expect(await restoreEntry(freshStage(), '1234', 'Linux')).toBeNull()
    svc.ignoreVersion = true
    try {
      expect(await restoreEntry(freshStage(), '1234', 'Linux')).toBeNull()
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
    expect(classifySaveOutput('Failed to save: Unable to reserve cache with key k, another job may be creating this cache.').kind).toBe('failed')
    expect(classifySaveOutput('::debug::Failed request: (409) Conflict: cache entry with the same key, version, and scope already exists').kind).toBe('exists')
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
    expect(svc.entries.has(entryKey('7000', 'Linux'))).toBe(false)
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
