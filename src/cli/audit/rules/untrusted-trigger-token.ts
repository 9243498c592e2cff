// untrusted-trigger-token: a secret Nx Cloud token handed to a job that pull_request_target,
// workflow_run or issue_comment starts (runs that carry outside code or input, with secrets), in
// env: or passed to a reusable workflow.

import { TOKEN_VARIABLES } from '../../../core/policy.js'
import type { Context } from '../context.js'
import { UNTRUSTED_TRIGGERS, isLocalWorkflow, jobNx, readsSecret, tokenEntries, where } from '../facts/jobs.js'
import { type TokenGroup, jobWords, tokenGroups } from '../facts/tokens.js'
import { type Finding, defineRule } from '../rule.js'
import type { Entry, Workflow } from '../workflow.js'

export const untrustedTriggerToken = defineRule({
  id: 'untrusted-trigger-token',
  severity: 'high',
  title: 'A secret Nx Cloud token handed to a pull_request_target, workflow_run or issue_comment job',
  description:
    "These triggers run with secrets on behalf of code or input from outside the repository's writers; a secret Nx Cloud token there can be read or used to write the cache.",
  workflow: (w, ctx) => reusableCalls(w, ctx),
  repo: ctx =>
    tokenGroups(ctx)
      .filter(g => g.rule === 'untrusted-trigger-token')
      .map(words)
})

function words(g: TokenGroup): Finding {
  const e = g.entry
  return {
    rule: 'untrusted-trigger-token',
    severity: g.severity,
    file: e.loc.file,
    line: e.loc.line,
    message: `${e.name} hands a secret token to ${jobWords(g.jobs)}, triggered by ${g.triggers.join(', ')}: such runs carry code or input from outside the repository's writers and run with secrets.`,
    fix: `Remove ${e.name} from env: and give the secret only to the kit's read-write-token input, which gives these events read-only access.`
  }
}

/**
 * Token variables a (local) reusable workflow fills from secrets, following its own calls: worked
 * out once per workflow. (Per calling job, 100 workflows of 100 jobs that all call each other
 * walked the whole graph 10,000 times: 26 s.)
 */
function secretTokenUses(w: Workflow, ctx: Context): Entry[] {
  let known = ctx.secretTokens.get(w)
  if (!known) {
    known = []
    collectSecretTokens(w, ctx, new Set(), known)
    ctx.secretTokens.set(w, known)
  }
  return known
}

function collectSecretTokens(w: Workflow, ctx: Context, seen: Set<string>, out: Entry[]): void {
  if (seen.has(w.file)) return
  seen.add(w.file)
  for (const job of w.jobs) {
    if (job.uses !== '') {
      const callee = isLocalWorkflow(job.uses) ? ctx.linked.get(job.uses.slice(2)) : undefined
      if (callee && !callee.error) collectSecretTokens(callee, ctx, seen, out)
      continue
    }
    const nx = jobNx(w, job, ctx)
    if (!nx.runsNx) continue
    const envs = [...w.env, ...job.env, ...job.steps.flatMap(s => [s, ...ctx.follow.actionSteps(s)]).flatMap(s => s.env)]
    for (const e of tokenEntries(envs)) if (readsSecret(e.value)) out.push(e)
  }
}

function secretNames(entries: Entry[]): Set<string> {
  const names = new Set<string>()
  for (const e of entries) for (const m of e.value.matchAll(/\bsecrets\.([A-Za-z0-9_]+)/g)) names.add(m[1])
  return names
}

/** Secrets handed from an untrusted trigger to a reusable workflow, at the caller's line. */
function reusableCalls(w: Workflow, ctx: Context): Finding[] {
  const untrusted = w.triggers.filter(t => UNTRUSTED_TRIGGERS.includes(t))
  if (untrusted.length === 0) return []
  const out: Finding[] = []
  for (const job of w.jobs) {
    if (job.uses === '') continue
    const local = isLocalWorkflow(job.uses)
    // A local reusable workflow takes no @ref (GitHub runs it from the caller's commit).
    const callee = local ? ctx.linked.get(job.uses.slice(2)) : undefined
    const uses = callee && !callee.error ? secretTokenUses(callee, ctx) : null
    const fix = `Do not pass secrets from ${untrusted.join(', ')}: call the workflow without them, or give the Nx secret only to the kit's read-write-token input inside it.`
    if (job.secretsInherit && (uses === null ? !local : uses.length > 0)) {
      const seenAt =
        uses && uses.length > 0
          ? ` puts one in ${uses[0].name} (${where(uses[0].loc)})`
          : ' this offline audit cannot read, so every Nx Cloud secret among them reaches code it cannot judge'
      out.push({
        rule: 'untrusted-trigger-token',
        severity: 'high',
        file: w.file,
        line: job.secretsInherit.line,
        message: `Job '${job.id}', triggered by ${untrusted.join(', ')}, hands every secret to ${job.uses} (secrets: inherit), which${seenAt}.`,
        fix
      })
    }
    const used = uses ? secretNames(uses) : new Set<string>()
    for (const e of job.secrets) {
      const token = (TOKEN_VARIABLES as readonly string[]).includes(e.name) || used.has(e.name)
      if (!token || !readsSecret(e.value)) continue
      out.push({
        rule: 'untrusted-trigger-token',
        severity: 'high',
        file: w.file,
        line: e.loc.line,
        message: `Job '${job.id}', triggered by ${untrusted.join(', ')}, hands the secret ${e.name} to ${job.uses}, where it becomes an Nx Cloud token.`,
        fix
      })
    }
  }
  return out
}
