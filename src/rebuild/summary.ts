// The rebuild check's verdict → its part of the job summary, in the shape of every step of the kit
// (core/markdown.ts): the step's name, the verdict, the cause, what to fix, then the tasks. Pure.
// Nx 24 writes its own "Nx Run Report" into the same step's summary first ("### ✅ All tasks
// succeeded", which is true of a rebuild served from a cache too), so the kit's part says after it,
// under its own h2, whether the build may be deployed: ❌ on a failure (a cache served a task, or
// the output shows Nx Cloud took part), ✅ on a pass, ⚠️ when nothing could be verified.

import { type Inline, type SummarySection, renderStepSummary } from '../core/markdown.js'
import { freshCount, type RebuildReport } from './output.js'

/** The step's name in the job summary. */
export const REBUILD_TITLE = 'Nx Cloud Access: pre-deploy rebuild'

const tasks = (n: number): string => `${n} task${n === 1 ? '' : 's'}`

export function rebuildSummary(r: RebuildReport, error: string | null): string {
  const fresh: Inline[] = r.ran.map(t => ({ code: t }))
  if (r.unnamed > 0) fresh.push(`${tasks(r.unnamed)} Nx counted but did not name (--output-style=summary prints no task that succeeded)`)
  if (error !== null) {
    const served = Math.max(new Set(r.cached.map(c => c.task ?? `line ${c.line}`)).size, r.summaryHits)
    const sections: SummarySection[] = [
      { heading: 'Served from a cache', items: r.cached.map(c => [{ code: c.task ?? `line ${c.line}` }, ` [${c.marker}]`]) },
      { heading: "Counted as cache hits by Nx's run summary", items: r.cached.length > 0 ? [] : r.summaryLines },
      { heading: 'Signs of Nx Cloud in the output', items: r.cloud.map(c => [`line ${c.line}: `, { code: c.text }]) },
      { heading: 'Built fresh', items: fresh }
    ]
    if (served === 0) {
      // No cache hit, but Nx Cloud took part: its client, not this job, decided where the tasks ran.
      return renderStepSummary({
        title: REBUILD_TITLE,
        verdict: '❌ Not verified: Nx Cloud took part, deploy nothing',
        cause:
          "The output shows Nx Cloud took part: its client decides whether tasks run on Nx Agents, and an agent's cache use need not show in this job's output.",
        fix: 'Remove whatever turns Nx Cloud back on in the command (NX_NO_CLOUD=false, nx-cloud record, start-ci-run): the step runs it with NX_NO_CLOUD=true and NX_CLOUD_DISTRIBUTED_EXECUTION=false.',
        sections
      })
    }
    return renderStepSummary({
      title: REBUILD_TITLE,
      verdict: `❌ Failed: ${tasks(served)} served from a cache, deploy nothing`,
      cause: "Nx's own run report may say its tasks succeeded: they did, from a cache, not built by this job.",
      fix: 'Find what overrides NX_SKIP_NX_CACHE=true (the command sets it, or a tool ignores it): remove the override, or pass --skip-nx-cache.',
      sections
    })
  }
  const n = freshCount(r)
  if (n === 0) {
    return renderStepSummary({
      title: REBUILD_TITLE,
      verdict: '⚠️ Nothing verified: the output names no Nx task',
      cause: 'The rebuild command printed no Nx task: nothing was built, or the command is not Nx.',
      fix: 'Make rebuild-command an Nx command that builds what is deployed (nx run-many -t build).'
    })
  }
  return renderStepSummary({
    title: REBUILD_TITLE,
    verdict: `✅ Passed: ${tasks(n)} built fresh, none from a cache`,
    cause:
      'No task was served from a cache (NX_SKIP_NX_CACHE=true for the rest of the job), and every task ran on this runner (Nx Cloud off for the rebuild: NX_NO_CLOUD=true, NX_CLOUD_DISTRIBUTED_EXECUTION=false).',
    sections: [{ heading: 'Built fresh', items: fresh }]
  })
}

/** The check could not run: what failed, and that nothing may be deployed. */
export function rebuildFailureSummary(message: string): string {
  return renderStepSummary({
    title: REBUILD_TITLE,
    verdict: '❌ Failed: the rebuild could not be verified, deploy nothing',
    cause: message,
    fix: 'Re-run the job; deploy nothing from this run.'
  })
}
