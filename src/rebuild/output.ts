// The pre-deploy rebuild's captured output → which tasks ran fresh and which came from a cache.
// Pure: the rebuild step's program (rebuild.ts) reads the log and reports; tests feed it text.
//
// Evidence of a cache, as Nx 24 prints it (colours stripped first: Nx colours its output in CI):
//   a task line with a cache marker   `✔  nx run lib-a:build  [local cache]` / `> nx run app:build  [remote cache]`
//                                     `... [existing outputs match the cache, left as is]`
//   the run summary                   `Cache:  2/3 hit (67%)`
//   the closing line                  `Nx read the output from the cache instead of running the command for 2 out of 3 tasks.`
//   --output-style=summary's headline `NX   3 tasks: 3 succeeded, 2 cached` (it prints no task lines)
// Any one of them fails the rebuild: a command that sets NX_SKIP_NX_CACHE=false, or a tool that
// ignores it, is caught rather than trusted.

export const CACHE_MARKERS = ['local cache', 'remote cache', 'existing outputs match the cache, left as is'] as const

export interface CachedTask {
  /** The task id (`lib-a:build`), or null when the line names none. */
  task: string | null
  marker: string
  /** 1-based line of the captured output. */
  line: number
}

export interface RebuildReport {
  /** Tasks that ran, in the order Nx reported them, each once. */
  ran: string[]
  cached: CachedTask[]
  /** Cache hits counted by Nx's run summaries (`Cache: N/M hit`, "read the output from the cache ... for N"). */
  summaryHits: number
  /** The summary lines that counted a hit, as printed. */
  summaryLines: string[]
}

// CSI sequences (colours, cursor moves), OSC sequences (hyperlinks) and lone two-byte escapes.
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]|\u009b[0-?]*[ -/]*[@-~]/g

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '')
}

const MARKER = new RegExp(`\\[(${CACHE_MARKERS.map(m => m.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})\\]`)
/** `✔  nx run lib-a:build`, `✖  nx run …`, `> nx run app:build:production  [local cache]`. */
const TASK_LINE = /^(?:[✔✖√×>-]\s*)?nx run (\S+)(?:\s+\[[^\]]*\])?$/
const TASK_ANYWHERE = /\bnx run (\S+)/
const SUMMARY_HITS = /^Cache:\s+(\d+)\/(\d+) hit/
const READ_FROM_CACHE = /Nx read the output from the cache instead of running the command for (\d+) out of (\d+) tasks?/
const SUMMARY_STYLE_CACHED = /\d+ tasks?: .*?\b(\d+) cached\b/

export function analyseRebuildOutput(text: string): RebuildReport {
  const ran: string[] = []
  const cached: CachedTask[] = []
  const summaryLines: string[] = []
  let summaryHits = 0
  // A carriage return rewrites a line on a terminal: treat it as a line break, so nothing hides.
  const lines = stripAnsi(text).split(/\r\n|\r|\n/)
  lines.forEach((raw, i) => {
    const line = raw.trim()
    const marker = MARKER.exec(line)
    if (marker) {
      cached.push({ task: TASK_ANYWHERE.exec(line)?.[1] ?? null, marker: marker[1], line: i + 1 })
      return
    }
    const task = TASK_LINE.exec(line)
    if (task) {
      if (!ran.includes(task[1])) ran.push(task[1])
      return
    }
    const hits = SUMMARY_HITS.exec(line) ?? READ_FROM_CACHE.exec(line) ?? SUMMARY_STYLE_CACHED.exec(line)
    if (hits && Number(hits[1]) > 0) {
      // Both lines of one run count the same hits: keep the larger count per run, not the sum.
      summaryLines.push(line)
      summaryHits = Math.max(summaryHits, Number(hits[1]))
    }
  })
  const cachedTasks = new Set(cached.map(c => c.task))
  return { ran: ran.filter(t => !cachedTasks.has(t)), cached, summaryHits, summaryLines }
}

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
