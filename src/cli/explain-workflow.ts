// `explain --workflow FILE [--job ID]`: what the kit's step in a real workflow decides on each kind
// of run, given what GitHub would hand that run. The workflow is read as GitHub reads it (YAML 1.2),
// the job's `environment:` and every `${{ }}` of the step's `with:` and of the `env:` around it are
// evaluated with GitHub's own evaluator (@actions/expressions), and secrets are given as GitHub
// gives them: none to forks and Dependabot, an environment's secrets only to a job whose
// environment expression names it on a ref its deployment branches allow. The decision is then the
// action's own (explain.ts explainOne: readInputs → resolveRunFacts → decide), failures included.
// Secret values never exist here: each secret is a stand-in, masked in everything printed.

import { readFileSync, statSync } from 'node:fs'
import { dirname, resolve, sep } from 'node:path'
import { Evaluator, Lexer, Parser, data } from '@actions/expressions'
import { truthy as truthyData } from '@actions/expressions/result'
import { parse } from 'yaml'
import { picomatch } from '../core/lazy-packages.js'
import type { Env } from '../core/inputs.js'
import { resolveRunFacts } from '../core/run-facts.js'
import { type Io, UsageError, paint } from './common.js'
import { type ExplainResult, type Setting, accessText, explainOne, readNx } from './explain.js'
import { type RunFlags, runFromFlags } from './run-input.js'
import { COMMON_RUNS, type NamedRun } from './explain-runs.js'

/** The kit's token step as a workflow names it (not the cache action, `…/cache@`). */
const KIT_STEP = /^nx-cloud-access\/nx-cloud-access(?:@|$)/i

/** The runs a workflow is explained for, in this order: those of `explain --all` its `on:` triggers. */
const WORKFLOW_RUNS: NamedRun[] = [
  'push to main',
  'push to a feature branch',
  'pull request, same repository',
  'pull request from a fork',
  'pull request by Dependabot',
  'merge queue into main',
  'workflow_dispatch on main',
  'schedule (on main)',
  'pull_request_target'
].map(label => COMMON_RUNS.find(r => r.label === label) as NamedRun)

/* eslint-disable @typescript-eslint/no-explicit-any */
type Yaml = any

export interface WorkflowOptions {
  file: string
  job?: string
  /** `ENV=NAME`: NAME is a secret of environment ENV only (not a repository secret). */
  environmentSecrets: string[]
  /** `ENV=GLOB,GLOB`: the deployment branches of ENV (default: the default branch). */
  environmentBranches: string[]
  /** Secrets the step names that are not created at all. */
  unsetSecrets: string[]
  nxJson?: string
  dir?: string
  repository: Pick<RunFlags, 'baseRepo' | 'defaultBranch' | 'public'>
  json: boolean
}

export interface WorkflowRow extends ExplainResult {
  run: string
  /** The environment the job requests on this run ('' for none). */
  environment: string
  /** Set when GitHub fails the job before the step (an environment the ref may not use). */
  jobError: string | null
  /** The step's `if:` is false on this run: it does not run. */
  skipped: boolean
  /** The names of the secrets GitHub gives this run's job (never their values). */
  secretsGiven: string[]
  /** The step's inputs that are non-empty on this run. */
  inputsSet: string[]
}

export async function explainWorkflow(o: WorkflowOptions, io: Io): Promise<number> {
  const path = resolve(io.cwd, o.file)
  let text: string
  try {
    if (!statSync(path).isFile()) throw Object.assign(new Error('not a regular file'), { code: 'not a regular file' })
    text = readFileSync(path, 'utf8')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error'
    throw new UsageError(`--workflow ${path} cannot be read (${code === 'ENOENT' ? 'no such file' : code}). Accepted: a workflow file.`)
  }
  let wf: Yaml
  try {
    wf = parse(text)
  } catch (e) {
    throw new UsageError(`--workflow ${path} is not valid YAML: ${(e as Error).message.split('\n')[0]}`)
  }
  if (wf === null || typeof wf !== 'object' || typeof wf.jobs !== 'object' || wf.jobs === null) {
    throw new UsageError(`--workflow ${path} has no jobs: (a workflow file of .github/workflows is expected).`)
  }
  const { jobId, job, step } = kitStep(wf, o.job, path)
  const envSecrets = secretsByEnvironment(o.environmentSecrets)
  const envBranches = branchesByEnvironment(o.environmentBranches)
  const unset = new Set(o.unsetSecrets)
  const named = new Set(secretNamesIn([step.with, step.env, job.env, wf.env, step.if]))
  const envOnly = new Set([...envSecrets.values()].flatMap(s => [...s]))
  const repositorySecrets = [...named].filter(n => !envOnly.has(n) && !unset.has(n))

  // nx.json: the repository's (the folder above .github/workflows), under the step's working-directory.
  const repoRoot = repositoryRoot(path)
  const triggers = triggersOf(wf.on)
  const rows: WorkflowRow[] = []
  for (const r of WORKFLOW_RUNS) {
    if (!runsOn(triggers, r.flags)) continue
    const runInput = runFromFlags({ ...r.flags, ...o.repository })
    const facts = await resolveRunFacts(runInput)
    const github = githubContext(runInput)
    const withheld = facts.secretsWithheld ?? null
    // Secrets as GitHub gives them: GITHUB_TOKEN always; none of the repository's to forks and Dependabot.
    const secrets: Record<string, string> = { GITHUB_TOKEN: standIn('GITHUB_TOKEN') }
    if (withheld === null) for (const n of repositorySecrets) secrets[n] = standIn(n)
    const base = { vars: {}, inputs: {}, matrix: {}, needs: {}, steps: {}, strategy: {}, job: {}, runner: RUNNER }
    const environment = evaluateText(environmentName(job.environment), { github, ...base }) ?? ''
    let jobError: string | null = null
    if (environment !== '') {
      const allowed = envBranches.get(environment) ?? [facts.defaultBranch]
      const branch = deploymentBranch(runInput, github)
      if (!picomatch()(allowed, { dot: true })(branch)) {
        jobError = `the job requests the environment '${environment}', whose deployment branches (${allowed.join(', ')}) do not include '${branch}': GitHub fails the job before any step runs`
      } else if (withheld === null) {
        for (const n of envSecrets.get(environment) ?? []) if (!unset.has(n)) secrets[n] = standIn(n)
      }
    }
    const ctx = { github, secrets, ...base }
    const ambient: Env = {}
    for (const level of [wf.env, job.env, step.env]) {
      for (const [k, v] of Object.entries(mapping(level))) ambient[k] = evaluateText(String(v ?? ''), { ...ctx, env: { ...ambient } }) ?? ''
    }
    const inputs: Record<string, string> = {}
    for (const [k, v] of Object.entries(mapping(step.with))) {
      inputs[k.toLowerCase()] = evaluateText(String(v ?? ''), { ...ctx, env: ambient }) ?? ''
    }
    const stepIf = step.if === undefined ? true : truthy(String(step.if), { ...ctx, env: ambient })
    const nx = readNx(o.nxJson, o.dir ?? repoRoot, inputs['working-directory'] || '.', io.cwd)
    const setting: Setting = { inputs, ambient, nx, assumed: [], workspaceIdAccess: 'none' }
    const decided = await explainOne(inputs.setup || 'main-only', runInput, setting)
    // Masked as explain masks: a stand-in is a secret, whatever it reaches.
    const stand = Object.values(secrets)
    const m = (t: string): string => stand.reduce((acc, s) => acc.split(s).join('***'), t)
    rows.push({
      ...decided,
      reason: m(decided.reason),
      warnings: decided.warnings.map(m),
      notices: decided.notices.map(m),
      error: decided.error === null ? null : m(decided.error),
      run: r.label,
      environment,
      jobError,
      skipped: !stepIf,
      secretsGiven: Object.keys(secrets).filter(n => n !== 'GITHUB_TOKEN'),
      inputsSet: Object.entries(inputs)
        .filter(([, v]) => v !== '')
        .map(([k]) => k)
    })
  }
  if (rows.length === 0)
    throw new UsageError(
      `--workflow ${path}: its on: triggers none of the runs explained (${WORKFLOW_RUNS.map(r => r.flags.event).join(', ')}).`
    )
  const failed = rows.some(r => r.jobError !== null || (!r.skipped && r.error !== null))
  if (o.json) {
    io.out(JSON.stringify({ workflow: path, job: jobId, runs: rows.map(r => ({ ...r, rows: undefined })) }, null, 2) + '\n')
  } else io.out(renderTable(o.file, jobId, rows, io))
  return failed ? 1 : 0
}

/** The job and the kit's step in it: the job --job names, or the only job that uses the kit. */
function kitStep(wf: Yaml, wanted: string | undefined, path: string): { jobId: string; job: Yaml; step: Yaml } {
  const withKit = Object.entries(wf.jobs as Record<string, Yaml>).filter(
    ([, j]) => Array.isArray(j?.steps) && j.steps.some((s: Yaml) => typeof s?.uses === 'string' && KIT_STEP.test(s.uses))
  )
  const ids = withKit.map(([id]) => id)
  if (wanted !== undefined) {
    const hit = withKit.find(([id]) => id === wanted)
    if (!hit) {
      throw new UsageError(
        `--job '${wanted}' is not a job of ${path} that uses nx-cloud-access/nx-cloud-access. Accepted: ${ids.join(', ') || '(none: no job uses the kit)'}.`
      )
    }
    return { jobId: hit[0], job: hit[1], step: hit[1].steps.find((s: Yaml) => typeof s?.uses === 'string' && KIT_STEP.test(s.uses)) }
  }
  if (withKit.length !== 1) {
    throw new UsageError(
      withKit.length === 0
        ? `--workflow ${path}: no job uses nx-cloud-access/nx-cloud-access.`
        : `--workflow ${path}: several jobs use nx-cloud-access/nx-cloud-access (${ids.join(', ')}): name one with --job.`
    )
  }
  const [jobId, job] = withKit[0]
  return { jobId, job, step: job.steps.find((s: Yaml) => typeof s?.uses === 'string' && KIT_STEP.test(s.uses)) }
}

function mapping(v: Yaml): Record<string, Yaml> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, Yaml>) : {}
}

/** `environment: NAME` or `environment: { name: NAME }`. */
function environmentName(env: Yaml): string {
  if (typeof env === 'string') return env
  return typeof env?.name === 'string' ? env.name : ''
}

function secretNamesIn(values: Yaml[]): string[] {
  const text = JSON.stringify(values)
  return [...text.matchAll(/\bsecrets(?:\.([A-Za-z0-9_-]+)|\[\s*'([^']+)'\s*\])/g)].map(m => m[1] ?? m[2]).filter(n => n !== 'GITHUB_TOKEN')
}

function pairsOf(values: string[], flag: string): [string, string][] {
  return values.map(v => {
    const eq = v.indexOf('=')
    if (eq <= 0 || eq === v.length - 1) throw new UsageError(`--${flag} takes ENVIRONMENT=VALUE, got '${v}'.`)
    return [v.slice(0, eq), v.slice(eq + 1)]
  })
}

function secretsByEnvironment(values: string[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>()
  for (const [env, name] of pairsOf(values, 'environment-secret')) out.set(env, (out.get(env) ?? new Set()).add(name))
  return out
}

function branchesByEnvironment(values: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const [env, globs] of pairsOf(values, 'environment-branches')) {
    out.set(env, [
      ...(out.get(env) ?? []),
      ...globs
        .split(',')
        .map(g => g.trim())
        .filter(g => g !== '')
    ])
  }
  return out
}

function repositoryRoot(path: string): string {
  const marker = `${sep}.github${sep}workflows${sep}`
  const at = path.lastIndexOf(marker)
  return at >= 0 ? path.slice(0, at) : dirname(path)
}

/** A secret's stand-in: never a real value, and masked wherever it shows. */
function standIn(name: string): string {
  return `stand-in-for-secret-${name}`
}

const RUNNER = { os: 'Linux', arch: 'X64', temp: '/home/runner/work/_temp', environment: 'github-hosted' }

type Triggers = Map<string, Yaml>

function triggersOf(on: Yaml): Triggers {
  if (typeof on === 'string') return new Map([[on, null]])
  if (Array.isArray(on)) return new Map(on.map(e => [String(e), null]))
  return new Map(Object.entries(mapping(on)))
}

/** Does the workflow run on this kind of run? Events by `on:`; a push's branch by its filters. */
function runsOn(triggers: Triggers, f: RunFlags): boolean {
  const event = f.event ?? ''
  if (!triggers.has(event)) return false
  if (event !== 'push') return true
  const filter = mapping(triggers.get(event))
  const branch = (f.ref ?? '').replace(/^refs\/heads\//, '')
  const list = (v: Yaml): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : [])
  if (filter.branches !== undefined) {
    const globs = list(filter.branches)
    const positive = globs.filter(g => !g.startsWith('!'))
    const negative = globs.filter(g => g.startsWith('!')).map(g => g.slice(1))
    return picomatch()(positive)(branch) && !(negative.length > 0 && picomatch()(negative)(branch))
  }
  if (filter['branches-ignore'] !== undefined) return !picomatch()(list(filter['branches-ignore']))(branch)
  // Only tags or paths filters: a branch push runs unless tags alone are filtered.
  return filter.tags === undefined || filter.branches !== undefined
}

/** The `github` context of a run, from the same payload the action reads. */
function githubContext(run: ReturnType<typeof runFromFlags>): Record<string, Yaml> {
  const pr = run.payload.pull_request
  const isPr = pr !== undefined && run.event !== 'pull_request_target' ? true : run.event === 'pull_request_target'
  return {
    event_name: run.event,
    ref: run.ref,
    ref_name: run.ref.replace(/^refs\/(?:heads|tags)\//, '').replace(/^refs\/pull\/(\d+)\/merge$/, '$1/merge'),
    ref_type: run.ref.startsWith('refs/tags/') ? 'tag' : 'branch',
    actor: run.actor,
    triggering_actor: run.actor,
    repository: run.repository,
    repository_owner: run.repository.split('/')[0],
    base_ref: isPr ? String(pr?.base?.ref ?? '') : '',
    head_ref: isPr ? String(pr?.head?.ref ?? '') : '',
    event: run.payload,
    workspace: '/home/runner/work/repo/repo',
    server_url: 'https://github.com'
  }
}

/** The branch an environment's deployment branch rules are checked against, as GitHub names it. */
function deploymentBranch(run: ReturnType<typeof runFromFlags>, github: Record<string, Yaml>): string {
  if (run.event === 'pull_request' || run.event === 'pull_request_review' || run.event === 'pull_request_review_comment') {
    return String(github.head_ref)
  }
  return String(github.ref_name)
}

const CONTEXTS = ['github', 'secrets', 'inputs', 'vars', 'env', 'matrix', 'needs', 'steps', 'runner', 'job', 'strategy']

function toData(v: Yaml): data.ExpressionData {
  if (v === null || v === undefined) return new data.Null()
  if (typeof v === 'string') return new data.StringData(v)
  if (typeof v === 'boolean') return new data.BooleanData(v)
  if (typeof v === 'number') return new data.NumberData(v)
  if (Array.isArray(v)) {
    const a = new data.Array()
    for (const x of v) a.add(toData(x))
    return a
  }
  return new data.Dictionary(...Object.entries(v).map(([key, value]) => ({ key, value: toData(value) })))
}

function evaluateExpression(body: string, ctx: Record<string, Yaml>): data.ExpressionData {
  const lexed = new Lexer(body).lex()
  const expr = new Parser(lexed.tokens, CONTEXTS, []).parse()
  return new Evaluator(expr, toData(ctx) as data.Dictionary).evaluate()
}

/** A value with its `${{ }}` evaluated as GitHub does; null when an expression cannot be read. */
function evaluateText(value: string, ctx: Record<string, Yaml>): string | null {
  let out = ''
  let at = 0
  for (;;) {
    const start = value.indexOf('${{', at)
    if (start < 0) return out + value.slice(at)
    const end = value.indexOf('}}', start + 3)
    if (end < 0) throw new UsageError(`--workflow: an expression is not closed ('\${{' without '}}') in: ${value}`)
    let v: string
    try {
      v = evaluateExpression(value.slice(start + 3, end), ctx).coerceString()
    } catch (e) {
      throw new UsageError(`--workflow: GitHub could not evaluate \${{${value.slice(start + 3, end)}}}: ${(e as Error).message}`)
    }
    out += value.slice(at, start) + v
    at = end + 2
  }
}

/** A step's `if:`: an expression with or without `${{ }}`, as GitHub reads it. */
function truthy(cond: string, ctx: Record<string, Yaml>): boolean {
  const m = /^\s*\$\{\{([\s\S]*)\}\}\s*$/.exec(cond)
  // The step runs after earlier steps succeeded: the status functions are known here.
  const body = (m ? m[1] : cond).replace(/\b(?:success|always)\(\s*\)/g, 'true').replace(/\b(?:failure|cancelled)\(\s*\)/g, 'false')
  try {
    return truthyData(evaluateExpression(body, ctx))
  } catch (e) {
    throw new UsageError(`--workflow: GitHub could not evaluate the step's if: ${cond}: ${(e as Error).message}`)
  }
}

function renderTable(path: string, jobId: string, rows: WorkflowRow[], io: Io): string {
  const plain: Io = { ...io, color: false }
  const cell = (r: WorkflowRow, c: Io): string =>
    r.jobError !== null ? paint(c, 'red', 'job fails') : r.skipped ? paint(c, 'gray', 'step skipped') : accessText(r, c)
  const header = ['Run', 'Environment', 'Inputs with a value', 'Access', 'Says']
  const says = (r: WorkflowRow): string => {
    if (r.jobError !== null || r.skipped) return ''
    if (r.error !== null) return 'error'
    const parts = [
      r.warnings.length > 0 ? `${r.warnings.length} warning${r.warnings.length > 1 ? 's' : ''}` : '',
      r.notices.length > 0 ? `${r.notices.length} notice${r.notices.length > 1 ? 's' : ''}` : ''
    ]
    return parts.filter(p => p !== '').join(', ') || '-'
  }
  const table = rows.map(r => [r.run, r.environment || '-', r.inputsSet.join(', ') || '-', cell(r, plain), says(r)])
  const widths = header.map((h, i) => Math.max(h.length, ...table.map(t => t[i].length)))
  const line = (t: string[], r: WorkflowRow | null): string =>
    t
      .map((c, i) => (r !== null && i === 3 ? cell(r, io) : c) + ' '.repeat(widths[i] - c.length))
      .join('  ')
      .trimEnd()
  const out = [
    `${path}, job ${jobId}:`,
    '',
    line(header, null),
    widths.map(w => '-'.repeat(w)).join('  '),
    ...rows.map((r, i) => line(table[i], r))
  ]
  // Each message once, with the runs it concerns.
  const said = new Map<string, string[]>()
  const add = (kind: string, text: string, run: string): void => {
    const key = `${kind} ${text}`
    said.set(key, [...(said.get(key) ?? []), run])
  }
  for (const r of rows) {
    if (r.jobError !== null) add('job fails:', r.jobError, r.run)
    else if (r.skipped) continue
    else if (r.error !== null) add('error:', r.error, r.run)
    else {
      for (const w of r.warnings) add('warning:', w, r.run)
      for (const n of r.notices) add('notice:', n, r.run)
    }
  }
  if (said.size > 0) out.push('')
  for (const [key, runs] of said) out.push(`${runs.join('; ')} — ${key}`)
  out.push(
    '',
    paint(
      io,
      'gray',
      'Secrets as GitHub gives them: every secret the step names is a repository secret unless --environment-secret says it belongs to an environment (or --unset-secret that it is not created); none reach forks or Dependabot (no Dependabot secrets assumed).'
    )
  )
  return out.join('\n') + '\n'
}
