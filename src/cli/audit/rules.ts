// The audit's rules: a repository's nx.json and workflows → findings, each with a rule id, a
// severity, the file and line of the key to fix, one sentence of why and one of the fix.
// The policy's own facts (which variables carry a token, how tokens decode, which setups exist)
// come from the kit's modules, so the audit judges by the same rules the action applies.

import { TOKEN_VARIABLES } from '../../core/policy.js'
import { parseSetup } from '../../core/inputs.js'
import { tokenLevel } from '../../core/nx-config.js'
import type { NxConfig, Setup } from '../../core/types.js'
import { findNodeAtLocation, parseTree } from 'jsonc-parser'
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

export interface RuleInfo {
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
  { id: 'inherited-env-token', severity: 'high', title: 'An Nx Cloud token in workflow- or job-level env: of a job that runs Nx before the kit' },
  { id: 'untrusted-trigger-token', severity: 'high', title: 'A secret Nx Cloud token handed to a pull_request_target, workflow_run or issue_comment job' },
  { id: 'deploy-without-rebuild', severity: 'high', title: 'Under ci-read-write, a deploy job that does not rebuild with the cache skipped' },
  { id: 'unpinned-action', severity: 'high', title: 'The kit is used without a pinned commit SHA (branch: high, tag: low)', varies: true },
  { id: 'workflow-unreadable', severity: 'medium', title: 'A workflow file is not valid YAML, a symlink, not a regular file, or larger than 1 MiB, so it was not audited' }
]

export const UNTRUSTED_TRIGGERS = ['pull_request_target', 'workflow_run', 'issue_comment']
const KIT = /^[^/@\s]+\/nx-cloud-access(?:\/[^@]*)?@(.*)$/
// `nx …`, `nx-cloud …`, `npx [-y] nx@21 …`, `pnpm [exec|dlx] nx`, `yarn nx`, `npm exec [--] nx`, `node_modules/.bin/nx`.
// An npx flag stops at a shell separator: were it `-\S+`, a flag list could run across the next
// `;npx`, and every npx of a hostile line would rescan the rest of it (quadratic).
const NX_COMMAND =
  /(?:^|[\s;&|(`])(?:(?:npx|pnpx|bunx)\s+(?:-[^\s;&|()`]+\s+)*|(?:pnpm|yarn|bun)\s+(?:exec\s+|dlx\s+)?|npm\s+exec\s+(?:--\s+)?|(?:\.\/)?node_modules\/\.bin\/)?nx(?:-cloud)?(?:@\S+)?(?=$|[\s;&|)`])/
// A word that starts with deploy/publish/releas: after a non-letter (`deploy`, `npm-publish`,
// `DEPLOY_ENV`) or as a camelCase hump (`buildAndDeploy`, `npmPublish`); not inside a word
// (`undeployed`, `republished`). Without the i flag, so a hump can be told by its capital.
export const DEPLOYS =
  /(?:^|[^A-Za-z])(?:deploy|publish|releas|Deploy|Publish|Releas|DEPLOY|PUBLISH|RELEAS)|(?<=[a-z0-9])(?:Deploy|Publish|Releas)/

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

/** A script's commands: lines continued with a trailing backslash are one command. */
function commandLines(run: string): string[] {
  return run.replace(/\\\r?\n/g, ' ').split('\n')
}

export function runsNx(step: Step): boolean {
  if (isKit(step)) return (step.with.get('rebuild-command')?.value ?? '').trim() !== ''
  return commandLines(step.run).some(line => NX_COMMAND.test(line))
}

/** The Nx commands of a run: script (a kit step's rebuild-command is judged apart). */
function nxLines(step: Step): string[] {
  return commandLines(step.run).filter(line => NX_COMMAND.test(line))
}

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

function jobWords(jobs: string[]): string {
  const q = jobs.map(j => `'${j}'`)
  return q.length === 1 ? `job ${q[0]}` : `jobs ${q.slice(0, -1).join(', ')} and ${q[q.length - 1]}`
}

interface Candidate {
  rule: 'untrusted-trigger-token' | 'step-env-token' | 'inherited-env-token'
  entry: Entry
  job: string
  triggers: string[]
}

const PRECEDENCE: Candidate['rule'][] = ['untrusted-trigger-token', 'step-env-token', 'inherited-env-token']

export interface Repo {
  /** Workflows by path relative to the root (`.github/workflows/ci.yml`). */
  workflows: Map<string, Workflow>
  /** nx.json as the kit reads it (parseNxJson), its text for line numbers; null when there is none. */
  nxJson: { file: string; text: string; config: NxConfig } | null
}

export interface Options {
  setup: Setup | null
  public: boolean
}

export function auditRepo(repo: Repo, opts: Options): Finding[] {
  const findings: Finding[] = []
  const candidates: Candidate[] = []
  const setups = new Set<Setup>()
  for (const w of repo.workflows.values()) {
    if (w.error) {
      findings.push({ rule: 'workflow-unreadable', severity: 'medium', file: w.file, line: w.error.line, ...unreadableWords(w) })
      continue
    }
    const setup = workflowSetup(w, opts.setup)
    setups.add(setup)
    findings.push(...pinning(w))
    candidates.push(...envCandidates(w))
    findings.push(...reusableCalls(w, repo))
    if (setup === 'ci-read-write') findings.push(...deployJobs(w))
  }
  if (repo.workflows.size === 0 || setups.size === 0) setups.add(opts.setup ?? 'main-only')
  findings.push(...mergeCandidates(candidates))
  findings.push(...nxJsonFindings(repo, setups, opts))
  return sortFindings(findings)
}

function unreadableWords(w: Workflow): { message: string; fix: string } {
  const error = w.error as NonNullable<Workflow['error']>
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

export function sortFindings(findings: Finding[]): Finding[] {
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
function kitBeforeNx(job: Job): boolean {
  for (const s of job.steps) {
    if (isKit(s)) return true
    if (runsNx(s)) return false
  }
  return true
}

function envCandidates(w: Workflow): Candidate[] {
  const out: Candidate[] = []
  const untrusted = w.triggers.filter(t => UNTRUSTED_TRIGGERS.includes(t))
  for (const job of w.jobs) {
    // A job that runs no Nx command is not judged for tokens in its env (a deliberate choice: see the README's audit rules);
    // jobs that call a reusable workflow have no env: of their own (see reusableCalls).
    if (!job.steps.some(runsNx)) continue
    const secretRule = (e: Entry): boolean => untrusted.length > 0 && readsSecret(e.value)
    for (const s of job.steps) {
      for (const e of tokenEntries(s.env)) {
        out.push({ rule: secretRule(e) ? 'untrusted-trigger-token' : 'step-env-token', entry: e, job: job.id, triggers: untrusted })
      }
    }
    const jobNames = new Set(job.env.map(e => e.name))
    const inherited = [...job.env, ...w.env.filter(e => !jobNames.has(e.name))]
    const kitFirst = kitBeforeNx(job)
    for (const e of tokenEntries(inherited)) {
      if (secretRule(e)) out.push({ rule: 'untrusted-trigger-token', entry: e, job: job.id, triggers: untrusted })
      else if (!kitFirst) out.push({ rule: 'inherited-env-token', entry: e, job: job.id, triggers: untrusted })
    }
  }
  return out
}

/** One finding per key: the strongest rule wins, naming every job that reaches the key. */
function mergeCandidates(candidates: Candidate[]): Finding[] {
  const byKey = new Map<string, Candidate[]>()
  for (const c of candidates) {
    const id = `${c.entry.loc.file}\u0000${c.entry.loc.offset}`
    byKey.set(id, [...(byKey.get(id) ?? []), c])
  }
  const out: Finding[] = []
  for (const group of byKey.values()) {
    const rule = PRECEDENCE.find(r => group.some(c => c.rule === r)) as Candidate['rule']
    const chosen = group.filter(c => c.rule === rule)
    const jobs = [...new Set(chosen.map(c => c.job))]
    const { entry } = chosen[0]
    const triggers = [...new Set(chosen.flatMap(c => c.triggers))]
    out.push({ rule, severity: 'high', file: entry.loc.file, line: entry.loc.line, ...envWords(rule, entry, jobs, triggers) })
  }
  return out
}

function envWords(rule: Candidate['rule'], e: Entry, jobs: string[], triggers: string[]): { message: string; fix: string } {
  const who = jobWords(jobs)
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
        message: `${e.name} in env: reaches ${who}, which ${jobs.length === 1 ? 'runs' : 'run'} Nx before the kit's action, so every run of ${jobs.length === 1 ? 'it' : 'them'}, pull requests included, gets this token.`,
        fix: `Remove ${e.name} from env: and run the kit's action (with read-write-token) before the first Nx command of ${jobs.length === 1 ? 'the job' : 'each job'}.`
      }
  }
}

function isLocalWorkflow(uses: string): boolean {
  return uses.startsWith('./.github/workflows/')
}

/** Token variables a (local) reusable workflow fills from secrets, following its own calls. */
function secretTokenUses(w: Workflow, repo: Repo, seen: Set<string>): Entry[] {
  if (seen.has(w.file)) return []
  seen.add(w.file)
  const out: Entry[] = []
  for (const job of w.jobs) {
    if (job.uses !== '') {
      const callee = isLocalWorkflow(job.uses) ? repo.workflows.get(job.uses.slice(2)) : undefined
      if (callee && !callee.error) out.push(...secretTokenUses(callee, repo, seen))
      continue
    }
    if (!job.steps.some(runsNx)) continue
    const envs = [...w.env, ...job.env, ...job.steps.flatMap(s => s.env)]
    out.push(...tokenEntries(envs).filter(e => readsSecret(e.value)))
  }
  return out
}

function secretNames(entries: Entry[]): Set<string> {
  const names = new Set<string>()
  for (const e of entries) for (const m of e.value.matchAll(/\bsecrets\.([A-Za-z0-9_]+)/g)) names.add(m[1])
  return names
}

/** Secrets handed from an untrusted trigger to a reusable workflow, at the caller's line. */
function reusableCalls(w: Workflow, repo: Repo): Finding[] {
  const untrusted = w.triggers.filter(t => UNTRUSTED_TRIGGERS.includes(t))
  if (untrusted.length === 0) return []
  const out: Finding[] = []
  for (const job of w.jobs) {
    if (job.uses === '') continue
    const local = isLocalWorkflow(job.uses)
    // A local reusable workflow takes no @ref (GitHub runs it from the caller's commit).
    const callee = local ? repo.workflows.get(job.uses.slice(2)) : undefined
    const uses = callee && !callee.error ? secretTokenUses(callee, repo, new Set()) : null
    const fix = `Do not pass secrets from ${untrusted.join(', ')}: call the workflow without them, or give the Nx secret only to the kit's read-write-token input inside it.`
    if (job.secretsInherit && (uses === null ? !local : uses.length > 0)) {
      const seenAt = uses && uses.length > 0 ? ` puts one in ${uses[0].name} (${where(uses[0].loc)})` : ' this offline audit cannot read, so every Nx Cloud secret among them reaches code it cannot judge'
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

/** What comes before the first `@` (a `uses:` without its ref). Not /@.*$/: quadratic on many `@`. */
function beforeAt(uses: string): string {
  const at = uses.indexOf('@')
  return at < 0 ? uses : uses.slice(0, at)
}

function truthy(v: string | undefined): boolean {
  return (v ?? '').trim().toLowerCase() === 'true'
}

function deployJobs(w: Workflow): Finding[] {
  const out: Finding[] = []
  for (const job of w.jobs) {
    if (job.uses !== '' || !job.steps.some(s => runsNx(s) || isKit(s))) continue
    const deploys =
      job.environment ||
      DEPLOYS.test(job.id) ||
      DEPLOYS.test(job.name) ||
      job.steps.some(s => DEPLOYS.test(s.name) || DEPLOYS.test(s.run) || DEPLOYS.test(beforeAt(s.uses)))
    if (!deploys) continue
    const skipEnv = (env: Entry[]): boolean => truthy(env.find(e => e.name === 'NX_SKIP_NX_CACHE')?.value)
    const jobWide = skipEnv(job.env) || (skipEnv(w.env) && !job.env.some(e => e.name === 'NX_SKIP_NX_CACHE'))
    const kitRebuild = job.steps.some(
      s => isKit(s) && (truthy(s.with.get('skip-cache')?.value) || (s.with.get('rebuild-command')?.value ?? '').trim() !== '')
    )
    const nxSteps = job.steps.filter(s => runsNx(s) && !isKit(s))
    const allSkip =
      nxSteps.length > 0 && nxSteps.every(s => skipEnv(s.env) || nxLines(s).every(l => /--skip-nx-cache\b/.test(l)))
    if (jobWide || kitRebuild || allSkip) continue
    const why = job.environment ? 'has an environment:' : 'deploys, publishes or releases'
    out.push({
      rule: 'deploy-without-rebuild',
      severity: 'high',
      file: w.file,
      line: job.loc.line,
      message: `Job '${job.id}' ${why} under ci-read-write, where every trusted branch can write the cache, so it may ship outputs restored from a pull request's build.`,
      fix: "Rebuild before deploying: run the kit in this job with 'skip-cache: true' (or 'rebuild-command'), or add --skip-nx-cache / NX_SKIP_NX_CACHE: true to its Nx commands."
    })
  }
  return out
}

function nxJsonFindings(repo: Repo, setups: Set<Setup>, opts: Options): Finding[] {
  const out: Finding[] = []
  const nx = repo.nxJson
  if (nx && tokenLevel(nx.config.accessToken) === 'read-write') {
    const strict = [...setups].filter(s => s === 'main-only' || s === 'ci-read-write')
    if (strict.length > 0 || opts.public) {
      out.push({
        rule: 'nx-json-read-write-token',
        severity: 'high',
        file: nx.file,
        line: nxJsonTokenLine(nx.text, nx.config.accessToken),
        message:
          strict.length > 0
            ? `nx.json commits a token that decodes as read-write, under setup ${strict.join(' and ')}: anyone who can read the repository can write to the cache, which this setup exists to prevent (the kit fails such runs).`
            : 'nx.json commits a token that decodes as read-write in a public repository: anyone on the internet can write to the cache.',
        fix:
          strict.length > 0
            ? "Revoke this token in Nx Cloud, commit a read-only token in its place, and keep the read-write token in a secret given to the kit's read-write-token input."
            : "Use setup main-only (or ci-read-write): commit a read-only token in nx.json and give the read-write token to the kit's read-write-token input as a secret; then revoke this one."
      })
    }
  }
  const everyOff = [...setups].every(s => s === 'off')
  // A directory where nothing uses Nx Cloud (no kit, no token, no cloud id in nx.json) needs no key.
  if (!everyOff && cloudInUse(repo) && (nx?.config.encryptionKey ?? '') === '' && !keyInWorkflows(repo)) {
    out.push({
      rule: 'no-encryption-key',
      severity: 'medium',
      file: nx?.file ?? 'nx.json',
      line: 1,
      message:
        'No Nx Cloud encryption key was found (not in nx.json, not in any encryption-key input, not in NX_CLOUD_ENCRYPTION_KEY): cached artifacts are stored unencrypted, and the kit fails every run that has a token unless require-encryption is false.',
      fix: "Create a key, store it as a secret and pass it to the kit's encryption-key input (or commit nxCloudEncryptionKey in nx.json); developers set the same NX_CLOUD_ENCRYPTION_KEY locally."
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

function cloudInUse(repo: Repo): boolean {
  const nx = repo.nxJson?.config
  if (nx && (nx.accessToken !== '' || nx.cloudId !== '' || nx.url !== '')) return true
  for (const w of repo.workflows.values()) {
    if (w.jobs.some(j => j.steps.some(usesNxCloud))) return true
    const envs = [...w.env, ...w.jobs.flatMap(j => [...j.env, ...j.steps.flatMap(s => s.env)])]
    if (tokenEntries(envs).length > 0) return true
  }
  return false
}

function keyInWorkflows(repo: Repo): boolean {
  for (const w of repo.workflows.values()) {
    const envs = [...w.env, ...w.jobs.flatMap(j => [...j.env, ...j.secrets, ...j.steps.flatMap(s => s.env)])]
    if (envs.some(e => e.name === 'NX_CLOUD_ENCRYPTION_KEY' && e.value.trim() !== '')) return true
    if (w.jobs.some(j => j.steps.some(s => isKit(s) && (s.with.get('encryption-key')?.value ?? '').trim() !== ''))) return true
  }
  return false
}

/** The line of the key holding the token Nx uses (the older layout wins, as in nx-config.ts). */
export function nxJsonTokenLine(text: string, token: string): number {
  const tree = parseTree(text, [], { allowTrailingComma: true, disallowComments: false })
  if (!tree) return 1
  for (const path of [['tasksRunnerOptions', 'default', 'options', 'accessToken'], ['nxCloudAccessToken']]) {
    const n = findNodeAtLocation(tree, path)
    if (n && n.value === token) return text.slice(0, (n.parent ?? n).offset).split('\n').length
  }
  return 1
}
