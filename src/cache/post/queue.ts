// The save queue: what `post` does with the uploads the server kept. Saves up to `concurrency`
// entries at once (each classified on its own, see actions-store.ts), at most `maxEntries`, none
// over `maxEntrySize`. After a 429 every worker stops and one warning gives the count not saved;
// after a refused write (a read-only cache token) likewise, with a notice; after a few failures
// in a row it stops rather than hold the job up; at `deadline` it stops waiting and reports what
// was not saved. Nothing here throws: the build never fails because of the cache.

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

interface QueueOptions {
  maxEntries: number
  maxEntrySize: number
  /** Failures in a row after which the queue gives up. */
  maxConsecutiveFailures?: number
  /** Saves in flight at once (default 1). */
  concurrency?: number
  /** Date.now() after which no save is started or waited for (default: none). */
  deadline?: number
  /** The limit the deadline came from, for the warning. */
  timeLimitMs?: number
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
  /** Entries never tried, or not finished, because the queue stopped (429, refused writes, failures in a row, the deadline). */
  notTried: number
  stoppedBy: 'rate-limit' | 'denied' | 'failures' | 'deadline' | null
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

  const concurrency = Math.max(1, Math.floor(opts.concurrency ?? 1))
  let failuresInARow = 0
  let next = 0
  let settled = 0
  let stop: { by: NonNullable<QueueResult['stoppedBy']>; message: string } | null = null
  let wake: () => void = () => {}
  const stoppedByDeadline = (): boolean => stop?.by === 'deadline'

  /** Takes one outcome in; the first stop wins and the others' results are still counted. */
  function record(entry: QueueEntry, outcome: SaveOutcome): void {
    settled++
    switch (outcome.kind) {
      case 'saved':
        result.saved++
        result.savedBytes += entry.size
        failuresInARow = 0
        return
      case 'exists':
        result.existed++
        failuresInARow = 0
        return
      case 'rate-limited':
        result.failed++
        stop ??= { by: 'rate-limit', message: outcome.message }
        return
      case 'denied':
        result.failed++
        stop ??= { by: 'denied', message: outcome.message }
        return
      case 'failed':
        result.failed++
        failuresInARow++
        opts.info(`Entry ${entry.hash} was not saved: ${outcome.message}`)
        if (failuresInARow >= maxFailures) stop ??= { by: 'failures', message: outcome.message }
    }
  }

  async function worker(): Promise<void> {
    while (stop === null && next < todo.length) {
      if (opts.deadline !== undefined && Date.now() >= opts.deadline) {
        stop ??= { by: 'deadline', message: '' }
        break
      }
      const entry = todo[next++]
      let outcome: SaveOutcome
      try {
        outcome = await save(entry.hash)
      } catch (e) {
        outcome = { kind: 'failed', message: e instanceof Error ? e.message : String(e) }
      }
      if (stoppedByDeadline()) return // reported as not saved already
      record(entry, outcome)
    }
  }

  const workers = Promise.all(Array.from({ length: Math.min(concurrency, todo.length) }, () => worker()))
  if (opts.deadline === undefined) {
    await workers
  } else {
    let timer: ReturnType<typeof setTimeout> | undefined
    const late = new Promise<void>(r => {
      wake = r
      timer = setTimeout(r, Math.max(0, opts.deadline! - Date.now()))
    })
    await Promise.race([workers, late])
    clearTimeout(timer)
    wake()
    if (settled < todo.length && stop === null) stop = { by: 'deadline', message: '' }
  }
  if (stop === null) return result
  // The last entries failing in a row stop nothing: there was nothing left to try.
  if (stop.by === 'failures' && settled === todo.length) return result

  // Saves still in flight when the queue stopped are not waited for (deadline) or are counted as
  // they end (the others): everything not settled is not saved.
  result.notTried = todo.length - settled
  result.stoppedBy = stop.by
  const notSaved = result.failed + result.notTried
  switch (stop.by) {
    case 'rate-limit':
      opts.warning(
        `The Actions cache rate-limited this job (429) after ${result.saved} saved entries: stopped saving, ${notSaved} entries not saved. ${stop.message}`.trim()
      )
      break
    case 'denied':
      opts.notice(
        `The Actions cache service refused writes for this run (a read-only cache token): ${notSaved} entries not saved. ${stop.message}`.trim()
      )
      break
    case 'failures':
      if (result.notTried > 0) {
        opts.warning(
          `${failuresInARow} saves to the Actions cache failed in a row: stopped saving, ${notSaved} entries not saved (last error: ${stop.message}).`
        )
      }
      break
    case 'deadline':
      opts.warning(
        `Saving to the Actions cache reached the post step's time limit (${Math.round((opts.timeLimitMs ?? 0) / 1000)} s) after ${result.saved} saved entries: stopped, ${notSaved} entries not saved.`
      )
      break
  }
  return result
}
