// Decision → what the runner sees: masks first, then GITHUB_ENV exports, step outputs,
// annotations and the job summary. The only module of the token step that writes anything.
// No secret is ever passed to an output, the summary or a log line.

import * as core from '../action-io/core.js'
import { renderStepSummary } from '../core/markdown.js'
import { type StepSummary, failedStepSummary, outputsOf, stepSummary } from '../core/report.js'
import { hideSecrets } from '../core/secrets.js'
import type { Decision } from '../core/types.js'
import { fail, mask } from '../action-io/runner.js'

/** The step's name in the job summary: action.yml's `name`. */
const TITLE = 'Nx Cloud Access'

/** `nxJsonHasKey`: nx.json holds the encryption key (the summary says where the key came from). */
export async function apply(d: Decision, nxJsonHasKey = false): Promise<void> {
  mask(d.secrets)
  for (const [name, value] of Object.entries(d.exports)) core.exportVariable(name, value)
  for (const [name, value] of Object.entries(outputsOf(d))) core.setOutput(name, value)
  for (const n of d.notices) core.notice(n)
  for (const w of d.warnings) core.warning(w)
  core.info(`nx-cloud-access: ${d.access}. ${d.reason}`)
  if (d.fix !== null) core.info(`To fix: ${d.fix}`)
  await writeSummary(stepSummary(d, nxJsonHasKey))
}

/**
 * A step the kit fails: one `::error::` line, and a summary that says what failed and what is
 * accepted. `secrets`: every secret value known so far, hidden from the summary (the runner masks
 * the log, not the summary file). Nothing was exported.
 */
export async function applyFailure(e: unknown, secrets: readonly string[]): Promise<void> {
  fail(e)
  const message = e instanceof Error ? e.message.replace(/\s*\n\s*/g, ' ') : String(e)
  try {
    await writeSummary(failedStepSummary(hideSecrets(message, secrets)))
  } catch (err) {
    // The step has failed already, with its error line: a summary that cannot be written is said, not thrown.
    core.warning(`The job summary could not be written: ${err instanceof Error ? err.message : String(err)}`)
  }
}

/** The one place the token step's summary is rendered: the shape of every step of the kit (core/markdown.ts). */
async function writeSummary(s: StepSummary): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return
  const markdown = renderStepSummary({
    title: TITLE,
    verdict: s.verdict,
    cause: s.reason,
    fix: s.fix,
    warnings: s.warnings,
    sections: [{ heading: 'Details', rows: s.rows, items: s.notes }]
  })
  await core.summary.addRaw(markdown).write()
}
