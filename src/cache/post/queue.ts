// The save queue: what `post` does with the uploads the server kept. Saves up to `concurrency`
// entries at once (each classified on its own, see actions-store.ts), at most `maxEntries`, none
// over `maxEntrySize`. A 429 with Retry-After pauses every worker for that long (when the deadline
// allows) and the entry is tried again; a 429 without one, or one that would outlast the deadline,
// stops every worker and one warning gives the count not saved;
// after a refused write (a read-only cache token) likewise, with a notice; after a few failures
// in a row it stops rather than hold the job up; at `deadline` it stops waiting and reports what
// was not saved. Nothing here throws: the build never fails because of the cache.

import type { SaveOutcome } from '../adapter/actions-cache.js'

export type { SaveOutcome }

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
  /** Saves tried again after a 429 with Retry-After. */
  retried: number
  /** Packs saved (set by post; the queue saves entries one each). */
  packs: number
  failed: number
  skippedTooLarge: number
  skippedOverCap: number
  /** Entries never tried, or not finished, because the queue stopped (429, refused writes, failures in a row, the deadline). */
  notTried: number
  stoppedBy: 'rate-limit' | 'denied' | 'failures' | 'deadline' | null
}

type StopReason = NonNullable<QueueResult['stoppedBy']>

/** Why the queue stopped; the first reason wins. */
interface Stop {
  by: StopReason
  message: string
}

/** What the workers share while they save. */
interface QueueState {
  readonly todo: QueueEntry[]
  readonly result: QueueResult
  readonly maxFailures: number
  /** Index in `todo` of the next entry to start. */
  next: number
  /** Date.now() before which no save starts: the service's Retry-After. */
  pausedUntil: number
  /** Tries so far per hash, for entries tried again after a 429. */
  tries: Map<string, number>
  /** Entries whose outcome is counted. */
  settled: number
  failuresInARow: number
  stop: Stop | null
}

export async function saveQueue(
  entries: QueueEntry[],
  save: (hash: string) => Promise<SaveOutcome>,
  opts: QueueOptions
): Promise<QueueResult> {
  const result = emptyResult()
  const state: QueueState = {
    todo: entriesToSave(entries, opts, result),
    result,
    maxFailures: opts.maxConsecutiveFailures ?? 3,
    next: 0,
    pausedUntil: 0,
    tries: new Map(),
    settled: 0,
    failuresInARow: 0,
    stop: null
  }
  await runWorkers(state, save, opts)
  return finish(state, opts)
}

function emptyResult(): QueueResult {
  return {
    saved: 0,
    savedBytes: 0,
    existed: 0,
    retried: 0,
    packs: 0,
    failed: 0,
    skippedTooLarge: 0,
    skippedOverCap: 0,
    notTried: 0,
    stoppedBy: null
  }
}

/** The entries to try: none over max-entry-size, at most max-entries; those left out are counted and said. */
function entriesToSave(entries: QueueEntry[], opts: QueueOptions, result: QueueResult): QueueEntry[] {
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
  return todo
}

/** Runs `concurrency` workers until they run out of entries or stop, or until the deadline. */
async function runWorkers(state: QueueState, save: (hash: string) => Promise<SaveOutcome>, opts: QueueOptions): Promise<void> {
  const concurrency = Math.max(1, Math.floor(opts.concurrency ?? 1))
  const workers = Promise.all(Array.from({ length: Math.min(concurrency, state.todo.length) }, () => worker(state, save, opts)))
  if (opts.deadline === undefined) return void (await workers)
  await untilDeadline(workers, opts.deadline)
  // Saves still in flight at the deadline are not waited for.
  if (state.settled < distinct(state) && state.stop === null) state.stop = { by: 'deadline', message: '' }
}

/** Resolves when `work` does, or at `deadline` (a Date.now() value), whichever comes first. */
async function untilDeadline(work: Promise<unknown>, deadline: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<void>(r => {
    timer = setTimeout(r, Math.max(0, deadline - Date.now()))
  })
  await Promise.race([work, late])
  clearTimeout(timer)
}

/** Takes the next entry and saves it, one at a time, until there is none or the queue stopped. */
async function worker(state: QueueState, save: (hash: string) => Promise<SaveOutcome>, opts: QueueOptions): Promise<void> {
  while (state.stop === null && state.next < state.todo.length) {
    if (opts.deadline !== undefined && Date.now() >= opts.deadline) {
      state.stop ??= { by: 'deadline', message: '' }
      break
    }
    if (state.pausedUntil > Date.now()) {
      // The service asked to wait (Retry-After): every worker waits, within the deadline.
      await new Promise(r => setTimeout(r, Math.min(state.pausedUntil, opts.deadline ?? Infinity) - Date.now()))
      continue
    }
    const entry = state.todo[state.next++]
    const outcome = await saveOutcome(save, entry.hash)
    if (stoppedByDeadline(state)) return // reported as not saved already
    if (retryLater(state, entry, outcome, opts)) continue
    record(state, entry, outcome, opts)
  }
}

/** Entries in the queue, each once (an entry tried again is in `todo` again). */
function distinct(state: QueueState): number {
  return state.todo.length - state.result.retried
}

/** Tries of one entry at most, when the service keeps answering 429 with a Retry-After. */
const MAX_TRIES = 5

/**
 * A 429 with a Retry-After that ends before the deadline: every worker pauses until then and the
 * entry goes back in the queue (the service asked to be asked again, not to be given up on).
 */
function retryLater(state: QueueState, entry: QueueEntry, outcome: SaveOutcome, opts: QueueOptions): boolean {
  if (outcome.kind !== 'rate-limited' || outcome.retryAfter === undefined) return false
  const until = Date.now() + outcome.retryAfter * 1000
  const tries = (state.tries.get(entry.hash) ?? 0) + 1
  if (tries >= MAX_TRIES || (opts.deadline !== undefined && until >= opts.deadline)) return false
  state.tries.set(entry.hash, tries)
  if (until > state.pausedUntil) {
    state.pausedUntil = until
    opts.info(`The Actions cache asked to wait ${outcome.retryAfter} s (429, Retry-After): saving goes on after that.`)
  }
  state.result.retried++
  state.todo.push(entry)
  return true
}

/** (A function, so the check reads the state as it is after the await, not as narrowed before it.) */
function stoppedByDeadline(state: QueueState): boolean {
  return state.stop?.by === 'deadline'
}

/** What `save` answered, or a failure if it threw (it should not). */
async function saveOutcome(save: (hash: string) => Promise<SaveOutcome>, hash: string): Promise<SaveOutcome> {
  try {
    return await save(hash)
  } catch (e) {
    return { kind: 'failed', message: e instanceof Error ? e.message : String(e) }
  }
}

/** Takes one outcome in; the first stop wins and the others' results are still counted. */
function record(state: QueueState, entry: QueueEntry, outcome: SaveOutcome, opts: QueueOptions): void {
  const { result } = state
  state.settled++
  switch (outcome.kind) {
    case 'saved':
      result.saved++
      result.savedBytes += entry.size
      state.failuresInARow = 0
      return
    case 'exists':
      result.existed++
      state.failuresInARow = 0
      return
    case 'rate-limited':
      result.failed++
      state.stop ??= { by: 'rate-limit', message: outcome.message }
      return
    case 'denied':
      result.failed++
      state.stop ??= { by: 'denied', message: outcome.message }
      return
    case 'failed':
      result.failed++
      state.failuresInARow++
      opts.info(`Entry ${entry.hash} was not saved: ${outcome.message}`)
      if (state.failuresInARow >= state.maxFailures) state.stop ??= { by: 'failures', message: outcome.message }
  }
}

/** The result once the workers are done: what a stop left unsaved is counted and reported once. */
function finish(state: QueueState, opts: QueueOptions): QueueResult {
  const { result, stop } = state
  if (stop === null) return result
  // The last entries failing in a row stop nothing: there was nothing left to try.
  if (stop.by === 'failures' && state.settled === distinct(state)) return result

  // Saves still in flight when the queue stopped are not waited for (deadline) or are counted as
  // they end (the others): everything not settled is not saved.
  result.notTried = distinct(state) - state.settled
  result.stoppedBy = stop.by
  reportStop(stop, result, state.failuresInARow, opts)
  return result
}

/** The one warning (or notice) a stop gives, with the count not saved. */
function reportStop(stop: Stop, result: QueueResult, failuresInARow: number, opts: QueueOptions): void {
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
}
