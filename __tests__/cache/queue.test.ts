// The save queue: caps, sizes, a 429 that stops it with one warning, a refused write that stops
// it with a notice, failures in a row, saves in flight at once, the deadline — and how one save's
// error is classified.

import { describe, expect, it } from '@jest/globals'
import { type SaveOutcome, classifySaveError } from '../../src/cache/adapter/actions-cache.js'
import { type QueueEntry, saveQueue } from '../../src/cache/post/queue.js'

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

describe('saveQueue with saves in flight at once', () => {
  /** A save that ends after `ms` with `outcome`, recording when each started and how many ran at once. */
  function timed(plan: Record<string, { ms: number; outcome?: SaveOutcome }>, defaultMs = 30) {
    const started: string[] = []
    let inFlight = 0
    let maxInFlight = 0
    return {
      started,
      maxInFlight: () => maxInFlight,
      save: async (hash: string): Promise<SaveOutcome> => {
        started.push(hash)
        inFlight++
        maxInFlight = Math.max(maxInFlight, inFlight)
        const p = plan[hash] ?? { ms: defaultMs }
        // Unref'd: the deadline test leaves saves that hang for 5 s, which must not keep Jest alive after the run.
        await new Promise(r => setTimeout(r, p.ms).unref())
        inFlight--
        return p.outcome ?? { kind: 'saved' }
      }
    }
  }

  it('keeps at most `concurrency` saves in flight and saves every entry', async () => {
    const t = timed({})
    const r = recorder()
    const res = await saveQueue(entries(20, 5), t.save, { ...r.opts(), concurrency: 4 })
    expect(res).toMatchObject({ saved: 20, savedBytes: 100, failed: 0, notTried: 0, stoppedBy: null })
    expect(t.maxInFlight()).toBe(4)
  })

  it('a 429 in one save stops every worker: none starts after it, one warning with the count not saved', async () => {
    // h1 is rate-limited quickly while h0, h2, h3 are still saving; h4… must never start.
    const t = timed({ h1: { ms: 10, outcome: { kind: 'rate-limited', message: 'Failed request: (429) Too Many Requests' } } }, 80)
    const r = recorder()
    const res = await saveQueue(entries(12), t.save, { ...r.opts(), concurrency: 4 })
    expect(t.started).toEqual(['h0', 'h1', 'h2', 'h3'])
    // The saves in flight end and count; the rest is not saved.
    expect(res).toMatchObject({ saved: 3, failed: 1, notTried: 8, stoppedBy: 'rate-limit' })
    expect(r.log.warnings).toHaveLength(1)
    expect(r.log.warnings[0]).toContain('429')
    expect(r.log.warnings[0]).toContain('9 entries not saved')
  })

  it('two workers rate-limited at once still warn once', async () => {
    const rl: SaveOutcome = { kind: 'rate-limited', message: '(429)' }
    const t = timed({ h0: { ms: 20, outcome: rl }, h1: { ms: 20, outcome: rl } })
    const r = recorder()
    const res = await saveQueue(entries(6), t.save, { ...r.opts(), concurrency: 2 })
    expect(res).toMatchObject({ saved: 0, failed: 2, notTried: 4, stoppedBy: 'rate-limit' })
    expect(r.log.warnings).toHaveLength(1)
    expect(r.log.warnings[0]).toContain('6 entries not saved')
  })

  it('returns by the deadline even with saves that hang, and reports what was not saved', async () => {
    const t = timed({ h0: { ms: 10 }, h1: { ms: 5_000 }, h2: { ms: 5_000 } }, 5_000)
    const r = recorder()
    const t0 = Date.now()
    const res = await saveQueue(entries(10), t.save, { ...r.opts(), concurrency: 3, deadline: t0 + 300, timeLimitMs: 300 })
    const took = Date.now() - t0
    expect(took).toBeGreaterThanOrEqual(250)
    expect(took).toBeLessThan(2000)
    expect(res).toMatchObject({ saved: 1, notTried: 9, stoppedBy: 'deadline' })
    expect(r.log.warnings).toHaveLength(1)
    expect(r.log.warnings[0]).toContain('time limit')
    expect(r.log.warnings[0]).toContain('9 entries not saved')
  })
})

describe("classifySaveError (what one save's own calls threw or answered)", () => {
  it("a 429 from CreateCacheEntry (the Twirp client's RateLimitError, wrapped)", () => {
    expect(classifySaveError('Failed to CreateCacheEntry: Rate limited: Failed request: (429) Too Many Requests').kind).toBe('rate-limited')
  })

  it('a write denied by the service (a read-only cache token)', () => {
    expect(classifySaveError('cache write denied: the token is read-only')).toMatchObject({ kind: 'denied' })
  })

  it('ACTIONS_CACHE_MODE that does not permit writes', () => {
    expect(classifySaveError("the effective cache-mode 'read' does not permit writes").kind).toBe('denied')
  })

  it('an existing entry (409)', () => {
    const m =
      'Failed to CreateCacheEntry: Received non-retryable error: Failed request: (409) Conflict: cache entry with the same key, version, and scope already exists'
    expect(classifySaveError(m).kind).toBe('exists')
  })

  it('a service that keeps failing is a failure, not an existing entry', () => {
    expect(
      classifySaveError('Failed to CreateCacheEntry: Failed to make request after 5 attempts: Failed request: (503) Service Unavailable')
        .kind
    ).toBe('failed')
  })

  it('anything else is a failure with its message', () => {
    expect(classifySaveError('uploadCacheArchiveSDK: upload failed with status code 400')).toEqual({
      kind: 'failed',
      message: 'uploadCacheArchiveSDK: upload failed with status code 400'
    })
  })
})

describe('the queue and Retry-After', () => {
  const notes = (): { warnings: string[]; opts: { warning(m: string): void; notice(m: string): void; info(m: string): void } } => {
    const warnings: string[] = []
    return { warnings, opts: { warning: m => warnings.push(m), notice: m => warnings.push(m), info: () => undefined } }
  }

  it('waits out a 429 with Retry-After and saves every entry, the limited one included', async () => {
    const tried: string[] = []
    const { warnings, opts } = notes()
    const r = await saveQueue(
      entries(4),
      async hash => {
        tried.push(hash)
        return hash === 'h1' && tried.filter(h => h === 'h1').length === 1
          ? { kind: 'rate-limited', message: '429', retryAfter: 1 }
          : { kind: 'saved' }
      },
      { maxEntries: 10, maxEntrySize: 100, concurrency: 2, deadline: Date.now() + 60_000, ...opts }
    )
    expect(r).toMatchObject({ saved: 4, failed: 0, notTried: 0, retried: 1, stoppedBy: null })
    expect(tried.filter(h => h === 'h1')).toHaveLength(2)
    expect(warnings).toEqual([])
  })

  it('stops as before when the Retry-After would outlast the deadline', async () => {
    const { warnings, opts } = notes()
    const r = await saveQueue(entries(3), async () => ({ kind: 'rate-limited', message: '429', retryAfter: 3600 }), {
      maxEntries: 10,
      maxEntrySize: 100,
      deadline: Date.now() + 60_000,
      ...opts
    })
    expect(r).toMatchObject({ saved: 0, stoppedBy: 'rate-limit', retried: 0 })
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('3 entries not saved')
  })
})
