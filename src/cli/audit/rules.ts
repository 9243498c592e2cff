// The audit's rules: a repository's nx.json and workflows → findings, each with a rule id, a
// severity, the file and line of the key to fix, one sentence of why and one of the fix.
// The policy's own facts (which variables carry a token, how tokens decode, which setups exist)
// come from the kit's modules, so the audit judges by the same rules the action applies.

import { TOKEN_VARIABLES } from '../../core/policy.js'
import { parseSetup } from '../../core/inputs.js'
import { committedReadWriteTokens } from './workspace.js'
import { parseNxJson, tokenLevel } from '../../core/nx-config.js'
import type { NxConfig, Setup } from '../../core/types.js'
import { findNodeAtLocation, parseTree } from 'jsonc-parser'
import { posix } from 'node:path'
import { type Files, Follower, type Use, commandLines, lineRunsNx } from './follow.js'
import { type Callers, RATING_ORDER, callerRuns, callersOf, rate, runsOf } from './reach.js'
import type { Entry, Job, Loc, Step, Workflow } from './workflow.js'

export const SEVERITIES = ['info', 'low', 'medium', 'high'] as const
export type Severity = (typeof SEVERITIES)[number]

export interface Finding {
  rule: string
  severity: Severity
  file: string
  line: number
  message: string
  fix: string
}

interface RuleInfo {
  id: string
  severity: Severity
  title: string
  /** Its findings' severities differ (unpinned-action: branch high, tag low). */
  varies?: true
}

export const RULES: RuleInfo[] = [
  { id: 'nx-json-read-write-token', severity: 'high', title: 'A read-write Nx Cloud token is committed in nx.json' },
  { id: 'no-encryption-key', severity: 'medium', title: 'No Nx Cloud encryption key anywhere' },
  { id: 'step-env-token', severity: 'high', title: "An Nx Cloud token in a step's env: (the kit cannot override it)" },
  {
    id: 'inherited-env-token',
    severity: 'high',
    title:
      'An Nx Cloud token in workflow- or job-level env: of a job that runs Nx before the kit (pull requests: high; other branches, merge queue: medium; writers-only runs: low)',
    varies: true
  },
  {
    id: 'untrusted-trigger-token',
    severity: 'high',
    title: 'A secret Nx Cloud token handed to a pull_request_target, workflow_run or issue_comment job'
  },
  {
    id: 'deploy-without-rebuild',
    severity: 'high',
    title: 'Under ci-read-write, a deploy job that does not rebuild with the cache skipped'
  },
  {
    id: 'workspace-id-access',
    severity: 'medium',
    title: "Pull requests run Nx with no token, so Nx Cloud gives them nx.json's nxCloudId's workspace ID access level"
  },
  { id: 'unpinned-action', severity: 'high', title: 'The kit is used without a pinned commit SHA (branch: high, tag: low)', varies: true },
  {
    id: 'workflow-unreadable',
    severity: 'medium',
    title: 'A workflow file is not valid YAML, a symlink, not a regular file, or larger than 1 MiB, so it was not audited'
  }
]

const UNTRUSTED_TRIGGERS = ['pull_request_target', 'workflow_run', 'issue_comment']
const KIT = /^[^/@\s]+\/nx-cloud-access(?:\/[^@]*)?@(.*)$/
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

function isKit(step: Step): boolean {
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

function tokenEntries(env: Entry[]): Entry[] {
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

const where = (l: Loc): string => `${l.file}:${l.line}`

interface Candidate {
  rule: 'untrusted-trigger-token' | 'step-env-token' | 'inherited-env-token'
  severity: Severity
  entry: Entry
  /** The job, with how it reaches Nx when not directly ("through the package.json script test:pr"). */
  job: string
  via: string | null
  triggers: string[]
  /** The runs an inherited token reaches ("pull requests (pull_request)"). */
  runs: string[]
}

const PRECEDENCE: Candidate['rule'][] = ['untrusted-trigger-token', 'step-env-token', 'inherited-env-token']

export interface Repo {
  /**
   * The workflows (paths relative to the root: `.github/workflows/ci.yml`), in file order. An
   * iterable is read once, one workflow at a time: each is judged and let go before the next
   * is read, so the audit's memory grows with its largest file, not with the number of files.
   */
  workflows: Map<string, Workflow> | Iterable<Workflow>
  /** nx.json as the kit reads it (parseNxJson), its text for line numbers; null when there is none. */
  nxJson: { file: string; text: string; config: NxConfig } | null
  /** The other files audit follows (package.json, local actions, nested nx.json), read on demand. */
  files?: Files
}

export interface Options {
  setup: Setup | null
  public: boolean
}

interface Context {
  nxJson: Repo['nxJson']
  files: Files
  follow: Follower
  /** Some workflow uses the kit: findings speak of what it does; else of what the guide recommends. */
  kit: boolean
  /** Folders where workflows run Nx ('.' = the root). */
  nxDirs: Set<string>
  /**
   * The workflows that call, or can be called as, a local reusable workflow: the only ones kept
   * whole until the end, since a caller is judged with its callee and a callee with its callers.
   */
  linked: Map<string, Workflow>
  /** The local callers of each reusable workflow (among `linked`). */
  callers: Callers
  /** What each job runs, worked out once. */
  jobs: WeakMap<Job, JobNx>
  /** Nx steps that pull requests run with no token (workspace-id-access). */
  idUses: IdUse[]
  /** What nxJsonFindings needs of the workflows, gathered as each is read. */
  keyInWorkflows: boolean
  keyInSecret: boolean
  /** The first workflow line that brings Nx Cloud in. */
  cloudUse: Loc | null
  /** Steps judged again for callers' inputs so far (MAX_CALLED_STEPS). */
  calledSteps: number
  /** secretTokenUses of each reusable workflow, worked out once. */
  secretTokens: WeakMap<Workflow, Entry[]>
}

/**
 * A copy of a string kept past its workflow (in a finding, a candidate): V8 keeps a substring's
 * whole parent string alive, and a YAML scalar is a substring of its file's text.
 */
function own(text: string): string {
  return text.length < 13 ? text : Buffer.from(text, 'utf8').toString('utf8')
}

function ownFinding(f: Finding): Finding {
  return { rule: f.rule, severity: f.severity, file: own(f.file), line: f.line, message: own(f.message), fix: own(f.fix) }
}

/** Does a workflow call a local reusable workflow, or can it be called as one? */
function isLinked(w: Workflow): boolean {
  return w.triggers.includes('workflow_call') || w.jobs.some(j => isLocalWorkflow(j.uses.split('@', 1)[0]))
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
    keyInSecret: false,
    cloudUse: null,
    calledSteps: 0,
    secretTokens: new WeakMap()
  }
  const findings: Finding[] = []
  const candidates: Candidate[] = []
  const setups = new Set<Setup>()
  let count = 0
  const judge = (w: Workflow, ordinal: number): void => {
    if (w.error) {
      findings.push(
        ownFinding({ rule: 'workflow-unreadable', severity: 'medium', file: w.file, line: w.error.line, ...unreadableWords(w) })
      )
      return
    }
    const setup = workflowSetup(w, opts.setup)
    setups.add(setup)
    const fileFindings: Finding[] = [...pinning(w), ...reusableCalls(w, ctx)]
    if (setup === 'ci-read-write') fileFindings.push(...deployJobs(w, ctx))
    findings.push(...fileFindings.map(ownFinding))
    candidates.push(...envCandidates(w, ctx).map(ownCandidate))
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
  for (const f of mergeCandidates(candidates, ctx)) findings.push(f)
  for (const f of nxJsonFindings(ctx, setups, opts)) findings.push(f)
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
  if (keys.some(readsSecret)) ctx.keyInSecret = true
  if (ctx.cloudUse === null) {
    const kitStep = steps.find(s => usesNxCloud(s) && s.usesLoc)
    const token = tokenEntries([...w.env, ...w.jobs.flatMap(j => [...j.env, ...j.steps.flatMap(s => s.env)])])[0]
    const at = kitStep?.usesLoc ?? token?.loc ?? null
    if (at) ctx.cloudUse = { ...at, file: own(at.file) }
  }
}

/** A candidate as kept until the end: the entry's name and place, nothing of its workflow's text. */
function ownCandidate(c: Candidate): Candidate {
  return {
    ...c,
    entry: { name: own(c.entry.name), value: '', loc: { ...c.entry.loc, file: own(c.entry.loc.file) } },
    job: own(c.job),
    via: c.via === null ? null : own(c.via),
    triggers: c.triggers.map(own),
    runs: c.runs.map(own)
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

/**
 * The most steps the audit judges again for the inputs of the local callers of reusable workflows,
 * over the whole audit (each set of inputs judges every step of its callee once more).
 */
export const MAX_CALLED_STEPS = 50_000

function tooManyCalls(w: Workflow, judged: number, sets: number): Finding {
  return {
    rule: 'workflow-unreadable',
    severity: 'medium',
    file: w.file,
    line: 1,
    message: `${w.file} is called by local workflows with ${sets} different sets of inputs, and its steps with each set are more than this audit reads (${MAX_CALLED_STEPS} steps over all calls), so it judged it with the first ${judged} sets only.`,
    fix: 'Call it with fewer different inputs (or split it into smaller reusable workflows), then audit again.'
  }
}

function unreadableWords(w: Workflow): { message: string; fix: string } {
  const error = w.error as NonNullable<Workflow['error']>
  if (error.tooLarge) {
    return {
      message: `${w.file} holds ${error.message}, more than this audit reads, so it could not judge it.`,
      fix: 'Write the steps or maps out, or alias fewer of them into each other, then audit again.'
    }
  }
  if (!error.file) {
    return {
      message: `${w.file} is not valid YAML (${error.message}), so GitHub will not run it and this audit could not judge it.`,
      fix: 'Fix the YAML error, then audit again.'
    }
  }
  if (error.message === 'a symlink' && !/\.ya?ml$/.test(w.file)) {
    return {
      message: `${w.file} is a symlink: GitHub reads the tree as committed and runs no workflow through it, and this audit did not follow it.`,
      fix: `Commit the workflows themselves under ${w.file}, not a link to them, then audit again.`
    }
  }
  if (error.message === 'a symlink') {
    return {
      message: `${w.file} is a symlink: GitHub reads the link as committed, not the file it points to, so it will not run it as a workflow, and this audit did not follow it.`,
      fix: `Commit the workflow itself at ${w.file}, not a link to it, then audit again.`
    }
  }
  return {
    message: `${w.file} is ${error.message}, so this audit did not read it and could not judge it.`,
    fix: error.message.startsWith('larger')
      ? 'Split it into smaller workflows (a reusable workflow can hold shared jobs), then audit again.'
      : `Remove ${w.file} or replace it with a regular workflow file, then audit again.`
  }
}

function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.rule.localeCompare(b.rule))
}

function pinning(w: Workflow): Finding[] {
  const out: Finding[] = []
  const seen = new Set<number>()
  for (const j of w.jobs) {
    for (const s of j.steps) {
      const m = KIT.exec(s.uses)
      // An aliased step (`- *kit`) is one key to fix: reported once, at its anchor.
      if (!m || !s.usesLoc || seen.has(s.usesLoc.offset)) continue
      seen.add(s.usesLoc.offset)
      const ref = m[1]
      if (/^[0-9a-f]{40}$/i.test(ref)) continue
      const tag = /^v?\d+(?:\.\d+)*(?:[-+][\w.-]+)?$/.test(ref)
      out.push({
        rule: 'unpinned-action',
        severity: tag ? 'low' : 'high',
        file: w.file,
        line: s.usesLoc.line,
        message: tag
          ? `${s.uses} is pinned to the tag ${ref}, and a tag can be moved to other code that then receives your read-write token.`
          : `${s.uses} follows the branch ${ref}: every new commit on it runs with your read-write token, unreviewed.`,
        fix: `Pin the full 40-character commit SHA of the release you reviewed (uses: ${s.uses.split('@')[0]}@<sha> # ${tag ? ref : 'v1.x.y'}).`
      })
    }
  }
  return out
}

/** Does the job run the kit before its first Nx command? Then the kit's exports win over env:. */

function truthy(v: string | undefined): boolean {
  return (v ?? '').trim().toLowerCase() === 'true'
}

/** A variable as a job's Nx steps see it: the job's env: over the workflow's. */
function jobVar(w: Workflow, job: Job, name: string): string | undefined {
  return (job.env.find(e => e.name === name) ?? w.env.find(e => e.name === name))?.value
}

/** Does an Nx command skip the cache (read and write) — or at least the remote one? */
function skipsCache(command: string, env: Entry[], remoteToo: boolean): boolean {
  if (/--skip-nx-cache\b|--skipNxCache\b/.test(command) || truthy(env.find(e => e.name === 'NX_SKIP_NX_CACHE')?.value)) return true
  if (!remoteToo) return false
  return /--skip-remote-cache\b|--skipRemoteCache\b/.test(command) || truthy(env.find(e => e.name === 'NX_SKIP_REMOTE_CACHE')?.value)
}

interface JobNx {
  /** Steps with what they run, local actions and scripts followed. */
  steps: { step: Step; use: Use }[]
  runsNx: boolean
  /** How the job reaches Nx when no step runs it directly: the first script or local action. */
  via: string | null
  /** Every Nx command of the job skips the cache (remoteToo: or the remote cache), so no token is used. */
  cacheUnused: (remoteToo: boolean) => boolean
}

function jobNx(w: Workflow, job: Job, ctx: Context): JobNx {
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
      return nxSteps.every(s => s.use.nx.every(n => skipsCache(n.command, [...s.step.env, ...jobEnv], remoteToo)))
    }
  }
}

/** Does the job run the kit before its first Nx command? Then the kit's exports win over env:. */
function kitBeforeNx(nx: JobNx): boolean {
  for (const { step, use } of nx.steps) {
    if (isKit(step)) return true
    if (runsNx(step) || use.nx.length > 0) return false
  }
  return true
}

function viaWords(via: string | null): string {
  if (via === null) return ''
  return via.startsWith('action ') ? ` (through the local action ${via.slice(7)})` : ` (through the package.json script ${via})`
}

function envCandidates(w: Workflow, ctx: Context): Candidate[] {
  const out: Candidate[] = []
  const untrusted = w.triggers.filter(t => UNTRUSTED_TRIGGERS.includes(t))
  const ownRuns = runsOf(w.on ?? [])
  for (const job of w.jobs) {
    // A job that runs no Nx command is not judged for tokens in its env (a deliberate choice: see docs/audit-rules.md);
    // jobs that call a reusable workflow have no env: of their own (see reusableCalls).
    const nx = jobNx(w, job, ctx)
    if (!nx.runsNx) continue
    const secretRule = (e: Entry): boolean => untrusted.length > 0 && readsSecret(e.value)
    const base = { job: job.id, via: nx.via, triggers: untrusted, runs: [] as string[] }
    for (const { step } of nx.steps) {
      for (const s of [step, ...ctx.follow.actionSteps(step)]) {
        for (const e of tokenEntries(s.env)) {
          out.push({ ...base, rule: secretRule(e) ? 'untrusted-trigger-token' : 'step-env-token', severity: 'high', entry: e })
        }
      }
    }
    const jobNames = new Set(job.env.map(e => e.name))
    const inherited = [...job.env, ...w.env.filter(e => !jobNames.has(e.name))]
    const kitFirst = kitBeforeNx(nx)
    for (const e of tokenEntries(inherited)) {
      if (secretRule(e)) {
        out.push({ ...base, rule: 'untrusted-trigger-token', severity: 'high', entry: e })
        continue
      }
      // The kit overrides it; Nx Cloud is off (NX_NO_CLOUD); or no Nx command of the job uses the cache.
      if (kitFirst || nx.cacheUnused(true)) continue
      const runs = [...ownRuns, ...callerRuns(w, ctx.callers, name => secretNamesOf(e.value).has(name))]
      const { rating, words } = rate(e.value, runs)
      if (rating === null) continue
      out.push({ ...base, rule: 'inherited-env-token', severity: rating, entry: e, runs: words })
    }
  }
  return out
}

function secretNamesOf(value: string): Set<string> {
  return new Set([...value.matchAll(/\bsecrets\.([A-Za-z0-9_]+)/g)].map(m => m[1]))
}

/** One finding per key: the strongest rule wins, naming every job that reaches the key. */
function mergeCandidates(candidates: Candidate[], ctx: Context): Finding[] {
  const byKey = new Map<string, Candidate[]>()
  for (const c of candidates) {
    const id = `${c.entry.loc.file}\\u0000${c.entry.loc.offset}`
    // Pushed, not copied: a key aliased into 10,000 jobs has 10,000 candidates.
    const list = byKey.get(id) ?? []
    list.push(c)
    byKey.set(id, list)
  }
  const out: Finding[] = []
  for (const group of byKey.values()) {
    const rule = PRECEDENCE.find(r => group.some(c => c.rule === r)) as Candidate['rule']
    const chosen = group.filter(c => c.rule === rule)
    const seenJobs = new Set<string>()
    const jobs = chosen.filter(c => !seenJobs.has(c.job) && seenJobs.add(c.job) !== undefined)
    const { entry } = chosen[0]
    const severity =
      RATING_ORDER.slice()
        .reverse()
        .find(r => chosen.some(c => c.severity === r)) ?? 'high'
    const triggers = [...new Set(chosen.flatMap(c => c.triggers))]
    const runs = [...new Set(chosen.flatMap(c => c.runs))]
    out.push({ rule, severity, file: entry.loc.file, line: entry.loc.line, ...envWords(rule, entry, jobs, triggers, runs, ctx.kit) })
  }
  return out
}

function jobWords(jobs: Candidate[]): string {
  const q = jobs.map(j => `'${j.job}'${viaWords(j.via)}`)
  return q.length === 1 ? `job ${q[0]}` : `jobs ${q.slice(0, -1).join(', ')} and ${q[q.length - 1]}`
}

function listWords(words: string[]): string {
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`
}

function envWords(
  rule: Candidate['rule'],
  e: Entry,
  jobs: Candidate[],
  triggers: string[],
  runs: string[],
  kit: boolean
): { message: string; fix: string } {
  const who = jobWords(jobs)
  const one = jobs.length === 1
  switch (rule) {
    case 'untrusted-trigger-token':
      return {
        message: `${e.name} hands a secret token to ${who}, triggered by ${triggers.join(', ')}: such runs carry code or input from outside the repository's writers and run with secrets.`,
        fix: `Remove ${e.name} from env: and give the secret only to the kit's read-write-token input, which gives these events read-only access.`
      }
    case 'step-env-token':
      return {
        message: `${e.name} is set in a step's own env: in ${who}, and a step-level env: wins over the kit's exports, so that step uses this token whatever the policy decides.`,
        fix: `Remove ${e.name} from the step's env: and pass the secret to the kit's read-write-token input (uses: nx-cloud-access/nx-cloud-access) before the Nx step.`
      }
    case 'inherited-env-token':
      return {
        message:
          `${e.name} in env: reaches ${who}, which ${one ? 'runs' : 'run'} Nx ${kit ? "before the kit's action" : 'with it'}, so ${listWords(runs)} ${runs.length === 1 && !/s\b|s \(/.test(runs[0]) ? 'gets' : 'get'} this token` +
          (runs.some(r => r.startsWith('pull requests'))
            ? '.'
            : `; the guide gives a read-write token only to pushes to the default branch, and read-only to every other run.`),
        fix: kit
          ? `Remove ${e.name} from env: and run the kit's action (with read-write-token) before the first Nx command of ${one ? 'the job' : 'each job'}.`
          : `Remove ${e.name} from env: and give the secret to the kit's read-write-token input, run before the first Nx command of ${one ? 'the job' : 'each job'} (or write setup 1 inline: \${{ github.ref == 'refs/heads/main' && secrets.<read-write> || secrets.<read-only> }}).`
      }
  }
}

function isLocalWorkflow(uses: string): boolean {
  return uses.startsWith('./.github/workflows/')
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

/** What comes before the first `@` (a `uses:` without its ref). Not /@.*$/: quadratic on many `@`. */
function beforeAt(uses: string): string {
  const at = uses.indexOf('@')
  return at < 0 ? uses : uses.slice(0, at)
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

interface Workspace {
  file: string
  text: string
  config: NxConfig
}

/** The nx.json Nx uses in a folder: the nearest one at or above it. */
function workspaceAt(ctx: Context, dir: string, cache: Map<string, Workspace | null>): Workspace | null {
  if (cache.has(dir)) return cache.get(dir) ?? null
  let found: Workspace | null
  if (dir === '.') {
    found = ctx.nxJson
  } else {
    const file = `${dir}/nx.json`
    const text = ctx.files.read(file)
    if (text !== null) {
      try {
        found = { file, text, config: parseNxJson(text, file) }
      } catch {
        found = null
      }
    } else {
      found = workspaceAt(ctx, posix.dirname(dir), cache)
    }
  }
  cache.set(dir, found)
  return found
}

function nxJsonFindings(ctx: Context, setups: Set<Setup>, opts: Options): Finding[] {
  const out: Finding[] = []
  const cache = new Map<string, Workspace | null>()
  const workspaceAtCached = (dir: string): Workspace | null => workspaceAt(ctx, dir, cache)
  // The root nx.json always; every other one a workflow runs Nx in.
  const workspaces: Workspace[] = []
  for (const dir of ['.', ...[...ctx.nxDirs].sort()]) {
    const ws = workspaceAtCached(dir)
    if (ws && !workspaces.includes(ws)) workspaces.push(ws)
  }
  const strict = [...setups].filter(s => s === 'main-only' || s === 'ci-read-write')
  for (const nx of workspaces) {
    if (tokenLevel(nx.config.accessToken) !== 'read-write' || (strict.length === 0 && !opts.public)) continue
    out.push({
      rule: 'nx-json-read-write-token',
      severity: 'high',
      file: nx.file,
      line: nxJsonTokenLine(nx.text, nx.config.accessToken),
      message:
        strict.length === 0
          ? `${nx.file} commits a token that decodes as read-write in a public repository: anyone on the internet can write to the cache.`
          : ctx.kit
            ? `${nx.file} commits a token that decodes as read-write, under setup ${strict.join(' and ')}: anyone who can read the repository can write to the cache, which this setup exists to prevent (the kit fails such runs).`
            : `${nx.file} commits a token that decodes as read-write: anyone who can read the repository can write to the cache. The guide commits only a read-only token and keeps the read-write one in a secret (the kit would refuse to run with this ${nx.file}).`,
      fix:
        strict.length > 0
          ? "Revoke this token in Nx Cloud, commit a read-only token in its place, and keep the read-write token in a secret given to the kit's read-write-token input."
          : "Use setup main-only (or ci-read-write): commit a read-only token in nx.json and give the read-write token to the kit's read-write-token input as a secret; then revoke this one."
    })
  }
  if (strict.length > 0 || opts.public) for (const nx of workspaces) out.push(...envFileTokenFindings(ctx, nx, strict, opts))
  out.push(...workspaceIdFindings(ctx, workspaceAtCached))
  const everyOff = [...setups].every(s => s === 'off')
  if (everyOff || ctx.keyInWorkflows) return out
  const keyWords = ctx.kit
    ? 'cached artifacts are stored unencrypted, and the kit fails every run that has a token unless require-encryption is false.'
    : 'cached artifacts are stored unencrypted. The guide sets a key in every setup (the kit would fail runs without one).'
  const message = (where: string): string =>
    `No Nx Cloud encryption key was found (not in ${where}, not in any encryption-key input, not in NX_CLOUD_ENCRYPTION_KEY): ${keyWords}`
  const keyFix =
    "Create a key, store it as a secret and pass it to the kit's encryption-key input (or commit nxCloudEncryptionKey in nx.json); developers set the same NX_CLOUD_ENCRYPTION_KEY locally. " +
    FORK_KEY_CAVEAT
  // A workspace where nothing uses Nx Cloud (no kit, no token, no cloud id) needs no key.
  const workflowCloud = ctx.cloudUse
  let reported = false
  for (const nx of workspaces) {
    const c = nx.config
    const cloud = c.accessToken !== '' || c.cloudId !== '' || c.url !== '' || (nx === ctx.nxJson && workflowCloud !== null)
    if (!cloud || c.encryptionKey !== '') continue
    out.push({ rule: 'no-encryption-key', severity: 'medium', file: nx.file, line: 1, message: message(nx.file), fix: keyFix })
    reported = true
  }
  // No nx.json to point at: the workflow line that brings Nx Cloud in.
  if (!reported && workspaces.length === 0 && workflowCloud !== null) {
    out.push({
      rule: 'no-encryption-key',
      severity: 'medium',
      file: workflowCloud.file,
      line: workflowCloud.line,
      message: message('any nx.json'),
      fix: keyFix
    })
  }
  return out
}

/**
 * A read-write Nx Cloud token in one of the workspace's env files (docs/POLICY.md#exports): Nx
 * loads it into every run, so it is as committed as nx.json's, and the kit refuses it as it does
 * nx.json's under setups 1 and 2.
 */
function envFileTokenFindings(ctx: Context, nx: Workspace, strict: Setup[], opts: Options): Finding[] {
  return committedReadWriteTokens(ctx.files, nx.file, nx.text, nx.config.accessToken).map(t => ({
    rule: 'nx-json-read-write-token',
    severity: 'high',
    file: t.file,
    line: t.line,
    message: `${t.file} ${t.what}: anyone who can read the repository can write to the cache${
      strict.length > 0
        ? ` (under setup ${strict.join(' and ')}${ctx.kit ? ', the kit fails such runs' : ', the kit would refuse to run'})`
        : ''
    }${opts.public && strict.length === 0 ? ', in a public repository' : ''}.`,
    fix: `Revoke this token in Nx Cloud and remove it from ${t.file}; keep the read-write token in a secret given to the kit's read-write-token input (developers use personal access tokens, npx nx login).`
  }))
}

/**
 * A key kept only in a secret, and the runs GitHub gives no secrets (docs/POLICY.md#no-token,
 * #hash-neutrality): they see no key, so they hash differently and cannot read.
 */
const FORK_KEY_CAVEAT =
  "A key kept only in a secret is withheld from pull requests from forks and from Dependabot, so those runs hash differently and cannot read the cache (the kit runs them without the remote cache, with a notice); commit it in nx.json, as Nx Cloud's guide does, if they should read."

/** The pull-request events whose runs from a fork (or from Dependabot) get no secrets, or (pull_request_target) do. */
const FORK_EVENTS = ['pull_request', 'pull_request_review', 'pull_request_review_comment', 'pull_request_target']

/** Pull-request events that start a workflow: its own triggers, and for a reusable one its local callers'. */
function forkEvents(w: Workflow, ctx: Context, seen: Set<string>): string[] {
  if (seen.has(w.file)) return []
  seen.add(w.file)
  const out = w.triggers.filter(t => FORK_EVENTS.includes(t))
  if (w.triggers.includes('workflow_call')) {
    for (const { caller } of ctx.callers.get(w.file) ?? []) out.push(...forkEvents(caller, ctx, seen))
  }
  return [...new Set(out)]
}

/** An Nx step that a pull request runs with no Nx Cloud token: Nx then connects through nxCloudId (docs/POLICY.md#no-token). */
interface IdUse {
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
function tokenlessNxSteps(w: Workflow, job: Job, steps: { step: Step; use: Use }[], events: string[], ctx: Context): IdUse[] {
  if (job.uses !== '') return []
  const out: IdUse[] = []
  const jobEnv = [...job.env, ...w.env.filter(e => !job.env.some(j => j.name === e.name))]
  const kit = usesKit(w)
  for (const { step, use } of steps) {
    if (isKit(step)) break
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

/** Does any job of the workflow use the kit? Once per workflow, not once per job (10,000 jobs of 10,000 steps). */
function usesKit(w: Workflow): boolean {
  let known = usesKitOf.get(w)
  if (known === undefined) {
    known = w.jobs.some(j => j.steps.some(isKit))
    usesKitOf.set(w, known)
  }
  return known
}

const usesKitOf = new WeakMap<Workflow, boolean>()

/**
 * workspace-id-access: one finding per nx.json that has nxCloudId and no token, when pull
 * requests run Nx in it with no token. Nx then connects at the workspace ID access level set in
 * Nx Cloud, which no file shows (docs/POLICY.md#no-token, #nx-facts).
 */
function workspaceIdFindings(ctx: Context, workspaceOf: (dir: string) => Workspace | null): Finding[] {
  // Sets, not lists searched: a reusable workflow called with many inputs gives a use per step per call.
  const groups = new Map<Workspace, Set<IdUse>>()
  for (const u of ctx.idUses) {
    for (const dir of u.dirs) {
      const ws = workspaceOf(dir)
      if (!ws || ws.config.cloudId === '' || ws.config.accessToken !== '') continue
      const set = groups.get(ws) ?? new Set<IdUse>()
      set.add(u)
      groups.set(ws, set)
    }
  }
  const out: Finding[] = []
  for (const [ws, set] of groups) {
    const uses = [...set]
    const first = uses[0]
    const names = new Set<string>()
    for (const u of uses) names.add(u.file === first.file ? `'${u.job}'` : `'${u.job}' (${u.file})`)
    const jobs = [...names]
    const one = jobs.length === 1
    const events = [...new Set(uses.flatMap(u => u.events))]
    const kit = uses.some(u => u.kit)
    const secretKey = ws.config.encryptionKey === '' && ctx.keyInSecret
    out.push({
      rule: 'workspace-id-access',
      severity: 'medium',
      file: first.file,
      line: first.line,
      message:
        `${ws.file} has nxCloudId and commits no token, and ${one ? 'job' : 'jobs'} ${listWords(jobs)} ${one ? 'runs' : 'run'} Nx on pull requests ` +
        `(${events.join(', ')}) with no Nx Cloud token (GitHub gives a pull request from a fork no secrets, so a token from a secret is empty there), ` +
        'so Nx connects with the workspace ID access level set in Nx Cloud, which this audit cannot read (read-write in older workspaces unless changed).',
      fix:
        "In Nx Cloud (the workspace's settings, Access Control), make sure the workspace ID access level is read-only or none: anyone who clones the repository or opens a pull request from a fork gets it." +
        (kit
          ? ` Then run the kit's action before Nx in ${one ? 'this job' : 'these jobs'} and, once the level is read-only, set its workspace-id-access: read-only so such runs read (for none, leave the input out: the kit runs them without Nx Cloud).`
          : " The kit's action, run before Nx, runs such pull requests without Nx Cloud unless its workspace-id-access input says the level is read-only.") +
        (secretKey
          ? ` The encryption key is kept only in a secret, which GitHub withholds from pull requests from forks and from Dependabot: those runs hash differently and cannot read the cache (the kit runs them without the remote cache, with a notice); commit nxCloudEncryptionKey in ${ws.file}, as Nx Cloud's guide does, if they should read.`
          : '')
    })
  }
  return out
}

/**
 * A kit step that talks to Nx Cloud: not the cache action (`…/nx-cloud-access/cache@…`, which
 * never uses a key) and not a token step pointed at a self-hosted cache (self-hosted-cache-url).
 */
function usesNxCloud(step: Step): boolean {
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

/** The line of the key holding the token Nx uses (the older layout wins, as in nx-config.ts). */
function nxJsonTokenLine(text: string, token: string): number {
  const tree = parseTree(text, [], { allowTrailingComma: true, disallowComments: false })
  if (!tree) return 1
  for (const path of [['tasksRunnerOptions', 'default', 'options', 'accessToken'], ['nxCloudAccessToken']]) {
    const n = findNodeAtLocation(tree, path)
    if (n && n.value === token) return text.slice(0, (n.parent ?? n).offset).split('\n').length
  }
  return 1
}
