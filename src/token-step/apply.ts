// Decision → what the runner sees: masks first, then GITHUB_ENV exports, step outputs,
// annotations and the job summary. The only module of the token step that writes anything.
// No secret is ever passed to an output, the summary or a log line.

import * as core from '../action-io/core.js'
import { escapeHtml } from '../core/html.js'
import { outputsOf, readOnlyNotes, summaryRows } from '../core/report.js'
import type { Decision } from '../core/types.js'
import { mask } from '../action-io/runner.js'

export async function apply(d: Decision): Promise<void> {
  mask(d.secrets)
  for (const [name, value] of Object.entries(d.exports)) core.exportVariable(name, value)
  for (const [name, value] of Object.entries(outputsOf(d))) core.setOutput(name, value)
  for (const n of d.notices) core.notice(n)
  for (const w of d.warnings) core.warning(w)
  core.info(`nx-cloud-access: ${d.access}. ${d.reason}`)
  if (process.env.GITHUB_STEP_SUMMARY) {
    const summary = core.summary
      .addHeading(`Nx Cloud access: ${d.access}`, 3)
      .addRaw(`<p>${escapeHtml(d.reason)}</p>`, true)
      .addTable(summaryRows(d).map(([k, v]) => [{ data: k, header: true }, escapeHtml(v)]))
    const notes = [...d.warnings, ...d.notices, ...readOnlyNotes(d)]
    if (notes.length > 0) summary.addList(notes.map(escapeHtml))
    await summary.write()
  }
}
