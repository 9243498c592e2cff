// The save queue: caps, sizes, a 429 that stops it with one warning, a refused write that stops
// it with a notice, failures in a row — and how @actions/cache's printed output is classified.

import { describe, expect, it } from '@jest/globals'
import { classifySaveOutput } from '../../src/cache/actions-store.js'
import { type QueueEntry, type SaveOutcome, saveQueue } from '../../src/cache/post/queue.js'

function entries(n: number, size = 10): QueueEntry[] {
  return Array.from({ length: n }, (_, i) => ({ hash: `h${i}`, size }))
}

function recorder(outcomes: Record<string, SaveOutcome> = {}) {
  const tried: string[] = []
  const log = { warnings: [] as string[], notices: [] as string[], infos: [] as string[] }
  return {
    tried,
    log,
    save: async (hash: string): Promise<SaveOutcome> => {
      tried.push(hash)
      return outcomes[hash] ?? { kind: 'saved' }
    },
    opts: (maxEntries = 100, maxEntrySize = 1000) => ({
      maxEntries,
      maxEntrySize,
      warning: (m: string) => log.warnings.push(m),
      notice: (m: string) => log.notices.push(m),
      info: (m: string) => log.infos.push(m)
    })
  }
}

describe('saveQueue', () => {
  it('saves every entry in order and counts bytes', async () => {
    const r = recorder()
    const res = await saveQueue(entries(3, 7), r.save, r.opts())
    expect(r.tried).toEqual(['h0', 'h1', 'h2'])
    expect(res).toMatchObject({ saved: 3, savedBytes: 21, failed: 0, notTried: 0, stoppedBy: null })
    expect(r.log.warnings).toEqual([])
  })

  it('saves at most max-entries', async () => {
    const r = recorder()
    const res = await saveQueue(entries(5), r.save, r.opts(2))
    expect(r.tried).toEqual(['h0', 'h1'])
    expect(res).toMatchObject({ saved: 2, skippedOverCap: 3 })
  })

  it('skips entries over max-entry-size, and they do not count against max-entries', async () => {
    const r = recorder()
    const list = [
      { hash: 'big', size: 1001 },
      { hash: 'a', size: 1000 },
      { hash: 'b', size: 1 }
    ]
    const res = await saveQueue(list, r.save, r.opts(2, 1000))
    expect(r.tried).toEqual(['a', 'b'])
    expect(res).toMatchObject({ saved: 2, skippedTooLarge: 1, skippedOverCap: 0 })
  })

  it('stops at the first 429 and warns once with the count not saved', async () => {
    const r = recorder({ h2: { kind: 'rate-limited', message: 'Failed request: (429) Too Many Requests' } })
    const res = await saveQueue(entries(6), r.save, r.opts())
    expect(r.tried).toEqual(['h0', 'h1', 'h2'])
    expect(res).toMatchObject({ saved: 2, failed: 1, notTried: 3, stoppedBy: 'rate-limit' })
    expect(r.log.warnings).toHaveLength(1)
    expect(r.log.warnings[0]).toContain('429')
    expect(r.log.warnings[0]).toContain('4 entries not saved')
  })

  it('stops on a refused write (read-only cache token) with a notice, not a warning', async () => {
    const r = recorder({ h0: { kind: 'denied', message: 'cache write denied: read-only token' } })
    const res = await saveQueue(entries(4), r.save, r.opts())
    expect(r.tried).toEqual(['h0'])
    expect(res).toMatchObject({ saved: 0, notTried: 3, stoppedBy: 'denied' })
    expect(r.log.warnings).toEqual([])
    expect(r.log.notices).toHaveLength(1)
    expect(r.log.notices[0]).toContain('4 entries not saved')
  })

  it('counts an entry another job saved as existing and goes on', async () => {
    const r = recorder({ h1: { kind: 'exists', message: 'already exists' } })
    const res = await saveQueue(entries(3), r.save, r.opts())
    expect(r.tried).toEqual(['h0', 'h1', 'h2'])
    expect(res).toMatchObject({ saved: 2, existed: 1, failed: 0, stoppedBy: null })
  })

  it('goes on after a single failure, and gives up after three in a row', async () => {
    const fail: SaveOutcome = { kind: 'failed', message: 'boom' }
    const r = recorder({ h0: fail, h2: fail, h3: fail, h4: fail })
    const res = await saveQueue(entries(8), r.save, r.opts())
    expect(r.tried).toEqual(['h0', 'h1', 'h2', 'h3', 'h4'])
    expect(res).toMatchObject({ saved: 1, failed: 4, notTried: 3, stoppedBy: 'failures' })
    expect(r.log.warnings).toHaveLength(1)
    expect(r.log.warnings[0]).toContain('7 entries not saved')
  })

  it('turns a save that throws into a failure instead of throwing', async () => {
    const res = await saveQueue(
      entries(1),
      async () => {
        throw new Error('tar exploded')
      },
      recorder().opts()
    )
    expect(res).toMatchObject({ saved: 0, failed: 1 })
  })
})

describe('classifySaveOutput (what @actions/cache 6 prints when saveCache returns -1)', () => {
  it('a 429 from CreateCacheEntry, seen only in a debug line', () => {
    const out = [
      '::debug::Reserving Cache',
      '::debug::Failed to reserve cache: Error: Failed to CreateCacheEntry: Rate limited: Failed request: (429) Too Many Requests',
      'Failed to save: Unable to reserve cache with key nx-cloud-access-v1-Linux-1, another job may be creating this cache.'
    ].join('\n')
    expect(classifySaveOutput(out).kind).toBe('rate-limited')
  })

  it('a write denied by the service (a read-only cache token)', () => {
    const out =
      '::warning::Failed to save: Unable to reserve cache with key k. More details: cache write denied: the token is read-only'
    expect(classifySaveOutput(out)).toMatchObject({ kind: 'denied' })
  })

  it('ACTIONS_CACHE_MODE that does not permit writes', () => {
    expect(classifySaveOutput("Cache save skipped: the effective cache-mode 'read' does not permit writes.").kind).toBe('denied')
  })

  it('an existing entry (409)', () => {
    const out = [
      '::debug::Failed to reserve cache: Error: Failed to CreateCacheEntry: Received non-retryable error: Failed request: (409) Conflict: cache entry with the same key, version, and scope already exists',
      'Failed to save: Unable to reserve cache with key k, another job may be creating this cache.'
    ].join('\n')
    expect(classifySaveOutput(out).kind).toBe('exists')
  })

  it('a service that keeps failing is a failure, not an existing entry', () => {
    const out = [
      '::debug::Failed to reserve cache: Error: Failed to CreateCacheEntry: Failed to make request after 5 attempts: Failed request: (503) Service Unavailable',
      'Failed to save: Unable to reserve cache with key k, another job may be creating this cache.'
    ].join('\n')
    expect(classifySaveOutput(out).kind).toBe('failed')
  })

  it('anything else is a failure with the line that says so', () => {
    const out = '::warning::Failed to save: uploadCacheArchiveSDK: upload failed with status code 400'
    expect(classifySaveOutput(out)).toEqual({ kind: 'failed', message: 'Failed to save: uploadCacheArchiveSDK: upload failed with status code 400' })
  })
})
