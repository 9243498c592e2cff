// The rebuild step's check: reads the output the rebuild command printed (captured by the
// composite step through tee) and fails the step if any task came from a cache, or if the output
// shows Nx Cloud took part (then Nx Agents may have run the tasks, out of this output's sight). Its own bundle
// (dist/rebuild/index.js), so the token step does not grow.
//
// Environment: NCA_REBUILD_LOG, the captured output's path. Outputs: `rebuilt`, the tasks that ran,
// space-separated. The job summary leads with the verdict (summary.ts), on a failure too.

import * as core from '../action-io/core.js'
import { readFileSync } from 'node:fs'
import { analyseRebuildOutput, cacheUseError, cloudUseError, freshCount } from './output.js'
import { rebuildFailureSummary, rebuildSummary } from './summary.js'

export async function run(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const path = env.NCA_REBUILD_LOG ?? ''
  let text: string
  try {
    if (path === '') throw new Error('NCA_REBUILD_LOG is not set')
    text = readFileSync(path, 'utf8')
  } catch (e) {
    const message = `The pre-deploy rebuild's output could not be read (${e instanceof Error ? e.message : String(e)}), so it cannot be verified: deploy nothing from this job.`
    core.setFailed(message)
    if (env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(rebuildFailureSummary(message)).write()
    return
  }
  const report = analyseRebuildOutput(text)
  // Cache evidence first: it names what a deploy would ship. Either fails the step.
  const error = cacheUseError(report) ?? cloudUseError(report)
  core.setOutput('rebuilt', report.ran.join(' '))
  if (error !== null) core.setFailed(error)
  else if (freshCount(report) === 0) {
    core.warning('The pre-deploy rebuild printed no Nx task: nothing was built, or the command is not Nx, so nothing could be verified.')
  } else {
    core.info(`nx-cloud-access: built fresh, no cache used: ${report.ran.join(', ') || `${report.unnamed} task(s)`}`)
    if (report.unnamed > 0) {
      core.notice(
        `Nx counted ${report.unnamed} task(s) built fresh without naming them (--output-style=summary), so \`rebuilt\` cannot list them: use another output style to have them named.`
      )
    }
  }
  if (env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(rebuildSummary(report, error)).write()
}
