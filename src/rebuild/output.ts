// The pre-deploy rebuild's captured output → which tasks ran fresh and which came from a cache.
// Pure: the rebuild step's program (run.ts) reads the log and reports; tests feed it text, among
// them real captures of Nx 24 (__tests__/fixtures/nx-output/).
//
// How Nx 24 names a task (colours stripped first: Nx colours its output in CI), in every output style:
//   a collapsed line (the CI default, static-failures-only)   `✔  nx run lib-a:build`
//   a GitHub log group (GITHUB_ACTIONS=true: static, tui,     `::group::✅ > nx run app:build`
//     dynamic, a run-one target's own output)                 `::group::🔁 > nx run app:build  [local cache]`
//   a plain header (stream, no grouping, run-one)             `> nx run app:build:production`
// each possibly with the arguments forwarded to the task (`nx run app:build --sourcemap`,
// `--quiet`) and a cache marker (`[local cache]`, `[remote cache]`,
// `[existing outputs match the cache, left as is]`). `--output-style=summary` names no task that
// succeeded: only its headline counts them (`NX   3 tasks: 3 succeeded, 2 cached`).
//
// Evidence of a cache, any one of which fails the rebuild (a command that sets
// NX_SKIP_NX_CACHE=false, or a tool that ignores it, is caught rather than trusted):
//   a cache marker anywhere on a line, with or without a task id;
//   the run summary                   `Cache:  2/3 hit (67%)`
//   the closing line                  `Nx read the output from the cache instead of running the command for 2 out of 3 tasks.`
//   --output-style=summary's headline `NX   3 tasks: 3 succeeded, 2 cached`
//
// Signs of Nx Cloud, any one of which makes the rebuild unverifiable (the step runs the command
// with NX_NO_CLOUD=true, so Nx never hands it to the Nx Cloud client, the part of Nx Cloud that
// decides whether tasks run on Nx Agents, whose cache use need not show in this job's output):
//   what Nx 24 itself prints when it handed a command to the client and the client could not run
//     `Nx Cloud was not used for this command.`, `Nx Cloud will not be used for this command.`,
//     `No existing Nx Cloud client and failed to download new version`
//   what Nx Cloud clients print of distribution and of their run pages (known phrases; no real
//   client runs offline, so these are read but not exercised against one)
//     `Starting distributed command execution`, `… distributed task(s) execution …`,
//     `See run details at …`, a `…nx.app/runs/…` link

const CACHE_MARKERS = ['local cache', 'remote cache', 'existing outputs match the cache, left as is'] as const

interface CachedTask {
  /** The task id (`lib-a:build`), or null when the line names none. */
  task: string | null
  marker: string
  /** 1-based line of the captured output. */
  line: number
}

export interface RebuildReport {
  /** Tasks that ran, in the order Nx reported them, each once. */
  ran: string[]
  /**
   * Tasks Nx counted as run fresh but did not name (--output-style=summary prints only counts):
   * its headline's succeeded count less its cached count, beyond the tasks named in `ran`.
   */
  unnamed: number
  cached: CachedTask[]
  /** Cache hits counted by Nx's run summaries (`Cache: N/M hit`, "read the output from the cache ... for N"). */
  summaryHits: number
  /** The summary lines that counted a hit, as printed. */
  summaryLines: string[]
  /** Lines that show Nx Cloud took part in the command (see CLOUD_SIGNS). */
  cloud: { line: number; text: string }[]
}

/** Nx handed the command to the Nx Cloud client, or a client printed its distribution or run page. */
const CLOUD_SIGNS: readonly RegExp[] = [
  /Nx Cloud (?:was|will) not (?:be )?used for this command/,
  /No existing Nx Cloud client and failed to download/,
  /Starting distributed command execution/,
  /distributed tasks? execution/i,
  /See run details at /,
  /\bnx\.app\/runs\//
]

// CSI sequences (colours, cursor moves), OSC sequences (hyperlinks) and lone two-byte escapes.
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]|\u009b[0-?]*[ -/]*[@-~]/g

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '')
}

const MARKER = new RegExp(`\\[(${CACHE_MARKERS.map(m => m.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})\\]`)
/**
 * A task line: an optional log-group opener with its status icon (any, or none), an optional
 * mark (`✔ ✖ √ × >`, a list dash), `nx run`, the task id (`project:target[:configuration]`), then
 * forwarded arguments or a marker. Anchored at the line's start: a task's own output, which Nx
 * prefixes under --output-style=stream (`app: …`), is never read as a task.
 */
const TASK_LINE = /^(?:::group::(\S*)\s*)?(?:[✔✖√×>-]\s*)?(?:>\s*)?nx run ([^\s:]+:\S+)(?:\s.*)?$/u
/** Group icons of a task that did not run: ⏩ skipped (a dependency failed), ⏹️ stopped. */
const NOT_RUN_ICONS = /^(?:⏩|⏹)/u
const TASK_ANYWHERE = /\bnx run ([^\s:]+:\S+)/
const SUMMARY_HITS = /^Cache:\s+(\d+)\/(\d+) hit/
const READ_FROM_CACHE = /Nx read the output from the cache instead of running the command for (\d+) out of (\d+) tasks?/
const SUMMARY_STYLE = /\b(\d+) tasks?: (\d+) succeeded\b(?:.*?\b(\d+) cached\b)?/

export function analyseRebuildOutput(text: string): RebuildReport {
  const ran: string[] = []
  const cached: CachedTask[] = []
  const summaryLines: string[] = []
  const cloud: { line: number; text: string }[] = []
  let summaryHits = 0
  let headlineFresh = 0
  // A carriage return rewrites a line on a terminal: treat it as a line break, so nothing hides.
  const lines = stripAnsi(text).split(/\r\n|\r|\n/)
  lines.forEach((raw, i) => {
    const line = raw.trim()
    if (CLOUD_SIGNS.some(sign => sign.test(line))) cloud.push({ line: i + 1, text: line })
    const marker = MARKER.exec(line)
    if (marker) {
      cached.push({ task: TASK_ANYWHERE.exec(line)?.[1] ?? null, marker: marker[1], line: i + 1 })
      return
    }
    const task = TASK_LINE.exec(line)
    if (task) {
      if (task[1] !== undefined && NOT_RUN_ICONS.test(task[1])) return
      if (!ran.includes(task[2])) ran.push(task[2])
      return
    }
    const style = SUMMARY_STYLE.exec(line)
    if (style) {
      const hit = Number(style[3] ?? 0)
      headlineFresh = Math.max(headlineFresh, Number(style[2]) - hit)
      if (hit > 0) {
        summaryLines.push(line)
        summaryHits = Math.max(summaryHits, hit)
      }
      return
    }
    const hits = SUMMARY_HITS.exec(line) ?? READ_FROM_CACHE.exec(line)
    if (hits && Number(hits[1]) > 0) {
      // Both lines of one run count the same hits: keep the larger count per run, not the sum.
      summaryLines.push(line)
      summaryHits = Math.max(summaryHits, Number(hits[1]))
    }
  })
  const cachedTasks = new Set(cached.map(c => c.task))
  const fresh = ran.filter(t => !cachedTasks.has(t))
  return { ran: fresh, unnamed: Math.max(0, headlineFresh - fresh.length), cached, summaryHits, summaryLines, cloud }
}

/** How many tasks ran fresh: those named and those only counted. */
export const freshCount = (r: RebuildReport): number => r.ran.length + r.unnamed

/** One line for `::error::`, or null when nothing came from a cache. */
export function cacheUseError(r: RebuildReport): string | null {
  if (r.cached.length === 0 && r.summaryHits === 0) return null
  const named = r.cached.map(c => `${c.task ?? `(line ${c.line})`} [${c.marker}]`)
  const evidence =
    named.length > 0
      ? `served from a cache: ${named.join(', ')}`
      : `Nx's run summary counts ${r.summaryHits} task(s) from the cache (${r.summaryLines.join('; ')})`
  return (
    `The pre-deploy rebuild was not built fresh, so nothing of it may be deployed: ${evidence}. ` +
    'Something overrode NX_SKIP_NX_CACHE=true (the command sets it, or a tool ignores it): remove the override, or pass --skip-nx-cache.'
  )
}

/**
 * One line for `::error::` when the output shows Nx Cloud took part, or null. The step runs the
 * command with Nx Cloud off; a sign of it means the command turned it back on, and then the Nx
 * Cloud client, not this job, decides where the tasks run.
 */
export function cloudUseError(r: RebuildReport): string | null {
  if (r.cloud.length === 0) return null
  const shown = r.cloud.slice(0, 3).map(c => `line ${c.line}: "${c.text.length > 120 ? `${c.text.slice(0, 117)}...` : c.text}"`)
  return (
    `The pre-deploy rebuild cannot be verified, so nothing of it may be deployed: its output shows Nx Cloud took part (${shown.join('; ')}). ` +
    "With Nx Cloud on, its client decides whether tasks run on Nx Agents, and an agent's cache use need not show in this job's output. " +
    'The step runs the command with NX_NO_CLOUD=true and NX_CLOUD_DISTRIBUTED_EXECUTION=false: remove whatever turns Nx Cloud back on in the command (NX_NO_CLOUD=false, nx-cloud record, start-ci-run).'
  )
}
