// The entry store without HTTP: reservations, the cap, aborts, and the half-written-file rule,
// with a fake source that writes into the entries folder as the Actions cache source does.

import { describe, expect, it } from '@jest/globals'
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type EntrySource, EntryStore, type Refusal, type Reservation, type StoreOptions, isRefusal } from '../../src/cache/server/store.js'
import { readUploadsFile } from '../../src/cache/state.js'

function store(opts: Partial<StoreOptions> = {}): { store: EntryStore; dir: string; uploadsFile: string } {
  const root = mkdtempSync(join(tmpdir(), 'nca-store-'))
  const dir = join(root, 'entries')
  const uploadsFile = join(root, 'uploads.txt')
  const s = new EntryStore({
    write: true,
    entriesDir: dir,
    uploadsFile,
    maxEntries: 100,
    maxEntrySize: 1024,
    source: { restore: async () => null },
    ...opts
  })
  return { store: s, dir, uploadsFile }
}

function reserved(r: Reservation | Refusal): Reservation {
  if (isRefusal(r)) throw new Error(`refused: ${r.refused}`)
  return r
}

function refusal(r: Reservation | Refusal): string {
  return isRefusal(r) ? r.refused : 'reserved'
}

/** Files in the entries folder that are not entries: upload temporaries. */
const temporaries = (dir: string): string[] => readdirSync(dir).filter(f => f.endsWith('.part'))

describe('EntryStore reservations', () => {
  it('refuses a second reservation of a hash while the first is still streaming, and after it is kept', async () => {
    const { store: s } = store()
    const first = reserved(s.reserve('1'))
    first.write(Buffer.from('first'))
    expect(refusal(s.reserve('1'))).toBe('exists')
    first.commit()
    expect(await first.settled).toEqual({ stored: 5 })
    expect(refusal(s.reserve('1'))).toBe('exists')
    expect(s.stats.conflicts).toBe(2)
    expect(s.uploads).toEqual(['1'])
  })

  it('counts uploads still streaming against max-entries', async () => {
    const { store: s } = store({ maxEntries: 2 })
    const a = reserved(s.reserve('a'))
    const b = reserved(s.reserve('b'))
    // Neither is committed yet: both places are taken all the same.
    expect(refusal(s.reserve('c'))).toBe('over-cap')
    expect(s.stats.overCap).toBe(1)
    a.commit()
    b.commit()
    await Promise.all([a.settled, b.settled])
    expect(refusal(s.reserve('d'))).toBe('over-cap')
    // In the order they finished writing, which the two streams race for: a set, as post reads it.
    expect([...s.uploads].sort()).toEqual(['a', 'b'])
  })

  it('frees the place and removes the temporary file of an aborted upload', async () => {
    const { store: s, dir, uploadsFile } = store({ maxEntries: 1 })
    const r = reserved(s.reserve('7'))
    r.write(Buffer.from('part of it'))
    // The temporary file is opened asynchronously: wait (bounded) until it exists.
    for (let i = 0; i < 500 && temporaries(dir).length === 0; i++) await new Promise(resolve => setTimeout(resolve, 10))
    expect(temporaries(dir)).toHaveLength(1)
    r.abort('The upload broke off: socket hang up')
    expect(await r.settled).toEqual({ failed: 'store-error', message: 'The upload broke off: socket hang up' })
    expect(temporaries(dir)).toEqual([])
    expect(existsSync(join(dir, '7'))).toBe(false)
    expect(s.stats.storeErrors).toBe(1)
    // Its place under max-entries and its hash are free again.
    const again = reserved(s.reserve('7'))
    again.write(Buffer.from('whole'))
    again.commit()
    expect(await again.settled).toEqual({ stored: 5 })
    expect(readFileSync(join(dir, '7'), 'utf8')).toBe('whole')
    expect(readUploadsFile(uploadsFile)).toEqual(['7'])
  })

  it('fails an upload that streams past max-entry-size, removes its temporary file and frees its place', async () => {
    const { store: s, dir } = store({ maxEntries: 1, maxEntrySize: 8 })
    const r = reserved(s.reserve('9'))
    r.write(Buffer.from('12345'))
    r.write(Buffer.from('6789'))
    r.commit()
    expect(await r.settled).toMatchObject({ failed: 'too-large' })
    expect(temporaries(dir)).toEqual([])
    expect(existsSync(join(dir, '9'))).toBe(false)
    expect(s.stats.tooLarge).toBe(1)
    expect(refusal(s.reserve('10'))).toBe('reserved')
  })

  it('refuses, in this order: read-only, existing, being restored, declared too large, over the cap', () => {
    expect(refusal(store({ write: false }).store.reserve('1', 1))).toBe('read-only')
    const { store: s } = store({ maxEntries: 1, maxEntrySize: 10 })
    expect(refusal(s.reserve('big', 11))).toBe('too-large')
    expect(refusal(s.reserve('fits', 10))).toBe('reserved')
    expect(refusal(s.reserve('big', 11))).toBe('too-large')
    expect(refusal(s.reserve('other', 1))).toBe('over-cap')
  })
})

describe('EntryStore restores', () => {
  it('never serves the file of a restore in flight, nor reserves over it, until the restore settles', async () => {
    let release: () => void = () => undefined
    const gate = new Promise<void>(r => {
      release = r
    })
    let dir = ''
    const source: EntrySource = {
      restore: async hash => {
        writeFileSync(join(dir, hash), 'half')
        await gate
        writeFileSync(join(dir, hash), 'the whole entry')
        return Buffer.from('the whole entry')
      }
    }
    const made = store({ source })
    dir = made.dir
    const s = made.store
    const first = s.lookup('55')
    await new Promise(resolve => setTimeout(resolve, 10))
    expect(readFileSync(join(dir, '55'), 'utf8')).toBe('half')
    // A second lookup meanwhile waits for the restore rather than reading the half-written file.
    const second = s.lookup('55')
    expect(refusal(s.reserve('55'))).toBe('exists')
    release()
    expect((await first)?.toString()).toBe('the whole entry')
    expect((await second)?.toString()).toBe('the whole entry')
    expect(s.stats).toMatchObject({ hits: 2, misses: 0 })
  })

  it('refuses an upload of a hash being restored even before the source has written anything', async () => {
    let release: () => void = () => undefined
    const gate = new Promise<void>(r => {
      release = r
    })
    const { store: s } = store({ source: { restore: () => gate.then(() => null) } })
    const pending = s.lookup('56')
    expect(refusal(s.reserve('56'))).toBe('restoring')
    release()
    expect(await pending).toBeNull()
    expect(refusal(s.reserve('56'))).toBe('reserved')
  })

  it('removes the partial file of a failed restore, so it is neither served nor blocks an upload', async () => {
    let dir = ''
    let calls = 0
    const made = store({
      source: {
        restore: async hash => {
          calls++
          writeFileSync(join(dir, hash), 'half')
          throw new Error('the download broke off')
        }
      }
    })
    dir = made.dir
    const s = made.store
    expect(await s.lookup('66')).toBeNull()
    expect(existsSync(join(dir, '66'))).toBe(false)
    expect(s.stats).toMatchObject({ misses: 1, restoreErrors: 1 })
    // Not served from disk later either: the source is asked again.
    expect(await s.lookup('66')).toBeNull()
    expect(calls).toBe(2)
    expect(refusal(s.reserve('66'))).toBe('reserved')
  })

  it('answers a miss past the deadline and stops asking the source after maxRestoreTimeouts', async () => {
    const asked: string[] = []
    const { store: s } = store({
      restoreTimeoutMs: 20,
      maxRestoreTimeouts: 2,
      source: {
        restore: async hash => {
          asked.push(hash)
          await new Promise(r => setTimeout(r, 200))
          return Buffer.from('too late')
        }
      }
    })
    expect(await s.lookup('1')).toBeNull()
    expect(await s.lookup('2')).toBeNull()
    expect(await s.lookup('3')).toBeNull()
    expect(asked).toEqual(['1', '2'])
    expect(s.stats).toMatchObject({ misses: 3, restoreTimeouts: 2 })
  })
})
