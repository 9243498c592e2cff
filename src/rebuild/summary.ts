// The rebuild check's verdict → its part of the job summary (HTML, as the runner renders it).
// Pure. Nx 24 writes its own "Nx Run Report" into the same step's summary first (a `##` heading,
// then "### ✅ All tasks succeeded", which is true of a rebuild served from a cache too), so the
// kit's part opens with the one first-level heading of the step: ❌ and what to do on a failure,
// ✅ and the count on a pass, ⚠️ when nothing could be verified.

import { escapeHtml } from '../core/html.js'
import { freshCount, type RebuildReport } from './output.js'

const tasks = (n: number): string => `${n} task${n === 1 ? '' : 's'}`
const codeList = (items: string[]): string => `<ul>\n${items.map(i => `<li>${i}</li>`).join('\n')}\n</ul>`

/** The verdict as the heading's text: what a reviewer reads first. */
function verdictHeading(r: RebuildReport, error: string | null): string {
  if (error !== null) {
    const served = Math.max(new Set(r.cached.map(c => c.task ?? `line ${c.line}`)).size, r.summaryHits)
    if (served === 0) return '❌ Pre-deploy rebuild not verified: Nx Cloud took part, deploy nothing'
    return `❌ Pre-deploy rebuild failed: ${tasks(served)} served from a cache, deploy nothing`
  }
  const n = freshCount(r)
  if (n === 0) return '⚠️ Pre-deploy rebuild: nothing verified, the output names no Nx task'
  return `✅ Pre-deploy rebuild passed: ${tasks(n)} built fresh, none from a cache`
}

export function rebuildSummary(r: RebuildReport, error: string | null): string {
  const parts = [`<h1>${escapeHtml(verdictHeading(r, error))}</h1>`]
  if (error !== null) {
    parts.push(
      `<p><strong>Nx's own run report may say its tasks succeeded: they did, from a cache, not built by this job.</strong> ${escapeHtml(error)}</p>`
    )
    const served = r.cached.map(c => `<code>${escapeHtml(c.task ?? `line ${c.line}`)}</code> [${escapeHtml(c.marker)}]`)
    if (served.length > 0) parts.push('<p>Served from a cache:</p>', codeList(served))
    if (r.cloud.length > 0) {
      parts.push(
        '<p>Signs of Nx Cloud in the output:</p>',
        codeList(r.cloud.map(c => `line ${c.line}: <code>${escapeHtml(c.text)}</code>`))
      )
    }
    if (r.ran.length > 0) parts.push('<p>Built fresh:</p>', codeList(r.ran.map(t => `<code>${escapeHtml(t)}</code>`)))
    return `${parts.join('\n')}\n`
  }
  if (freshCount(r) === 0) {
    parts.push('<p>The rebuild command printed no Nx task: nothing was built, or the command is not Nx.</p>')
    return `${parts.join('\n')}\n`
  }
  parts.push(
    '<p>No task was served from a cache (NX_SKIP_NX_CACHE=true for the rest of the job), and every task ran on this runner (Nx Cloud off for the rebuild: NX_NO_CLOUD=true, NX_CLOUD_DISTRIBUTED_EXECUTION=false).</p>'
  )
  if (r.ran.length > 0) parts.push(codeList(r.ran.map(t => `<code>${escapeHtml(t)}</code>`)))
  if (r.unnamed > 0) {
    parts.push(
      `<p>${escapeHtml(`${r.ran.length > 0 ? 'And ' : ''}${tasks(r.unnamed)} Nx counted but did not name (--output-style=summary prints no task that succeeded).`)}</p>`
    )
  }
  return `${parts.join('\n')}\n`
}
