// deploy-without-rebuild: a job that ships what Nx built from the shared cache, where something
// other than trusted CI can write that cache (docs/audit-rules.md#deploy-without-rebuild):
//
// | setup             | workspace                                                    | finding |
// | ci-read-write     | any that uses Nx Cloud                                       | high: every trusted branch writes |
// | shared-read-write | any that uses Nx Cloud                                       | high: every run writes |
// | main-only         | a read-write token committed (nx.json, any runner, env file) | high: anyone who reads the repo writes |
// | main-only         | a read-write token secret reaching pull requests or branches | high: those runs write |
// | main-only         | nxCloudId (personal access tokens, workspace ID level)       | medium: who else writes is set in Nx Cloud |
// | main-only         | only trusted CI writes (legacy read-only token, no nxCloudId) | none |
// | off               | -                                                            | none |
//
// Deployments are judged by what a job runs and what leaves the runner (deployCommand and
// DEPLOY_ACTIONS in follow.ts), and a job that ships another job's build is traced through
// needs: to it, whether handed over as an artifact or through actions/cache.

import type { Setup } from '../../../core/types.js'
import type { Context } from '../context.js'
import { type JobNx, isKit, jobNx, jobVar, listWords, own, truthy, viaWords, where } from '../facts/jobs.js'
import { tokenGroups } from '../facts/tokens.js'
import { committedReadWrite, workspacesOf } from '../facts/workspace.js'
import type { Use } from '../follow.js'
import { type Finding, defineRule } from '../rule.js'
import type { Job, Step, Workflow } from '../workflow.js'

export const deployWithoutRebuild = defineRule({
  id: 'deploy-without-rebuild',
  severity: 'high',
  title: 'A deploy job ships what Nx built from a cache that something other than trusted CI can write',
  varies: true,
  description:
    'A deploy or publish job that builds with Nx from the shared cache ships whatever outputs the cache holds for that hash; whoever can write the cache decides what is shipped. Nx Cloud says to skip the cache when making a deployment artifact, in every setup.',
  workflow: (w, ctx, setup) => {
    if (setup !== 'off')
      for (const d of deployJobs(w, ctx))
        ctx.deploys.push({ ...d, file: own(d.file), job: own(d.job), via: d.via === null ? null : own(d.via), setup })
    return []
  },
  repo: ctx => judge(ctx)
})

/** A job that ships what was built from the cache, as gathered from its workflow. */
export interface DeployJob {
  file: string
  line: number
  job: string
  why: string
  /** The job that built it (artifact or cache handed over), or null when the job builds itself. */
  builder: string | null
  via: string | null
  setup: Setup
}

const REBUILD =
  "run the kit in this job with 'skip-cache: true' (or 'rebuild-command'), or add --skip-nx-cache / NX_SKIP_NX_CACHE: true to its Nx commands"

function judge(ctx: Context): Finding[] {
  if (ctx.deploys.length === 0) return []
  const workspaces = workspacesOf(ctx)
  const cloud =
    ctx.cloudUse !== null || workspaces.some(ws => ws.config.cloudId !== '' || ws.config.accessToken !== '' || ws.config.url !== '')
  if (!cloud) return []
  const committed = workspaces.flatMap(ws => committedReadWrite(ctx, ws))
  const reaching = tokenGroups(ctx).filter(
    g =>
      !g.recipe &&
      (g.rule === 'untrusted-trigger-token' || (g.rule === 'inherited-env-token' && (g.severity === 'high' || g.severity === 'medium')))
  )
  const cloudId = workspaces.find(ws => ws.config.cloudId !== '')
  const out: Finding[] = []
  for (const d of ctx.deploys) {
    const what = d.builder
      ? `Job '${d.job}' ${d.why}: what job '${d.builder}' built with the cache`
      : `Job '${d.job}' ${d.why} after building with Nx${viaWords(d.via)}`
    const rebuild = d.builder ? REBUILD.replace('in this job', `in job '${d.builder}'`) : REBUILD
    const at = { rule: 'deploy-without-rebuild' as const, file: d.file, line: d.line }
    if (d.setup === 'ci-read-write' || d.setup === 'shared-read-write') {
      out.push({
        ...at,
        severity: 'high',
        message:
          d.setup === 'ci-read-write'
            ? `${what}, under ci-read-write, where every trusted branch can write the cache, so it may ship outputs restored from a pull request's build.`
            : `${what}, under shared-read-write, where every run, pull requests included, writes the cache, so it may ship outputs a pull request put there.`,
        fix: `Rebuild before deploying: ${rebuild}.`
      })
      continue
    }
    if (committed.length > 0) {
      out.push({
        ...at,
        severity: 'high',
        message: `${what}, and ${listWords(committed)} ${committed.length === 1 ? 'commits' : 'commit'} a read-write Nx Cloud token: anyone who can read the repository can write the cache this job ships from.`,
        fix: `Rebuild before deploying: ${rebuild}; and revoke the committed token (commit a read-only one, keep the read-write token in a secret).`
      })
    } else if (reaching.length > 0) {
      const runs = [...new Set(reaching.flatMap(g => (g.runs.length > 0 ? g.runs : g.triggers)))]
      out.push({
        ...at,
        severity: 'high',
        message: `${what}, and the Nx Cloud token ${reaching[0].entry.name} (${where(reaching[0].entry.loc)}) reaches ${listWords(runs)}: those runs can write the cache this job ships from, so it is not only trusted CI that decides what is deployed.`,
        fix: `Rebuild before deploying: ${rebuild}; and give the read-write token only to runs of protected branches (an environment secret, or the kit's read-write-token input).`
      })
    } else if (cloudId) {
      out.push({
        ...at,
        severity: 'medium',
        message: `${what}. ${cloudId.file} has nxCloudId: besides CI, personal access tokens (read-write by default, from nx login) and the workspace ID access level, which no file shows, may write the cache this job ships from.`,
        fix: `Rebuild before deploying: ${rebuild}. Or, in Nx Cloud, set personal access tokens and the workspace ID access level to read-only, so that only CI writes.`
      })
    }
  }
  return out
}

function deployWords(w: Workflow, job: Job, steps: { step: Step; use: Use }[], builds: boolean): string | null {
  const runs = steps.flatMap(s => s.use.deploys)
  if (runs.length > 0) return runs[0]
  if (!builds) return null
  // An Nx executor that pushes an image when an environment variable says so (@nx-tools/nx-container's INPUT_PUSH).
  const pushes = (env: { name: string; value: string }[]): boolean =>
    env.some(e => e.name === 'INPUT_PUSH' && (truthy(e.value) || e.value.includes('${{')))
  if (pushes([...w.env, ...job.env]) || steps.some(s => s.use.nx.length > 0 && pushes(s.step.env)))
    return 'pushes a container image (an Nx executor with INPUT_PUSH)'
  // A job under an environment deploys, unless what it runs says it ships nothing (nx release
  // --skip-publish versions and tags; --dry-run rehearses).
  if (steps.some(s => s.use.nx.some(n => /\bnx\s+release\b[^;&|]*\s--skip-publish\b|\s--dry-run\b/.test(n.command)))) return null
  const env = job.environmentName ?? ''
  if (env.trim() !== '' && !env.includes('${{')) return `deploys to the environment '${env.trim()}'`
  if (job.environment && env === '') return 'deploys to an environment'
  return null
}

function deployJobs(w: Workflow, ctx: Context): Omit<DeployJob, 'setup'>[] {
  const out: Omit<DeployJob, 'setup'>[] = []
  // Job ids as GitHub matches them in needs:, whatever their case.
  const byId = new Map(w.jobs.map(j => [j.id.toLowerCase(), j]))
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
    const why = deployWords(w, job, nx.steps, nx.runsNx)
    if (why === null) continue
    let builder: Job | null = null
    if (nx.runsNx) {
      if (!fromCache(job, nx)) continue
    } else {
      // It ships what another job built: follow needs: to a job that uploads the artifact it
      // downloads, or saves the actions/cache entry (same path and key) it restores.
      const downloads = nx.steps.flatMap(s => s.use.downloads)
      const caches = nx.steps.flatMap(s => s.use.caches)
      if (downloads.length === 0 && caches.length === 0) continue
      const seen = new Set<string>()
      const queue = [...(job.needs ?? [])]
      while (queue.length > 0 && builder === null) {
        const id = (queue.shift() as string).toLowerCase()
        const dep = byId.get(id)
        if (!dep || seen.has(id)) continue
        seen.add(id)
        const depNx = jobNx(w, dep, ctx)
        const uploads = depNx.steps.flatMap(s => s.use.uploads)
        const match =
          (downloads.length > 0 && uploads.some(u => u === '*' || downloads.some(d => d === '*' || d === u))) ||
          depNx.steps.some(s => s.use.caches.some(c => caches.includes(c)))
        if (match && fromCache(dep, depNx)) builder = dep
        else queue.push(...(dep.needs ?? []))
      }
      if (builder === null) continue
    }
    out.push({ file: w.file, line: job.loc.line, job: job.id, why, builder: builder?.id ?? null, via: nx.via })
  }
  return out
}
