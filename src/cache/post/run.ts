// The cache action's `post`: stop the server, save what it kept (where the policy allows), and
// say what happened: outputs and a job summary. Never fails the job: every failure is a warning.

import * as core from '../../action-io/core.js'
import { lstatSync, readFileSync, realpathSync } from 'node:fs'
import { join } from 'node:path'
import { escapeHtml } from '../../core/html.js'
import { ENTRY_DIR, type SaveOutcome, enterStage, isEntryHash, saveEntry } from '../adapter/actions-cache.js'
import { type PackIndex, mergeIndex, packKeys, parseIndex, planPacks, savePack } from '../adapter/packs.js'
import { type QueueEntry, type QueueResult, saveQueue } from './queue.js'
import {
  PACKS_FILE,
  REJECTED_FILE,
  STATS_FILE,
  STATS_PATH,
  type ScopeKind,
  type ServerReport,
  type ServerStats,
  UPLOADS_FILE,
  readHandoff,
  readUploadsFile
} from '../state.js'

interface PostReport {
  access: string
  reason: string
  scope: string
  scopeKind: ScopeKind
  started: boolean
  stats: ServerStats | null
  queue: QueueResult | null
}

export async function run(): Promise<void> {
  try {
    const report = await post(Date.now())
    await report_(report)
  } catch (e) {
    core.warning(`The Nx cache action's post step failed: ${e instanceof Error ? e.message : String(e)}. The build is not affected.`)
  }
}

/** `t0`: when post began; its time limit (save-time-limit) counts from there. */
async function post(t0: number): Promise<PostReport> {
  const handoff = readHandoff(core)
  const { access, reason, server, scope, scopeKind } = handoff
  if (server === null) return { access, reason, scope: '', scopeKind: 'none', started: false, stats: null, queue: null }
  const { stage, pid, port, write } = server

  // Asked before it is stopped: on Windows the signal ends the server at once, with no stats.json.
  // The token reaches post through GITHUB_ENV, as it reaches every step after main.
  const live = await askStats(port, process.env.NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN ?? '')
  const answer = (await stopServer(pid, stage)) ?? live
  if (answer === null) {
    core.warning(
      `The Nx cache server left no statistics (it had stopped, or could not write them); saving what it recorded. Its log: ${join(stage, 'server.log')}.`
    )
  }
  for (const { key, why } of readRejectedFile(join(stage, REJECTED_FILE))) {
    core.warning(
      `The Actions cache entry ${key} was not restored: it is not one this kit saves (${why}). Nx got a miss and built the task itself; nothing of the entry was written. Whoever could write to this repository's Actions cache may have tampered with it: delete it (gh cache delete ${key}) and review what can write there.`
    )
  }
  const uploads = answer?.uploads ?? readUploadsFile(join(stage, UPLOADS_FILE))
  let queue: QueueResult | null = null
  if (write && uploads.length > 0) {
    enterStage(stage)
    const entries = stagedEntries(stage, uploads)
    const runnerOs = process.env.RUNNER_OS ?? ''
    const concurrency = handoff.saveConcurrency
    const timeLimitMs = handoff.saveTimeLimit * 1000
    const deadline = t0 + timeLimitMs
    const fitting = entries.filter(e => e.size <= handoff.maxEntrySize).slice(0, handoff.maxEntries)
    const packed = scope === '' ? null : await savePacks(stage, fitting, scope, runnerOs, deadline)
    const rest = packed === null ? entries : [...entries.filter(e => !fitting.includes(e)), ...packed.rest]
    if (rest.length > 0) core.info(`Saving ${rest.length} Nx cache entries to the Actions cache one entry each, ${concurrency} at a time.`)
    queue = await saveQueue(rest, hash => saveEntry(hash, runnerOs), {
      maxEntries: handoff.maxEntries,
      maxEntrySize: handoff.maxEntrySize,
      concurrency,
      deadline,
      timeLimitMs,
      warning: m => core.warning(m),
      notice: m => core.notice(m),
      info: m => core.info(m)
    })
    if (packed !== null) {
      queue.saved += packed.saved
      queue.savedBytes += packed.savedBytes
      queue.packs = packed.packs
      queue.retried += packed.retried
    }
  } else if (!write && uploads.length > 0) {
    // Cannot happen: a read-only server keeps nothing. Said rather than saved, should it ever.
    core.warning(`${uploads.length} uploads were kept on a read-only run; none is saved.`)
  }
  return {
    access,
    reason,
    scope: write ? scope : '',
    scopeKind: write ? scopeKind : 'none',
    started: true,
    stats: answer?.stats ?? null,
    queue
  }
}

/** Waits `ms`, or until `deadline` (a Date.now() value), whichever is sooner. */
const pause = (ms: number, deadline: number): Promise<void> =>
  new Promise(r => setTimeout(r, Math.max(0, Math.min(ms, deadline - Date.now()))))

/**
 * Saves the run's entries as a few packs (see adapter/packs.ts), one after another, each carrying
 * the index of this run's packs and of those it inherited from the newest pack of its own scope.
 * A 429 with Retry-After is waited out when the deadline allows; the entries of a pack that is not
 * saved are left for per-hash entries (`rest`), as are those past the packs' size.
 */
async function savePacks(
  stage: string,
  entries: QueueEntry[],
  scope: string,
  runnerOs: string,
  deadline: number
): Promise<{ saved: number; savedBytes: number; packs: number; retried: number; rest: QueueEntry[] }> {
  const out = { saved: 0, savedBytes: 0, packs: 0, retried: 0, rest: [] as QueueEntry[] }
  if (entries.length === 0) return out
  const plan = planPacks(entries)
  out.rest.push(...plan.rest)
  let inherited: PackIndex = []
  try {
    inherited = parseIndex(readFileSync(join(stage, PACKS_FILE), 'utf8'))
  } catch {
    // No index restored: this pack starts the line.
  }
  const keys = packKeys(runnerOs, scope, plan.packs.length, {
    id: process.env.GITHUB_RUN_ID ?? '',
    attempt: process.env.GITHUB_RUN_ATTEMPT ?? ''
  })
  const index = mergeIndex(
    plan.packs.map((p, i) => [keys[i], p.map(e => e.hash)]),
    inherited
  )
  core.info(`Saving ${entries.length - plan.rest.length} Nx cache entries to the Actions cache as ${plan.packs.length} pack(s).`)
  // A pack not saved by the deadline is not waited for: its entries go to the per-hash queue,
  // which, past the deadline, counts them in its one warning as not saved.
  const withinDeadline = (p: Promise<SaveOutcome>): Promise<SaveOutcome | 'deadline'> =>
    Promise.race([p, pause(deadline - Date.now(), deadline).then(() => 'deadline' as const)])
  for (const [i, pack] of plan.packs.entries()) {
    const hashes = pack.map(e => e.hash)
    let outcome: SaveOutcome | 'deadline' =
      Date.now() >= deadline ? 'deadline' : await withinDeadline(savePack(stage, keys[i], hashes, index))
    for (
      let tries = 1;
      outcome !== 'deadline' && outcome.kind === 'rate-limited' && outcome.retryAfter !== undefined && tries < 5;
      tries++
    ) {
      if (Date.now() + outcome.retryAfter * 1000 >= deadline) break
      core.info(`The Actions cache asked to wait ${outcome.retryAfter} s (429, Retry-After) before the next pack.`)
      out.retried++
      await pause(outcome.retryAfter * 1000, deadline)
      outcome = await withinDeadline(savePack(stage, keys[i], hashes, index))
    }
    if (outcome === 'deadline') {
      out.rest.push(...pack)
      continue
    }
    if (outcome.kind === 'saved') {
      out.packs++
      out.saved += pack.length
      out.savedBytes += pack.reduce((n, e) => n + e.size, 0)
    } else {
      core.info(`Pack ${keys[i]} was not saved (${outcome.message}): its ${pack.length} entries are saved one entry each.`)
      out.rest.push(...pack)
    }
  }
  return out
}

/**
 * The uploads to save, from the names the server reported: only regular files directly in the
 * staging folder's entries folder, named as the kit names entries. The report and the folder can
 * be written by any later step of the job, so a name that is a path (`../…`, absolute), a symlink,
 * or an entries folder that is not a real folder inside the stage is never saved, with a warning.
 */
function stagedEntries(stage: string, uploads: unknown[]): QueueEntry[] {
  const entries: QueueEntry[] = []
  const refused: string[] = []
  const dir = join(stage, ENTRY_DIR)
  let real = false
  try {
    real = lstatSync(dir).isDirectory() && realpathSync(dir) === join(realpathSync(stage), ENTRY_DIR)
  } catch {
    // No entries folder: nothing to save.
  }
  for (const hash of new Set(uploads)) {
    if (typeof hash !== 'string' || !isEntryHash(hash) || !real) {
      refused.push(String(hash))
      continue
    }
    try {
      const st = lstatSync(join(dir, hash))
      if (st.isFile()) entries.push({ hash, size: st.size })
      else refused.push(hash)
    } catch {
      // Written and then lost: nothing to save.
    }
  }
  if (refused.length > 0) {
    core.warning(
      `${refused.length} names in the cache server's report are not entries of its staging folder (${refused
        .slice(0, 3)
        .map(n => JSON.stringify(n.slice(0, 80)))
        .join(', ')}${refused.length > 3 ? ', …' : ''}): not saved. Something else in this job wrote to ${stage}.`
    )
  }
  return entries
}

/** The entries the server would not restore (see server-main.ts), each key once. */
function readRejectedFile(path: string): { key: string; why: string }[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return []
  }
  const byKey = new Map<string, string>()
  for (const line of text.split('\n')) {
    try {
      const r = JSON.parse(line) as { key?: unknown; why?: unknown }
      if (typeof r.key === 'string' && typeof r.why === 'string' && !byKey.has(r.key)) byKey.set(r.key, r.why)
    } catch {
      // A line cut short: skipped.
    }
  }
  return [...byKey].map(([key, why]) => ({ key, why }))
}

/** The server's statistics so far from its stats route; `null` if it cannot be asked or does not answer. */
async function askStats(port: number, token: string, timeoutMs = 3000): Promise<ServerReport | null> {
  if (!(port > 0) || token === '') return null
  try {
    const res = await fetch(`http://127.0.0.1:${port}${STATS_PATH}`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(timeoutMs)
    })
    if (res.status !== 200) return null
    const report = (await res.json()) as ServerReport
    return report && typeof report.stats === 'object' && Array.isArray(report.uploads) ? report : null
  } catch {
    return null
  }
}

/** Ends the server (SIGTERM) and reads the report it writes on the way out. */
async function stopServer(pid: number, stage: string, timeoutMs = 10000): Promise<ServerReport | null> {
  const statsFile = join(stage, STATS_FILE)
  if (pid > 0 && isOurServer(pid)) {
    try {
      process.kill(pid, 'SIGTERM')
    } catch {
      // Already gone.
    }
    const end = Date.now() + timeoutMs
    while (Date.now() < end && alive(pid)) await new Promise(r => setTimeout(r, 25))
    if (alive(pid)) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // Gone in between.
      }
    }
  }
  try {
    return JSON.parse(readFileSync(statsFile, 'utf8')) as ServerReport
  } catch {
    return null
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Never signal a process that reused the pid: where /proc tells, it must be the server bundle. */
function isOurServer(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(join('server', 'index.js'))
  } catch {
    return process.platform !== 'linux'
  }
}

function postOutputs(r: PostReport): Record<string, string> {
  const s = r.stats
  return {
    access: r.access,
    scope: r.scope,
    hits: String(s?.hits ?? 0),
    misses: String(s?.misses ?? 0),
    saved: String(r.queue?.saved ?? 0),
    refused: String(s ? s.refused + s.tooLarge + s.overCap : 0),
    'bytes-restored': String(s?.bytesServed ?? 0),
    'bytes-saved': String(r.queue?.savedBytes ?? 0)
  }
}

/** Which Actions cache scope this run wrote to, in words. */
function scopeWords(r: PostReport): string {
  if (r.scopeKind === 'pull-request') {
    return `${r.scope}: this pull request's own scope, read only by its later runs (never by the default branch)`
  }
  if (r.scopeKind === 'branch')
    return `${r.scope}: this branch's scope, read by its later runs and by branches and pull requests based on it`
  return 'none: this run saves nothing'
}

function postSummaryRows(r: PostReport): [string, string][] {
  const s = r.stats
  const q = r.queue
  const rows: [string, string][] = [
    ['Access', r.access],
    ['Why', r.reason || '(not recorded)'],
    ['Scope written', scopeWords(r)]
  ]
  if (!r.started) {
    rows.push(['Server', 'not started'])
    return rows
  }
  if (s) {
    rows.push(
      ['Hits', `${s.hits} (${s.bytesServed} bytes)`],
      [
        'Misses',
        `${s.misses}${s.restoreErrors || s.restoreTimeouts ? ` (${s.restoreErrors} failed restores, ${s.restoreTimeouts} too slow)` : ''}`
      ],
      ['Uploads kept', `${s.stored} (${s.bytesStored} bytes)`],
      [
        'Uploads refused',
        `${s.refused} (read-only), ${s.tooLarge} over max-entry-size, ${s.overCap} over max-entries, ${s.conflicts} existing`
      ]
    )
  } else {
    rows.push(['Server', 'no statistics (it had stopped before post)'])
  }
  if (q) {
    rows.push(
      ['Entries saved', `${q.saved} (${q.savedBytes} bytes${q.packs > 0 ? `; ${q.packs} pack(s), the rest one entry each` : ''})`],
      ['Not saved', `${q.failed + q.notTried} (${q.existed} existed already${q.stoppedBy ? `; stopped by ${q.stoppedBy}` : ''})`]
    )
  } else {
    rows.push(['Entries saved', '0'])
  }
  return rows
}

async function report_(r: PostReport): Promise<void> {
  for (const [name, value] of Object.entries(postOutputs(r))) core.setOutput(name, value)
  const o = postOutputs(r)
  core.info(
    `nx-cloud-access cache: ${r.access}; ${o.hits} hits, ${o.misses} misses, ${o.saved} entries saved, ${o.refused} uploads refused.`
  )
  if (process.env.GITHUB_STEP_SUMMARY) {
    await core.summary
      .addHeading(`Nx cache on the Actions cache: ${r.access}`, 3)
      .addTable(postSummaryRows(r).map(([k, v]) => [{ data: k, header: true }, escapeHtml(v)]))
      .write()
  }
}
