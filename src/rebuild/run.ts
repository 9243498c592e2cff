// The rebuild step's check: reads the output the rebuild command printed (captured by the
// composite step through tee) and fails the step if any task came from a cache. Its own bundle
// (dist/rebuild/index.js), so the token step does not grow.
//
// Environment: NCA_REBUILD_LOG, the captured output's path. Outputs: `rebuilt`, the tasks that ran,
// space-separated. The job summary lists them.

import * as core from '../action-io/core.js'
import { readFileSync } from 'node:fs'
import { analyseRebuildOutput, cacheUseError } from './output.js'
import { escapeHtml } from '../core/html.js'

export async function run(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const path = env.NCA_REBUILD_LOG ?? ''
  let text: string
  try {
    if (path === '') throw new Error('NCA_REBUILD_LOG is not set')
    text = readFileSync(path, 'utf8')
  } catch (e) {
    core.setFailed(
      `The pre-deploy rebuild's output could not be read (${e instanceof Error ? e.message : String(e)}), so it cannot be verified: deploy nothing from this job.`
    )
    return
  }
  const report = analyseRebuildOutput(text)
  const error = cacheUseError(report)
  core.setOutput('rebuilt', report.ran.join(' '))
  if (error !== null) core.setFailed(error)
  else if (report.ran.length === 0) {
    core.warning('The pre-deploy rebuild printed no Nx task: nothing was built, or the command is not Nx, so nothing could be verified.')
  } else core.info(`nx-cloud-access: built fresh, no cache used: ${report.ran.join(', ')}`)

  if (env.GITHUB_STEP_SUMMARY) {
    const s = core.summary.addHeading(
      error === null ? `Pre-deploy rebuild: ${report.ran.length} task(s) built fresh` : 'Pre-deploy rebuild: served from a cache',
      3
    )
    if (error !== null) s.addRaw(`<p>${escapeHtml(error)}</p>`, true)
    else s.addRaw('<p>No task was served from a cache (NX_SKIP_NX_CACHE=true for the rest of the job).</p>', true)
    if (report.ran.length > 0) s.addList(report.ran.map(t => `<code>${escapeHtml(t)}</code>`))
    await s.write()
  }
}
