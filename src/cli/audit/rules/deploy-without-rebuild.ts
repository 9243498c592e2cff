// deploy-without-rebuild: a job that ships what Nx built from the shared cache, where something
// other than trusted CI can write that cache.

import type { Context } from '../context.js'
import { type JobNx, isKit, jobNx, jobVar, truthy, viaWords } from '../facts/jobs.js'
import type { Use } from '../follow.js'
import { type Finding, defineRule } from '../rule.js'
import type { Job, Step, Workflow } from '../workflow.js'

export const deployWithoutRebuild = defineRule({
  id: 'deploy-without-rebuild',
  severity: 'high',
  title: 'Under ci-read-write, a deploy job that does not rebuild with the cache skipped',
  description:
    'A deploy or publish job that builds with Nx from the shared cache ships whatever outputs the cache holds for that hash; whoever can write the cache decides what is shipped.',
  workflow: (w, ctx, setup) => (setup === 'ci-read-write' ? deployJobs(w, ctx) : [])
})

/**
 * A deploy: what the job runs publishes or deploys, or — for a job that builds with Nx itself — a
 * protected environment (a name, not an expression that may be empty) gates it.
 */
function deployWords(job: Job, steps: { step: Step; use: Use }[], builds: boolean): string | null {
  const runs = steps.flatMap(s => s.use.deploys)
  if (runs.length > 0) return runs[0]
  if (!builds) return null
  const env = job.environmentName ?? ''
  if (env.trim() !== '' && !env.includes('${{')) return `deploys to the environment '${env.trim()}'`
  if (job.environment && env === '') return 'deploys to an environment'
  return null
}

function deployJobs(w: Workflow, ctx: Context): Finding[] {
  const out: Finding[] = []
  // Job ids as GitHub matches them in needs:, whatever their case.
  const byId = new Map(w.jobs.map(j => [j.id.toLowerCase(), j]))
  const fix =
    "Rebuild before deploying: run the kit in this job with 'skip-cache: true' (or 'rebuild-command'), or add --skip-nx-cache / NX_SKIP_NX_CACHE: true to its Nx commands."
  /** Does the job build with Nx from the cache (not rebuilt, remote cache in use)? */
  const fromCache = (job: Job, nx: JobNx): boolean => {
    if (!nx.runsNx) return false
    if (truthy(jobVar(w, job, 'NX_SKIP_NX_CACHE'))) return false
    const kitRebuild = job.steps.some(
      s => isKit(s) && (truthy(s.with.get('skip-cache')?.value) || (s.with.get('rebuild-command')?.value ?? '').trim() !== '')
    )
    if (kitRebuild) return false
    return !nx.cacheUnused(true)
  }
  for (const job of w.jobs) {
    if (job.uses !== '') continue
    const nx = jobNx(w, job, ctx)
    const why = deployWords(job, nx.steps, nx.runsNx)
    if (why === null) continue
    let built = ''
    if (nx.runsNx) {
      if (!fromCache(job, nx)) continue
    } else {
      // It ships what another job built: follow needs: to a job that uploads the artifact it downloads.
      const downloads = nx.steps.flatMap(s => s.use.downloads)
      if (downloads.length === 0) continue
      const seen = new Set<string>()
      const queue = [...(job.needs ?? [])]
      let builder: Job | null = null
      while (queue.length > 0 && builder === null) {
        const id = (queue.shift() as string).toLowerCase()
        const dep = byId.get(id)
        if (!dep || seen.has(id)) continue
        seen.add(id)
        const depNx = jobNx(w, dep, ctx)
        const uploads = depNx.steps.flatMap(s => s.use.uploads)
        const match = uploads.some(u => u === '*' || downloads.some(d => d === '*' || d === u))
        if (match && fromCache(dep, depNx)) builder = dep
        else queue.push(...(dep.needs ?? []))
      }
      if (builder === null) continue
      built = ` what job '${builder.id}' built with the cache`
    }
    out.push({
      rule: 'deploy-without-rebuild',
      severity: 'high',
      file: w.file,
      line: job.loc.line,
      message: built
        ? `Job '${job.id}' ${why}:${built}, under ci-read-write, where every trusted branch can write the cache, so it may ship outputs restored from a pull request's build.`
        : `Job '${job.id}' ${why} after building with Nx${viaWords(nx.via)} under ci-read-write, where every trusted branch can write the cache, so it may ship outputs restored from a pull request's build.`,
      fix: built ? fix.replace('in this job', `in job '${built.match(/'([^']+)'/)?.[1]}'`) : fix
    })
  }
  return out
}
