// Decision → what the runner sees: masks first, then GITHUB_ENV exports, step outputs,
// annotations and the job summary. The only module of the token step that writes anything.
// No secret is ever passed to an output, the summary or a log line.

import * as core from '../action-io/core.js'
import { escapeHtml } from '../core/html.js'
import { outputsOf, stepSummary } from '../core/report.js'
import type { Decision } from '../core/types.js'
import { mask } from '../action-io/runner.js'

/** `nxJsonHasKey`: nx.json holds the encryption key (the summary says where the key came from). */
export async function apply(d: Decision, nxJsonHasKey = false): Promise<void> {
  mask(d.secrets)
  for (const [name, value] of Object.entries(d.exports)) core.exportVariable(name, value)
  for (const [name, value] of Object.entries(outputsOf(d))) core.setOutput(name, value)
  for (const n of d.notices) core.notice(n)
  for (const w of d.warnings) core.warning(w)
  core.info(`nx-cloud-access: ${d.access}. ${d.reason}`)
  if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(renderStepSummary(d, nxJsonHasKey)).write()
}

/** The job summary's HTML: the verdict as the step's first heading, the reason, the rows, the notes. */
function renderStepSummary(d: Decision, nxJsonHasKey: boolean): string {
  const s = stepSummary(d, nxJsonHasKey)
  const rows = s.rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('\n')
  const parts = [`<h1>${escapeHtml(s.heading)}</h1>`, `<p>${escapeHtml(s.reason)}</p>`, `<table>\n${rows}\n</table>`]
  if (s.notes.length > 0) parts.push(`<ul>\n${s.notes.map(n => `<li>${escapeHtml(n)}</li>`).join('\n')}\n</ul>`)
  return `${parts.join('\n')}\n`
}
