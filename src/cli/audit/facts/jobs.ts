// Facts about jobs: what a job runs (Nx, through scripts and local actions), whether the kit runs
// before Nx, which steps use the cache, where a token sits in env:, and which Nx steps pull requests
// run with no token. Worked out once per job and shared by the rules.

import { TOKEN_VARIABLES } from '../../../core/policy.js'
import { parseSetup } from '../../../core/inputs.js'
import type { Setup } from '../../../core/types.js'
import type { Context } from '../context.js'
import { condition } from '../expressions.js'
import { type Use, commandLines, lineRunsNx } from '../follow.js'
import type { Entry, Job, Loc, Step, Workflow } from '../workflow.js'

export const UNTRUSTED_TRIGGERS = ['pull_request_target', 'workflow_run', 'issue_comment']

export const KIT = /^[^/@\s]+\/nx-cloud-access(?:\/[^@]*)?@(.*)$/

/**
 * Does a value read a secret in an expression (`${{ … secrets.X … }}`)? One pass: each `${{`
 * is taken with what follows it up to the next `}`, and the pieces do not overlap. The regex
 * /\$\{\{[^}]*\bsecrets\./ said the same but rescanned the rest of the value from every `${{`
 * that no `}` closes: quadratic, 19 s on 240 KB of `${{ `.
 */
export function readsSecret(value: string): boolean {
  for (const m of value.matchAll(/\$\{\{[^}]*/g)) if (/\bsecrets\./.test(m[0])) return true
  return false
}

export function isKit(step: Step): boolean {
  return KIT.test(step.uses)
}

/** Does the step run Nx itself (its run: script, or the kit's rebuild-command)? Scripts and local actions are followed apart (follow.ts). */
export function runsNx(step: Step): boolean {
  let known = runsNxOf.get(step)
  if (known === undefined) {
    known = isKit(step) ? (step.with.get('rebuild-command')?.value ?? '').trim() !== '' : commandLines(step.run).some(lineRunsNx)
    runsNxOf.set(step, known)
  }
  return known
}

/** runsNx() of each step, as the rules ask it of the same step several times. */
const runsNxOf = new WeakMap<Step, boolean>()

export function tokenEntries(env: Entry[]): Entry[] {
  return env.filter(e => (TOKEN_VARIABLES as readonly string[]).includes(e.name) && e.value.trim() !== '')
}

/**
 * The setup a workflow is judged under: --setup, else the `setup:` of its first kit step that
 * has one (the token step's or the cache action's: they take the same setups), else main-only.
 */
export function workflowSetup(w: Workflow, override: Setup | null): Setup {
  if (override) return override
  for (const j of w.jobs) {
    for (const s of j.steps) {
      const setup = s.with.get('setup')
      if (!isKit(s) || !setup) continue
      try {
        return parseSetup(setup.value)
      } catch {
        return 'main-only'
      }
    }
  }
  return 'main-only'
}

export const where = (l: Loc): string => `${l.file}:${l.line}`

/**
 * A copy of a string kept past its workflow (in a finding, a candidate): V8 keeps a substring's
 * whole parent string alive, and a YAML scalar is a substring of its file's text.
 */
export function own(text: string): string {
  return text.length < 13 ? text : Buffer.from(text, 'utf8').toString('utf8')
}

/** Does a workflow call a local reusable workflow, or can it be called as one? */
export function isLinked(w: Workflow): boolean {
  return w.triggers.includes('workflow_call') || w.jobs.some(j => isLocalWorkflow(j.uses.split('@', 1)[0]))
}

export function isLocalWorkflow(uses: string): boolean {
  return uses.startsWith('./.github/workflows/')
}

export function truthy(v: string | undefined): boolean {
  return (v ?? '').trim().toLowerCase() === 'true'
}

/** A variable as a job's Nx steps see it: the job's env: over the workflow's. */
export function jobVar(w: Workflow, job: Job, name: string): string | undefined {
  return (job.env.find(e => e.name === name) ?? w.env.find(e => e.name === name))?.value
}

/** Nx commands that run no task, so use no cache (`nx format:check`, `nx show projects`, `nx graph` …). */
const NO_TASK =
  /(?:^|[\s;&|(`/])nx(?:@\S+)?\s+(?:format(?::\w+)?|show|graph|dep-graph|report|list|reset|migrate|g|generate|daemon|login|logout|connect(?:-to-nx-cloud)?|init|add|repair|sync(?::check)?|watch|--version|-v)(?=$|[\s;&|)`])/

/** Does an Nx command skip the cache (read and write) — or at least the remote one? */
export function skipsCache(command: string, env: Entry[], remoteToo: boolean): boolean {
  if (/--skip-nx-cache\b|--skipNxCache\b/.test(command) || truthy(env.find(e => e.name === 'NX_SKIP_NX_CACHE')?.value)) return true
  if (!/\bnx-cloud\b/.test(command) && NO_TASK.test(command)) return true
  if (!remoteToo) return false
  return (
    /--skip-remote-cache\b|--skipRemoteCache\b|--no-cloud\b|--no-remote-cache\b/.test(command) ||
    truthy(env.find(e => e.name === 'NX_SKIP_REMOTE_CACHE')?.value) ||
    truthy(env.find(e => e.name === 'NX_NO_CLOUD')?.value)
  )
}

/**
 * A step that turns Nx Cloud off for the steps after it by writing NX_NO_CLOUD=true to $GITHUB_ENV:
 * 'always', or 'when-empty' when the write is conditional (typically on the token being empty, so
 * runs without a token, such as a fork's pull request, run without Nx Cloud).
 */
export function noCloudWrite(step: Step): 'always' | 'when-empty' | null {
  const run = step.run
  if (!/NX_NO_CLOUD\s*=\s*["']?(?:true|1)\b/.test(run) || !/GITHUB_ENV/.test(run)) return null
  const conditional = (step.if ?? '').trim() !== '' || /\bif\s|\[\s|\btest\s|&&|\|\|/.test(run)
  return conditional ? 'when-empty' : 'always'
}
export interface JobNx {
  /** Steps with what they run, local actions and scripts followed. */
  steps: { step: Step; use: Use }[]
  runsNx: boolean
  /** How the job reaches Nx when no step runs it directly: the first script or local action. */
  via: string | null
  /** Every Nx command of the job skips the cache (remoteToo: or the remote cache), so no token is used. */
  cacheUnused: (remoteToo: boolean) => boolean
}

export function jobNx(w: Workflow, job: Job, ctx: Context): JobNx {
  const known = ctx.jobs.get(job)
  if (known) return known
  const nx = workJobNx(w, job, ctx)
  ctx.jobs.set(job, nx)
  return nx
}

function workJobNx(w: Workflow, job: Job, ctx: Context): JobNx {
  const steps = ctx.follow.jobSteps(job)
  const nxSteps = steps.filter(s => s.use.nx.length > 0 || runsNx(s.step))
  const direct = nxSteps.some(s => runsNx(s.step) || s.use.nx.some(n => n.via === null))
  const via = direct ? null : (nxSteps.flatMap(s => s.use.nx).find(n => n.via !== null)?.via ?? null)
  const jobEnv = [...job.env, ...w.env.filter(e => !job.env.some(j => j.name === e.name))]
  return {
    steps,
    runsNx: nxSteps.length > 0,
    via,
    cacheUnused: remoteToo => {
      if (remoteToo && truthy(jobVar(w, job, 'NX_NO_CLOUD'))) return true
      if (nxSteps.length === 0 || nxSteps.some(s => isKit(s.step))) return false
      // Steps after one that writes NX_NO_CLOUD=true to $GITHUB_ENV run without Nx Cloud.
      const offFrom = steps.findIndex(s => noCloudWrite(s.step) === 'always')
      const off = (s: { step: Step }): boolean => remoteToo && offFrom >= 0 && steps.findIndex(x => x.step === s.step) > offFrom
      return nxSteps.every(s => off(s) || s.use.nx.every(n => skipsCache(n.command, [...s.step.env, ...jobEnv], remoteToo)))
    }
  }
}

/** Does the job run the kit before its first Nx command? Then the kit's exports win over env:. */
export function kitBeforeNx(nx: JobNx): boolean {
  for (const { step, use } of nx.steps) {
    if (isKit(step)) return true
    if (runsNx(step) || use.nx.length > 0) return false
  }
  return true
}

export function viaWords(via: string | null): string {
  if (via === null) return ''
  return via.startsWith('action ') ? ` (through the local action ${via.slice(7)})` : ` (through the package.json script ${via})`
}

export function listWords(words: string[]): string {
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`
}

/** What comes before the first `@` (a `uses:` without its ref). Not /@.*$/: quadratic on many `@`. */
export function beforeAt(uses: string): string {
  const at = uses.indexOf('@')
  return at < 0 ? uses : uses.slice(0, at)
}

/**
 * A kit step that talks to Nx Cloud: not the cache action (`…/nx-cloud-access/cache@…`, which
 * never uses a key) and not a token step pointed at a self-hosted cache (self-hosted-cache-url).
 */
export function usesNxCloud(step: Step): boolean {
  const m = KIT.exec(step.uses)
  if (!m) return false
  let path = beforeAt(step.uses).replace(/^[^/]+\/nx-cloud-access/, '')
  // Trailing slashes dropped by hand: /\/+$/ retries from every slash of a run (quadratic).
  let end = path.length
  while (end > 0 && path[end - 1] === '/') end--
  path = path.slice(0, end)
  if (path === '/cache') return false
  return (step.with.get('self-hosted-cache-url')?.value ?? '').trim() === ''
}

/** Does any job of the workflow use the kit? Once per workflow, not once per job (10,000 jobs of 10,000 steps). */
export function usesKit(w: Workflow): boolean {
  let known = usesKitOf.get(w)
  if (known === undefined) {
    known = w.jobs.some(j => j.steps.some(isKit))
    usesKitOf.set(w, known)
  }
  return known
}

const usesKitOf = new WeakMap<Workflow, boolean>()

/** The pull-request events whose runs from a fork (or from Dependabot) get no secrets, or (pull_request_target) do. */
export const FORK_EVENTS = ['pull_request', 'pull_request_review', 'pull_request_review_comment', 'pull_request_target']

/** Pull-request events that start a workflow: its own triggers, and for a reusable one its local callers'. */
export function forkEvents(w: Workflow, ctx: Context, seen: Set<string>): string[] {
  if (seen.has(w.file)) return []
  seen.add(w.file)
  const out = w.triggers.filter(t => FORK_EVENTS.includes(t))
  if (w.triggers.includes('workflow_call')) {
    for (const { caller } of ctx.callers.get(w.file) ?? []) out.push(...forkEvents(caller, ctx, seen))
  }
  return [...new Set(out)]
}

/** An Nx step that a pull request runs with no Nx Cloud token: Nx then connects through nxCloudId (docs/POLICY.md#no-token). */
export interface IdUse {
  /** The folders its Nx commands run in. */
  dirs: string[]
  file: string
  job: string
  line: number
  events: string[]
  /** The workflow uses the kit somewhere. */
  kit: boolean
  /** The workflow's place in file order (linked workflows are judged last). */
  ordinal?: number
}

/**
 * The steps of a job that run Nx, with the remote cache in use, on a pull request that has no
 * token: GitHub gives a fork's pull_request run no secrets, so a `${{ secrets.X }}` token is empty
 * there; pull_request_target gets them. A token written out (or from vars) counts as given. Steps
 * after a kit step are left to the kit, which runs a tokenless run without Nx Cloud unless its
 * workspace-id-access input declares the level read-only.
 */
export function tokenlessNxSteps(w: Workflow, job: Job, steps: { step: Step; use: Use }[], events: string[], ctx: Context): IdUse[] {
  if (job.uses !== '') return []
  // The pull-request events the job's if: lets through.
  events = events.filter(
    ev => condition(job.if ?? '', { event: ev, ref: 'refs/pull/1/merge', baseRef: 'main', headRef: 'feature' }) !== false
  )
  if (events.length === 0) return []
  const out: IdUse[] = []
  const jobEnv = [...job.env, ...w.env.filter(e => !job.env.some(j => j.name === e.name))]
  const kit = usesKit(w)
  for (const { step, use } of steps) {
    // The kit decides such runs; a step that turns Nx Cloud off when the token is empty does too.
    if (isKit(step) || noCloudWrite(step) !== null) break
    if (use.nx.length === 0) continue
    const env = [...step.env, ...ctx.follow.actionSteps(step).flatMap(s => s.env), ...jobEnv]
    if (truthy(env.find(e => e.name === 'NX_NO_CLOUD')?.value)) continue
    const cached = use.nx.filter(n => !skipsCache(n.command, env, true))
    if (cached.length === 0) continue
    const tokens = tokenEntries(env)
    const tokenless = events.filter(ev => !tokens.some(e => !readsSecret(e.value) || ev === 'pull_request_target'))
    if (tokenless.length === 0) continue
    out.push({
      dirs: [...new Set(cached.map(n => own(n.dir)))],
      file: own(w.file),
      job: own(job.id),
      line: (step.loc ?? job.loc).line,
      events: tokenless.map(own),
      kit
    })
  }
  return out
}
