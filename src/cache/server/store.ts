// The entries of one job, on disk: what the cache server serves and keeps. No HTTP here: the
// server (http.ts) maps what this store answers to status codes.
//
// One folder holds them all, one file per hash: uploads kept in this job and entries restored from
// the Actions cache. Two kinds of file in it are not entries:
// - a restore in flight: the Actions cache source unpacks straight into `<entriesDir>/<hash>`
//   (@actions/cache restores to the path the entry was saved from), so until the restore settles
//   that file may be half written. A restore that fails takes its partial file with it.
// - an upload in flight: it streams into a hidden temporary file, renamed to `<hash>` only once
//   whole. One that fails or is aborted removes its temporary file and frees its reservation.

import { appendFileSync, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { type ServerStats, emptyStats } from '../state.js'

/** Where entries come from when this job has not seen them: the Actions cache, in production. */
export interface EntrySource {
  /** The entry's bytes, or `null` on a miss. May throw: a failure is answered as a miss. */
  restore(hash: string): Promise<Buffer | null>
}

export interface StoreOptions {
  /** May uploads be kept for saving? `false`: every reservation is refused (read-only). */
  write: boolean
  /** Folder holding entries of this job: uploads and restored ones, one file per hash. */
  entriesDir: string
  /** One hash a line, appended on every accepted upload: what `post` saves. */
  uploadsFile: string
  /** Uploads kept at most, counting those still streaming; the ones beyond are refused. */
  maxEntries: number
  /** Bytes per upload at most; a larger one is refused. */
  maxEntrySize: number
  source: EntrySource
  /**
   * How long a lookup waits on the source before answering a miss (the restore goes on and lands on
   * disk for a later lookup). The Actions cache client retries a failing service for half a minute;
   * Nx should not wait that long per task. After `maxRestoreTimeouts` of them, the source is not
   * asked again: every lookup of an unknown entry is a miss at once.
   */
  restoreTimeoutMs?: number
  maxRestoreTimeouts?: number
  log?: (line: string) => void
}

/** Why an upload is not taken: before it starts (a refusal) or while it streams (a failure). */
export type RefusalKind = 'read-only' | 'exists' | 'restoring' | 'too-large' | 'over-cap'
export interface Refusal {
  refused: RefusalKind
  message: string
}
interface UploadFailure {
  failed: 'too-large' | 'store-error'
  message: string
}
export type UploadOutcome = { stored: number } | UploadFailure

/**
 * One upload admitted by `reserve`: it holds its hash and a place under max-entries until it
 * settles. `settled` resolves once: stored (with its size), or failed — over max-entry-size while
 * streaming, or not writable — in which case its temporary file is gone and its place is free.
 */
export interface Reservation {
  readonly hash: string
  /** Writes a chunk; `false` asks the sender to wait for `onDrain` (or for the upload to settle). */
  write(chunk: Buffer): boolean
  onDrain(resume: () => void): void
  /** The body is complete: make it an entry and record it for `post`. */
  commit(): void
  /** The body will not be complete (the sender broke off). */
  abort(reason: string): void
  readonly settled: Promise<UploadOutcome>
}

export class EntryStore {
  readonly stats: ServerStats = emptyStats()
  /** The hashes kept in this job, in order: what `post` saves. */
  readonly uploads: string[] = []
  /** Kept and still streaming alike: counting only finished uploads let parallel ones past the cap. */
  private readonly reserved = new Set<string>()
  private readonly restoring = new Map<string, Promise<Buffer | null>>()
  private readonly log: (line: string) => void
  private readonly restoreTimeoutMs: number
  private readonly maxRestoreTimeouts: number

  constructor(private readonly opts: StoreOptions) {
    this.log = opts.log ?? (() => undefined)
    this.restoreTimeoutMs = opts.restoreTimeoutMs ?? 20000
    this.maxRestoreTimeouts = opts.maxRestoreTimeouts ?? 3
    mkdirSync(opts.entriesDir, { recursive: true })
  }

  private path(hash: string): string {
    return join(this.opts.entriesDir, hash)
  }

  /** The half-written-file rule: while a restore is in flight, `<hash>` is not an entry yet. */
  private localEntry(hash: string): Buffer | null {
    if (this.restoring.has(hash) || !existsSync(this.path(hash))) return null
    try {
      return readFileSync(this.path(hash))
    } catch {
      return null
    }
  }

  /**
   * The entry's bytes, or `null` for a miss: from disk, else from the source within the deadline.
   * Never throws for a failing source: that is a miss.
   */
  async lookup(hash: string): Promise<Buffer | null> {
    let body = this.localEntry(hash)
    if (body === null && this.stats.restoreTimeouts < this.maxRestoreTimeouts) body = await this.restoreWithin(hash)
    if (body === null) {
      this.stats.misses++
      return null
    }
    this.stats.hits++
    this.stats.bytesServed += body.length
    return body
  }

  private async restoreWithin(hash: string): Promise<Buffer | null> {
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<'late'>(r => {
      timer = setTimeout(() => r('late'), this.restoreTimeoutMs)
    })
    try {
      const got = await Promise.race([this.restore(hash), late]).finally(() => clearTimeout(timer))
      if (got !== 'late') return got
      this.stats.restoreTimeouts++
      this.log(
        `restore of ${hash} took over ${this.restoreTimeoutMs} ms, answered as a miss` +
          (this.stats.restoreTimeouts >= this.maxRestoreTimeouts ? '; the Actions cache is not asked again in this job' : '')
      )
      return null
    } catch (e) {
      this.stats.restoreErrors++
      this.log(`restore of ${hash} failed, answered as a miss: ${e instanceof Error ? e.message : String(e)}`)
      return null
    }
  }

  /** One restore per hash at a time; a failed one removes what it left at `<hash>`. */
  private restore(hash: string): Promise<Buffer | null> {
    let p = this.restoring.get(hash)
    if (!p) {
      p = this.opts.source
        .restore(hash)
        .catch((e: unknown) => {
          if (!this.reserved.has(hash)) {
            try {
              rmSync(this.path(hash), { force: true })
            } catch {
              // Cannot be removed: later lookups still ask the source, as for any miss.
            }
          }
          throw e
        })
        .finally(() => this.restoring.delete(hash))
      this.restoring.set(hash, p)
    }
    return p
  }

  /**
   * Admits an upload of `hash` (of `declaredSize` bytes, if the sender said), or says why not. A
   * reservation holds the hash at once, so a second upload of it meanwhile is refused as existing.
   */
  reserve(hash: string, declaredSize?: number): Reservation | Refusal {
    const refuse = (refused: RefusalKind, counter: keyof ServerStats, message: string): Refusal => {
      this.stats[counter]++
      return { refused, message }
    }
    if (!this.opts.write) return refuse('read-only', 'refused', 'This run may not write to the cache (read-only).')
    if (this.reserved.has(hash) || existsSync(this.path(hash))) return refuse('exists', 'conflicts', 'The entry exists.')
    if (this.restoring.has(hash)) {
      // The entry is being restored from the Actions cache into the same file: it will exist.
      return refuse('restoring', 'conflicts', 'The entry is being restored from the Actions cache.')
    }
    if (declaredSize !== undefined && Number.isFinite(declaredSize) && declaredSize > this.opts.maxEntrySize) {
      return refuse('too-large', 'tooLarge', this.tooLargeMessage())
    }
    if (this.reserved.size >= this.opts.maxEntries) {
      return refuse('over-cap', 'overCap', `This run already keeps max-entries (${this.opts.maxEntries}) entries: not saved.`)
    }
    this.reserved.add(hash)
    return this.upload(hash)
  }

  private tooLargeMessage(): string {
    return `The entry is over max-entry-size (${this.opts.maxEntrySize} bytes): not saved.`
  }

  private upload(hash: string): Reservation {
    const tmp = join(this.opts.entriesDir, `.${hash}.${process.pid}.part`)
    const out = createWriteStream(tmp)
    let size = 0
    let done = false
    let settle: (o: UploadOutcome) => void = () => undefined
    const settled = new Promise<UploadOutcome>(r => {
      settle = r
    })
    const fail = (failed: UploadFailure['failed'], message: string): void => {
      if (done) return
      done = true
      this.stats[failed === 'too-large' ? 'tooLarge' : 'storeErrors']++
      this.reserved.delete(hash)
      const remove = (): void => {
        try {
          rmSync(tmp, { force: true })
        } catch {
          // Nothing was written, or it cannot be removed: either way it is not an entry.
        }
      }
      // The file is opened asynchronously: one that fails before it is open is created after this
      // first removal, and removed again once the stream has closed. The upload is settled only
      // then, so whoever awaits it finds no temporary file left, however loaded the machine.
      out.once('close', () => {
        remove()
        settle({ failed, message })
      })
      out.destroy()
      remove()
    }
    out.on('error', e => fail('store-error', `The entry could not be written: ${e.message}`))
    return {
      hash,
      settled,
      write: chunk => {
        if (done) return true
        size += chunk.length
        if (size > this.opts.maxEntrySize) {
          fail('too-large', this.tooLargeMessage())
          return true
        }
        return out.write(chunk)
      },
      onDrain: resume => {
        out.once('drain', resume)
      },
      commit: () => {
        if (done) return
        out.end(() => {
          if (done) return
          try {
            renameSync(tmp, this.path(hash))
            appendFileSync(this.opts.uploadsFile, `${hash}\n`)
          } catch (e) {
            return fail('store-error', `The entry could not be written: ${e instanceof Error ? e.message : String(e)}`)
          }
          done = true
          this.uploads.push(hash)
          this.stats.stored++
          this.stats.bytesStored += size
          settle({ stored: size })
        })
      },
      abort: reason => fail('store-error', reason)
    }
  }
}

export function isRefusal(r: Reservation | Refusal): r is Refusal {
  return 'refused' in r
}
