// The audit's engine: reads a repository's workflows one at a time, gathers the facts the rules
// need (facts/), runs each rule of the registry (per workflow as it is read, and once at the end),
// and returns the findings sorted by file and line. The rules are in rules/<id>.ts.
// The policy's own facts (which variables carry a token, how tokens decode, which setups exist)
// come from the kit's modules, so the audit judges by the same rules the action applies.

import type { Setup } from '../../core/types.js'
import type { Context, Options, Repo } from './context.js'
import { envCandidates, ownCandidate } from './facts/tokens.js'
import {
  forkEvents,
  isKit,
  isLinked,
  jobNx,
  own,
  readsSecret,
  tokenEntries,
  tokenlessNxSteps,
  usesNxCloud,
  workflowSetup
} from './facts/jobs.js'
import { Follower } from './follow.js'
import { callersOf } from './reach.js'
import { RULES } from './registry.js'
import type { Finding } from './rule.js'
import { MAX_CALLED_STEPS, tooManyCalls, unreadable } from './rules/workflow-unreadable.js'
import type { Workflow } from './workflow.js'

export type { Context, Options, Repo } from './context.js'
export { type Finding, SEVERITIES, type Severity } from './rule.js'
export { readsSecret, runsNx, workflowSetup } from './facts/jobs.js'

function ownFinding(f: Finding): Finding {
  return { rule: f.rule, severity: f.severity, file: own(f.file), line: f.line, message: own(f.message), fix: own(f.fix) }
}

export function auditRepo(repo: Repo, opts: Options): Finding[] {
  const files = repo.files ?? { read: () => null }
  const ctx: Context = {
    nxJson: repo.nxJson,
    files,
    follow: new Follower(files),
    kit: false,
    nxDirs: new Set(),
    linked: new Map(),
    callers: new Map(),
    jobs: new WeakMap(),
    idUses: [],
    keyInWorkflows: false,
    requireEncryption: false,
    keyInSecret: false,
    cloudUse: null,
    calledSteps: 0,
    secretTokens: new WeakMap(),
    candidates: [],
    deploys: []
  }
  const findings: Finding[] = []
  const setups = new Set<Setup>()
  let count = 0
  const judge = (w: Workflow, ordinal: number): void => {
    if (w.error) {
      findings.push(unreadable(w))
      return
    }
    const setup = workflowSetup(w, opts.setup)
    setups.add(setup)
    for (const rule of RULES) if (rule.workflow) for (const f of rule.workflow(w, ctx, setup)) findings.push(ownFinding(f))
    ctx.candidates.push(...envCandidates(w, ctx).map(ownCandidate))
    const events = forkEvents(w, ctx, new Set())
    const sets = callerInputs(w, ctx)
    const cost = w.jobs.reduce((n, j) => n + j.steps.length, 0)
    for (const [i, inputs] of sets.entries()) {
      // Each set of a caller's inputs is judged step by step: a callee of 10,000 steps called with
      // 10,000 different inputs would be 10^8 steps. Past the budget, the rest are not judged, and said so.
      if (i > 0 && ctx.calledSteps + cost > MAX_CALLED_STEPS) {
        findings.push(ownFinding(tooManyCalls(w, i, sets.length)))
        break
      }
      ctx.calledSteps += cost
      for (const job of w.jobs) {
        const steps = Object.keys(inputs).length === 0 ? jobNx(w, job, ctx).steps : ctx.follow.jobSteps(job, inputs)
        for (const { use } of steps) for (const n of use.nx) ctx.nxDirs.add(own(n.dir))
        if (events.length > 0) ctx.idUses.push(...tokenlessNxSteps(w, job, steps, events, ctx).map(u => ({ ...u, ordinal })))
      }
    }
  }
  const linkedOrdinal = new Map<Workflow, number>()
  for (const w of repo.workflows instanceof Map ? repo.workflows.values() : repo.workflows) {
    count++
    gather(w, ctx)
    // Judged now and let go, unless a local call links it to another workflow (judged at the end).
    if (!w.error && isLinked(w)) {
      ctx.linked.set(w.file, w)
      linkedOrdinal.set(w, count)
    } else judge(w, count)
  }
  ctx.callers = callersOf(ctx.linked)
  for (const w of ctx.linked.values()) judge(w, linkedOrdinal.get(w) ?? 0)
  // In file order, as read: the first tokenless Nx step is where workspace-id-access points.
  ctx.idUses.sort((a, b) => (a.ordinal ?? 0) - (b.ordinal ?? 0))
  if (count === 0 || setups.size === 0) setups.add(opts.setup ?? 'main-only')
  // One at a time, not push(...list): the findings of many files are more than a call takes arguments.
  for (const rule of RULES) if (rule.repo) for (const f of rule.repo(ctx, setups, opts)) findings.push(f)
  return sortFindings(findings)
}

/** What the end of the audit needs of every workflow: does it use the kit, where is the key, does it bring Nx Cloud in. */
function gather(w: Workflow, ctx: Context): void {
  const steps = w.jobs.flatMap(j => j.steps)
  if (steps.some(isKit)) ctx.kit = true
  const envs = [...w.env, ...w.jobs.flatMap(j => [...j.env, ...j.secrets, ...j.steps.flatMap(s => s.env)])]
  const keys = [
    ...envs.filter(e => e.name === 'NX_CLOUD_ENCRYPTION_KEY').map(e => e.value),
    ...steps.filter(isKit).map(s => s.with.get('encryption-key')?.value ?? '')
  ]
  if (keys.some(k => k.trim() !== '')) ctx.keyInWorkflows = true
  if (steps.some(s => isKit(s) && /^\s*true\s*$/i.test(s.with.get('require-encryption')?.value ?? ''))) ctx.requireEncryption = true
  if (keys.some(readsSecret)) ctx.keyInSecret = true
  if (ctx.cloudUse === null) {
    const kitStep = steps.find(s => usesNxCloud(s) && s.usesLoc)
    const token = tokenEntries([...w.env, ...w.jobs.flatMap(j => [...j.env, ...j.steps.flatMap(s => s.env)])])[0]
    const at = kitStep?.usesLoc ?? token?.loc ?? null
    if (at) ctx.cloudUse = { ...at, file: own(at.file) }
  }
}

/** The `with:` of each local call of a reusable workflow (one empty set when it is not called here). */
function callerInputs(w: Workflow, ctx: Context): Record<string, string>[] {
  // Each set once: a hundred callers passing the same inputs are judged as one.
  const sets = new Map<string, Record<string, string>>()
  for (const { job } of ctx.callers.get(w.file) ?? []) {
    const inputs = Object.fromEntries([...(job.with ?? new Map()).values()].map(e => [e.name, e.value]))
    const key = JSON.stringify(Object.entries(inputs).sort())
    if (!sets.has(key)) sets.set(key, inputs)
  }
  return sets.size > 0 ? [...sets.values()] : [{}]
}

function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.rule.localeCompare(b.rule))
}
