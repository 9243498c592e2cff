// Facts about Nx Cloud tokens in env: (workflow, job and step level) of jobs that run Nx. One key
// can reach many jobs (an anchored block, a workflow-level env:): the candidates of every workflow
// are gathered, then merged into one group per key, which the strongest rule takes
// (untrusted-trigger-token, then step-env-token, then inherited-env-token).

import type { Context } from '../context.js'
import { condition } from '../expressions.js'
import { callerRuns, rate, RATING_ORDER, runsOf } from '../reach.js'
import type { Severity } from '../rule.js'
import type { Entry, Workflow } from '../workflow.js'
import { UNTRUSTED_TRIGGERS, jobNx, kitBeforeNx, own, readsSecret, tokenEntries, truthy, viaWords } from './jobs.js'

export interface Candidate {
  rule: 'untrusted-trigger-token' | 'step-env-token' | 'inherited-env-token'
  severity: Severity
  entry: Entry
  /** The job, with how it reaches Nx when not directly ("through the package.json script test:pr"). */
  job: string
  via: string | null
  triggers: string[]
  /** The runs an inherited token reaches ("pull requests (pull_request)"). */
  runs: string[]
  /** Nx Cloud's recipe: the read-write token is an environment's secret (see envCandidates). */
  recipe?: true
}

export const PRECEDENCE: Candidate['rule'][] = ['untrusted-trigger-token', 'step-env-token', 'inherited-env-token']

export function envCandidates(w: Workflow, ctx: Context): Candidate[] {
  const out: Candidate[] = []
  const untrusted = w.triggers.filter(t => UNTRUSTED_TRIGGERS.includes(t))
  const ownRuns = runsOf(w.on ?? [])
  // Jobs that read a secret under an environment (Nx Cloud's recipe keeps the read-write token there).
  const recipeJobs = w.jobs.filter(
    j => j.environment && (j.environmentName ?? '').trim() !== '' && !(j.environmentName ?? '').includes('${{')
  )
  for (const job of w.jobs) {
    // A job that runs no Nx command is not judged for tokens in its env (a deliberate choice: see docs/audit-rules.md);
    // jobs that call a reusable workflow have no env: of their own (see reusableCalls).
    const nx = jobNx(w, job, ctx)
    if (!nx.runsNx) continue
    const secretRule = (e: Entry): boolean => untrusted.length > 0 && readsSecret(e.value)
    const base = { job: job.id, via: nx.via, triggers: untrusted, runs: [] as string[] }
    for (const { step } of nx.steps) {
      for (const s of [step, ...ctx.follow.actionSteps(step)]) {
        // A token beside NX_NO_CLOUD: true is never used.
        if (truthy(s.env.find(x => x.name === 'NX_NO_CLOUD')?.value)) continue
        for (const e of tokenEntries(s.env)) {
          out.push({ ...base, rule: secretRule(e) ? 'untrusted-trigger-token' : 'step-env-token', severity: 'high', entry: e })
        }
      }
    }
    const jobNames = new Set(job.env.map(e => e.name))
    // Written to $GITHUB_ENV by a step, a token is in the environment of the steps after it, as a job's env: is.
    const inherited = [...job.env, ...w.env.filter(e => !jobNames.has(e.name)), ...job.steps.flatMap(s => s.githubEnv ?? [])]
    const kitFirst = kitBeforeNx(nx)
    for (const e of tokenEntries(inherited)) {
      if (secretRule(e)) {
        out.push({ ...base, rule: 'untrusted-trigger-token', severity: 'high', entry: e })
        continue
      }
      // The kit overrides it; Nx Cloud is off (NX_NO_CLOUD); or no Nx command of the job uses the cache.
      if (kitFirst || nx.cacheUnused(true)) continue
      // Only the runs the job's if: lets through (github.event_name, github.ref …, evaluated where they can be known).
      const runs = [...ownRuns, ...callerRuns(w, ctx.callers, name => secretNamesOf(e.value).has(name))].filter(
        r => condition(job.if ?? '', r) !== false
      )
      const { rating, words } = rate(e.value, runs)
      if (rating === null) continue
      // Nx Cloud's GitHub recipe: the same secret read in a job under an environment is the
      // environment's (read-write) secret there; this job, with no environment, gets the repository
      // secret, which the recipe makes the read-only token. Not high: the finding says that it must be.
      const recipe =
        !job.environment &&
        readsSecret(e.value) &&
        recipeJobs.some(j => [...j.env, ...w.env].some(x => x.name === e.name && x.value.trim() === e.value.trim()))
      out.push({
        ...base,
        rule: 'inherited-env-token',
        severity: recipe && rating === 'high' ? 'medium' : rating,
        entry: e,
        runs: words,
        ...(recipe ? { recipe: true } : {})
      })
    }
  }
  return out
}

function secretNamesOf(value: string): Set<string> {
  return new Set([...value.matchAll(/\bsecrets\.([A-Za-z0-9_]+)/g)].map(m => m[1]))
}

/** A candidate as kept until the end: the entry's name and place, nothing of its workflow's text. */
export function ownCandidate(c: Candidate): Candidate {
  return {
    ...c,
    entry: { name: own(c.entry.name), value: '', loc: { ...c.entry.loc, file: own(c.entry.loc.file) } },
    job: own(c.job),
    via: c.via === null ? null : own(c.via),
    triggers: c.triggers.map(own),
    runs: c.runs.map(own)
  }
}

/** One key and the jobs it reaches, under the rule that takes it. */
export interface TokenGroup {
  rule: Candidate['rule']
  severity: Severity
  entry: Entry
  jobs: Candidate[]
  triggers: string[]
  runs: string[]
  /**
   * Nx Cloud's own GitHub recipe: the token variable is filled from a secret of the same name that
   * a job of the repository reads under an environment: the environment's secret (read-write) wins
   * there, and every other run gets the repository secret, which must be the read-only token.
   */
  recipe: boolean
}

const merged = new WeakMap<Context, TokenGroup[]>()

/** One group per key: the strongest rule wins, naming every job that reaches the key. Worked out once per audit. */
export function tokenGroups(ctx: Context): TokenGroup[] {
  const known = merged.get(ctx)
  if (known) return known
  const byKey = new Map<string, Candidate[]>()
  for (const c of ctx.candidates) {
    const id = `${c.entry.loc.file}\\u0000${c.entry.loc.offset}`
    // Pushed, not copied: a key aliased into 10,000 jobs has 10,000 candidates.
    const list = byKey.get(id) ?? []
    list.push(c)
    byKey.set(id, list)
  }
  const out: TokenGroup[] = []
  for (const group of byKey.values()) {
    const rule = PRECEDENCE.find(r => group.some(c => c.rule === r)) as Candidate['rule']
    const chosen = group.filter(c => c.rule === rule)
    const seenJobs = new Set<string>()
    const jobs = chosen.filter(c => !seenJobs.has(c.job) && seenJobs.add(c.job) !== undefined)
    const severity =
      RATING_ORDER.slice()
        .reverse()
        .find(r => chosen.some(c => c.severity === r)) ?? 'high'
    out.push({
      rule,
      severity,
      entry: chosen[0].entry,
      jobs,
      triggers: [...new Set(chosen.flatMap(c => c.triggers))],
      runs: [...new Set(chosen.flatMap(c => c.runs))],
      recipe: chosen.some(c => c.recipe === true)
    })
  }
  merged.set(ctx, out)
  return out
}

export function jobWords(jobs: Candidate[]): string {
  const q = jobs.map(j => `'${j.job}'${viaWords(j.via)}`)
  return q.length === 1 ? `job ${q[0]}` : `jobs ${q.slice(0, -1).join(', ')} and ${q[q.length - 1]}`
}
