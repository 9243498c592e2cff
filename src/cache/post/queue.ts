// The save queue: what `post` does with the uploads the server kept. Saves one entry at a time
// (see actions-store.ts), at most `maxEntries`, none over `maxEntrySize`. After a 429 it stops
// and warns once with the count not saved; after a refused write (a read-only cache token) it
// stops with a notice; after a few failures in a row it stops rather than hold the job up.
// Nothing here throws: the build never fails because of the cache.

export type SaveOutcome =
  | { kind: 'saved' }
  | { kind: 'exists'; message: string }
  | { kind: 'rate-limited'; message: string }
  | { kind: 'denied'; message: string }
  | { kind: 'failed'; message: string }

export interface QueueEntry {
  hash: string
  size: number
}

export interface QueueOptions {
  maxEntries: number
  maxEntrySize: number
  /** Failures in a row after which the queue gives up. */
  maxConsecutiveFailures?: number
  warning(message: string): void
  notice(message: string): void
  info(message: string): void
}

export interface QueueResult {
  saved: number
  savedBytes: number
  /** Entries another job had saved already. */
  existed: number
  failed: number
  skippedTooLarge: number
  skippedOverCap: number
  /** Entries never tried because the queue stopped (429, refused writes, failures in a row). */
  notTried: number
  stoppedBy: 'rate-limit' | 'denied' | 'failures' | null
}

export async function saveQueue(
  entries: QueueEntry[],
  save: (hash: string) => Promise<SaveOutcome>,
  opts: QueueOptions
): Promise<QueueResult> {
  const result: QueueResult = {
    saved: 0,
    savedBytes: 0,
    existed: 0,
    failed: 0,
    skippedTooLarge: 0,
    skippedOverCap: 0,
    notTried: 0,
    stoppedBy: null
  }
  const maxFailures = opts.maxConsecutiveFailures ?? 3
  const fitting = entries.filter(e => e.size <= opts.maxEntrySize)
  result.skippedTooLarge = entries.length - fitting.length
  const todo = fitting.slice(0, Math.max(0, opts.maxEntries))
  result.skippedOverCap = fitting.length - todo.length
  if (result.skippedTooLarge > 0) {
    opts.info(`${result.skippedTooLarge} entries over max-entry-size (${opts.maxEntrySize} bytes) are not saved.`)
  }
  if (result.skippedOverCap > 0) {
    opts.info(`${result.skippedOverCap} entries beyond max-entries (${opts.maxEntries}) are not saved.`)
  }

  let failuresInARow = 0
  for (let i = 0; i < todo.length; i++) {
    const entry = todo[i]
    let outcome: SaveOutcome
    try {
      outcome = await save(entry.hash)
    } catch (e) {
      outcome = { kind: 'failed', message: e instanceof Error ? e.message : String(e) }
    }
    const left = todo.length - i - 1
    switch (outcome.kind) {
      case 'saved':
        result.saved++
        result.savedBytes += entry.size
        failuresInARow = 0
        break
      case 'exists':
        result.existed++
        failuresInARow = 0
        break
      case 'rate-limited':
        result.notTried = left
        result.failed++
        result.stoppedBy = 'rate-limit'
        opts.warning(
          `The Actions cache rate-limited this job (429) after ${result.saved} saved entries: stopped saving, ${result.failed + left} entries not saved. ${outcome.message}`.trim()
        )
        return result
      case 'denied':
        result.notTried = left
        result.failed++
        result.stoppedBy = 'denied'
        opts.notice(
          `The Actions cache service refused writes for this run (a read-only cache token): ${result.failed + left} entries not saved. ${outcome.message}`.trim()
        )
        return result
      case 'failed':
        result.failed++
        failuresInARow++
        opts.info(`Entry ${entry.hash} was not saved: ${outcome.message}`)
        if (failuresInARow >= maxFailures && left > 0) {
          result.notTried = left
          result.stoppedBy = 'failures'
          opts.warning(
            `${failuresInARow} saves to the Actions cache failed in a row: stopped saving, ${result.failed + left} entries not saved (last error: ${outcome.message}).`
          )
          return result
        }
        break
    }
  }
  return result
}
