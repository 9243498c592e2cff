// `explain`: what would this run get, and why — the action's own readInputs → resolveRunFacts →
// decide() on a run given by flags or by a webhook payload, with no GitHub and no Nx Cloud.
// Secrets are never printed: every value in decision.secrets shows as `***`.

import { readFileSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { ACTION_INPUTS, type Env, SECRET_INPUTS, inputVariable, readInputs } from '../core/inputs.js'
import { nxConfigOfText, readNxConfig } from '../action-io/nx-json.js'
import { MalformedNxJson } from '../core/nx-config.js'
import { decide, secretsOf } from '../core/policy.js'
import { failedStepSummary, readOnlyNotes, summaryRows } from '../core/report.js'
import { type RunInput, resolveRunFacts } from '../core/run-facts.js'
import { hideSecrets } from '../core/secrets.js'
import { type Config, type Decision, type NxConfig, type WorkspaceIdAccess, PolicyError, SETUPS } from '../core/types.js'
import { type Io, UsageError, asUsage, paint, pairs } from './common.js'
import { suggestion } from './flags.js'
import { type RunFlags, runFromFlags } from './run-input.js'
import { COMMON_RUNS } from './explain-runs.js'
import { explainWorkflow } from './explain-workflow.js'

export const EXPLAIN_USAGE = `Usage: nx-cloud-access explain [options]

What would a run get? Runs the action's own policy on a run given by flags or a payload.

Run:
  --event NAME            the GITHUB_EVENT_NAME (push, pull_request, merge_group, ...; any workflow
                          trigger, others are refused)
  --ref REF               GITHUB_REF (default: the default branch; refs/pull/1/merge for PRs)
  --head-repo OWNER/NAME  a PR's head repository (a fork when it differs from --base-repo)
  --base-repo OWNER/NAME  the repository (default acme/monorepo)
  --actor LOGIN           GITHUB_ACTOR (dependabot[bot] makes a PR untrusted)
  --base-ref BRANCH       a PR's base, or a merge queue's target
  --default-branch NAME   the repository's default branch (default main)
  --public                the repository is public
  --payload FILE          a real webhook payload (with --event); flags above override its ref/actor
Setup:
  --setup NAME            main-only|ci-read-write|shared-read-write|off, or 1|2|3 (default main-only)
  --input NAME=VALUE      an input of action.yml (write-branches, workspace-id-access, ...),
                          repeatable; other names are refused. read-write-token, read-only-token and
                          encryption-key are assumed set unless given (pass NAME= to leave one
                          empty), except for runs GitHub gives no secrets (fork and Dependabot PRs)
  --env NAME=VALUE        a workflow- or job-level env: variable the step would see, repeatable
  --dir DIR               the workspace whose nx.json is read (default .)
  --nx-json FILE          read this nx.json instead of the workspace's (not with --dir)
Workflow (instead of Run and Setup):
  --workflow FILE         explain the kit's step of this workflow for each run its on: triggers:
                          the step's with:, the job's environment: and env: evaluated as GitHub
                          does, secrets given as GitHub gives them (none to forks and Dependabot;
                          an environment's only where the job requests it on an allowed branch)
  --job ID                the job whose kit step to explain (needed when several jobs use it)
  --environment-secret ENV=NAME
                          NAME is a secret of the GitHub environment ENV, not of the repository
                          (repeatable; other secrets the step names are repository secrets)
  --environment-branches ENV=GLOB[,GLOB]
                          ENV's deployment branches (default: the default branch)
  --unset-secret NAME     NAME is not created at all (repeatable), e.g. no encryption key yet
Output:
  --all                   the table of common runs for each setup (or for --setup)
  --json                  machine-readable; carries "access": read-write | read-only | none, and
                          "risk" when an untrusted run could write (shown as "read-write !")

Exit: 0; 1 when the action would fail the run (with --all: any run of the table); 2 on bad usage,
an unknown --event or --input, or an nx.json that is malformed (line and column) or unreadable;
3 an internal error (a bug).
`

/** Stand-ins for secrets the user does not have at hand; they never print (they are secrets). */
const ASSUMED: Record<string, string> = {
  'read-write-token': 'assumed-read-write-token',
  'read-only-token': 'assumed-read-only-token',
  'encryption-key': 'assumed-encryption-key'
}

export interface Setting {
  inputs: Record<string, string>
  ambient: Env
  nx: NxConfig
  assumed: string[]
  /** The workspace-id-access the runs are explained for (docs/POLICY.md#no-token). */
  workspaceIdAccess: WorkspaceIdAccess
}

/** docs/POLICY.md#setups: read-write for an untrusted run (setup 3 gives it nx.json's token). */
const RISK = 'untrusted run can write'

export interface ExplainResult {
  setup: string
  event: string
  ref: string
  access: Decision['access']
  tokenSource: Decision['tokenSource']
  /** Short, as the action's `reason` output. */
  reason: string
  /** The rule's whole chain, as the job summary's details give it. */
  detail: string
  /** What to change, one sentence, or null (as the job summary's "To fix" line). */
  fix: string | null
  encryption: Decision['encryption'] | null
  skipCache: boolean
  trusted: boolean
  trustReason: string
  branch: string | null
  exports: Record<string, string>
  notices: string[]
  warnings: string[]
  /** What the action's job summary adds (read-only: the branch-isolated cache), as in apply.ts. */
  notes: string[]
  /** Set when the action would fail the run (and export nothing). */
  error: string | null
  /** `untrusted run can write` when an untrusted run gets read-write access; else null. */
  risk: string | null
  /** No token: Nx connects through nx.json's nxCloudId at the workspace ID access level. */
  viaNxCloudId: boolean
  /** Why GitHub gives this run no secrets (docs/POLICY.md#no-token), or null. */
  secretsWithheld: string | null
  /** The secrets assumed set for this run: none for a run GitHub gives no secrets. */
  assumed: string[]
  rows: [string, string][]
}

export async function explain(argv: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      event: { type: 'string' },
      ref: { type: 'string' },
      actor: { type: 'string' },
      'head-repo': { type: 'string' },
      'base-repo': { type: 'string' },
      'base-ref': { type: 'string' },
      'default-branch': { type: 'string' },
      public: { type: 'boolean' },
      payload: { type: 'string' },
      setup: { type: 'string' },
      input: { type: 'string', multiple: true },
      env: { type: 'string', multiple: true },
      dir: { type: 'string' },
      'nx-json': { type: 'string' },
      all: { type: 'boolean' },
      json: { type: 'boolean' },
      workflow: { type: 'string' },
      job: { type: 'string' },
      'environment-secret': { type: 'string', multiple: true },
      'environment-branches': { type: 'string', multiple: true },
      'unset-secret': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' }
    }
  })
  if (values.help) {
    io.out(EXPLAIN_USAGE)
    return 0
  }
  const workflowOnly = (['job', 'environment-secret', 'environment-branches', 'unset-secret'] as const).filter(k => values[k] !== undefined)
  if (values.workflow === undefined && workflowOnly.length > 0) {
    throw new UsageError(
      `--${workflowOnly.join(', --')} describe${workflowOnly.length > 1 ? '' : 's'} a --workflow run; give --workflow FILE.`
    )
  }
  if (values.workflow !== undefined) {
    // The run's inputs, env: and secrets come from the workflow and GitHub, not from flags.
    const perRun = (['event', 'ref', 'actor', 'head-repo', 'base-ref', 'payload', 'setup', 'input', 'env', 'all'] as const).filter(
      k => values[k] !== undefined
    )
    if (perRun.length > 0) {
      throw new UsageError(
        `--workflow reads the step's inputs and env: from the workflow and explains each run it triggers; it does not take --${perRun.join(', --')}.`
      )
    }
    if (values['nx-json'] !== undefined && values.dir !== undefined) {
      throw new UsageError('--nx-json names the nx.json to read; it does not take --dir (give one of the two).')
    }
    return explainWorkflow(
      {
        file: values.workflow,
        job: values.job,
        environmentSecrets: values['environment-secret'] ?? [],
        environmentBranches: values['environment-branches'] ?? [],
        unsetSecrets: values['unset-secret'] ?? [],
        nxJson: values['nx-json'],
        dir: values.dir,
        repository: { baseRepo: values['base-repo'], defaultBranch: values['default-branch'], public: values.public },
        json: values.json === true
      },
      io
    )
  }
  const inputs = pairs(values.input, 'input')
  // A mistyped input would be ignored silently, and the run explained without it.
  for (const name of Object.keys(inputs)) {
    if (!(ACTION_INPUTS as readonly string[]).includes(name)) {
      throw new UsageError(`--input '${name}' is not an input of the action (action.yml)${suggestion(name, ACTION_INPUTS)}`)
    }
  }
  if (values.setup !== undefined) inputs.setup = values.setup
  const ambient: Env = pairs(values.env, 'env')
  if (values['nx-json'] !== undefined && values.dir !== undefined) {
    throw new UsageError('--nx-json names the nx.json to read; it does not take --dir (give one of the two).')
  }
  const run: RunFlags = {
    event: values.event,
    ref: values.ref,
    actor: values.actor,
    headRepo: values['head-repo'],
    baseRepo: values['base-repo'],
    baseRef: values['base-ref'],
    defaultBranch: values['default-branch'],
    public: values.public,
    payload: values.payload
  }

  // Bad inputs are bad usage here (the action would fail the step; the user mistyped a flag).
  const base = asUsage(() => readInputs(envOf({ ...inputs, setup: inputs.setup ?? 'main-only' })))
  const nx = readNx(values['nx-json'], values.dir, base.workingDirectory, io.cwd)
  const setting = withAssumptions(inputs, ambient, nx, base.workspaceIdAccess ?? 'none')

  if (values.all) {
    const perRun = ['event', 'ref', 'actor', 'head-repo', 'base-ref', 'payload'] as const
    const given = perRun.filter(k => values[k] !== undefined)
    if (given.length > 0) {
      throw new UsageError(`--all explains its own table of runs; it does not take --${given.join(', --')}.`)
    }
    const setups = values.setup !== undefined ? [base.setup] : [...SETUPS]
    return explainAll(setups, run, setting, values.json === true, io)
  }
  const runInput = runFromFlags(run)
  const result = await explainOne(base.setup, runInput, setting)
  if (values.json) {
    io.out(JSON.stringify({ ...result, rows: undefined, workspaceIdAccess: setting.workspaceIdAccess }, null, 2) + '\n')
  } else io.out(renderOne(result, io))
  return result.error === null ? 0 : 1
}

/**
 * nx.json as the action reads it (docs/POLICY.md#nxjson), or the file --nx-json names. What the
 * action refuses (malformed, unreadable, no such folder) is bad usage here: exit 2, in the words of
 * the flags that named the file (--dir, --input working-directory, --nx-json), never the action's input.
 */
export function readNx(file: string | undefined, dir: string | undefined, workingDirectory: string, cwd: string): NxConfig {
  const flags = [dir !== undefined ? `--dir ${dir}` : '', workingDirectory !== '.' ? `--input working-directory=${workingDirectory}` : '']
    .filter(f => f !== '')
    .join(' with ')
  const named = (e: unknown): never => {
    if (e instanceof MalformedNxJson) throw new UsageError(file !== undefined ? `--nx-json: ${e.plain}` : e.plain)
    if (e instanceof PolicyError) {
      throw new UsageError(e.message.replace(/^Input 'working-directory' points at /, `${flags || 'The current folder'}: `))
    }
    throw e
  }
  if (file === undefined) {
    const folder = resolve(cwd, dir ?? '.', workingDirectory)
    let kind: string
    try {
      kind = statSync(folder).isDirectory() ? 'folder' : 'not a folder'
    } catch {
      kind = 'does not exist'
    }
    if (kind !== 'folder') {
      throw new UsageError(
        `${flags || 'The current folder'} names ${folder}, which ${kind === 'not a folder' ? 'is not a folder' : 'does not exist'}. Accepted: the folder of an Nx workspace (where nx.json is).`
      )
    }
    try {
      // Not the workspace's env files: on a developer's machine they hold the developer's own
      // token (nx-cloud.env, a git-ignored .env), which a CI checkout does not have.
      return { ...readNxConfig(folder, resolve(cwd, dir ?? '.')), envFileTokens: [], envFiles: undefined }
    } catch (e) {
      return named(e)
    }
  }
  const path = resolve(cwd, file)
  let text: string
  try {
    // A FIFO or a device (/dev/zero) would hang the command or fill its memory.
    if (!statSync(path).isFile()) throw Object.assign(new Error('not a regular file'), { code: 'not a regular file' })
    text = readFileSync(path, 'utf8')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error'
    throw new UsageError(
      `--nx-json ${path} cannot be read (${code === 'ENOENT' ? 'no such file' : code}). Accepted: the path of an nx.json file.`
    )
  }
  try {
    return nxConfigOfText(text, path, dirname(path), dirname(path))
  } catch (e) {
    return named(e)
  }
}

function envOf(inputs: Record<string, string>): Env {
  const env: Env = {}
  for (const [k, v] of Object.entries(inputs)) env[inputVariable(k)] = v
  return env
}

function withAssumptions(inputs: Record<string, string>, ambient: Env, nx: NxConfig, workspaceIdAccess: WorkspaceIdAccess): Setting {
  const full = { ...inputs }
  const assumed: string[] = []
  for (const [name, value] of Object.entries(ASSUMED)) {
    if (name in full) continue
    // A key assumed next to nx.json's own would be a different key: the action would refuse it.
    if (name === 'encryption-key' && (nx.encryptionKey !== '' || (ambient.NX_CLOUD_ENCRYPTION_KEY ?? '') !== '')) continue
    full[name] = value
    assumed.push(name)
  }
  return { inputs: full, ambient, nx, assumed, workspaceIdAccess }
}

export async function explainOne(setup: string, runInput: RunInput, s: Setting): Promise<ExplainResult> {
  const facts = await resolveRunFacts(runInput)
  // GitHub gives a fork's or Dependabot's pull request no secrets (docs/POLICY.md#no-token): a
  // secret assumed set is empty for it, as it would be on GitHub. Secrets given by --input stay.
  const withheld = facts.secretsWithheld ?? null
  const assumed = withheld === null ? s.assumed : []
  const inputs = { ...s.inputs }
  if (withheld !== null) for (const name of s.assumed) inputs[name] = ''
  const common = { setup, event: runInput.event, ref: runInput.ref, secretsWithheld: withheld, assumed }
  // Inputs valid under one setup can contradict another (self-hosted-cache-url under off):
  // the action fails that run, so its row says so instead of the command crashing.
  let config: Config | null = null
  try {
    config = readInputs(envOf({ ...inputs, setup }))
    common.setup = config.setup
    const d = decide(config, facts, s.nx, s.ambient)
    const m = (t: string): string => hideSecrets(t, d.secrets)
    const exports: Record<string, string> = {}
    for (const [k, v] of Object.entries(d.exports)) exports[k] = m(v)
    // Outside self-hosted caches, nx.json as the source with no token in it is nxCloudId (policy.ts tokenless()).
    const viaNxCloudId = d.access !== 'none' && d.tokenSource === 'nx.json' && s.nx.accessToken === ''
    return {
      ...common,
      access: d.access,
      tokenSource: d.tokenSource,
      reason: m(d.reason),
      detail: m(d.detail),
      fix: d.fix === null ? null : m(d.fix),
      encryption: d.encryption,
      skipCache: d.skipCache,
      trusted: facts.trusted,
      trustReason: facts.trustReason,
      branch: facts.branch,
      exports,
      notices: d.notices.map(m),
      warnings: d.warnings.map(m),
      notes: readOnlyNotes(d),
      error: null,
      risk: d.access === 'read-write' && !facts.trusted ? RISK : null,
      viaNxCloudId,
      rows: [
        ...summaryRows(d).map(([k, v]): [string, string] => [
          k,
          k === 'Token source' && viaNxCloudId ? `${m(v)} (nxCloudId, no token)` : m(v)
        ]),
        ...(d.detail === d.reason ? [] : [['Rule', m(d.detail)] as [string, string]])
      ]
    }
  } catch (e) {
    if (!(e instanceof PolicyError)) throw e
    // No decision, so no decision.secrets: the same values it would hold, and nothing else (a
    // setup or a branch name is not a secret), whatever their length.
    const secrets = secretsOf(
      [
        ...SECRET_INPUTS.map(name => s.inputs[name] ?? ''),
        ...(config ? [config.readWriteToken, config.readOnlyToken, config.encryptionKey, config.githubToken] : [])
      ],
      s.nx,
      s.ambient
    )
    const m = (t: string): string => hideSecrets(t, secrets)
    return {
      ...common,
      access: 'none',
      tokenSource: 'none',
      reason: `The action fails this run and exports nothing: ${m(e.message)}`,
      detail: `The action fails this run and exports nothing: ${m(e.message)}`,
      fix: failedStepSummary(m(e.message)).fix,
      encryption: null,
      skipCache: config?.skipCache ?? false,
      trusted: facts.trusted,
      trustReason: facts.trustReason,
      branch: facts.branch,
      exports: {},
      notices: [],
      warnings: [],
      notes: [],
      error: m(e.message),
      risk: null,
      viaNxCloudId: false,
      rows: [
        ['Setup', common.setup],
        ['Event', facts.event || '(none)'],
        ['Trust', `${facts.trusted ? 'trusted' : 'untrusted'}: ${facts.trustReason}`],
        ['Access', 'none (the step fails)']
      ]
    }
  }
}

function accessColour(access: string): 'green' | 'yellow' | 'gray' {
  return access === 'read-write' ? 'green' : access === 'read-only' ? 'yellow' : 'gray'
}

/** An access as a cell or a heading shows it: `read-write !` in magenta when an untrusted run writes. */
export function accessText(r: ExplainResult, io: Io): string {
  if (r.error !== null) return paint(io, 'red', 'fails')
  if (r.risk !== null) return paint(io, 'magenta', `${r.access} !`)
  return paint(io, accessColour(r.access), r.access + (r.viaNxCloudId ? ' (id)' : ''))
}

function renderOne(r: ExplainResult, io: Io): string {
  const lines: string[] = []
  lines.push(
    `${paint(io, 'bold', `${r.event} ${r.ref}`)} under ${r.setup}: ${r.error === null ? accessText(r, io) : paint(io, 'gray', r.access)}`
  )
  lines.push(`  ${r.error === null ? r.reason : paint(io, 'red', r.reason)}`)
  if (r.fix !== null) lines.push(`  ${paint(io, 'bold', 'To fix:')} ${r.fix}`)
  if (r.risk !== null) {
    lines.push(
      `  ${paint(io, 'magenta', 'warning !')} ${r.risk}: ${r.trustReason} gets read-write access, so what it uploads can reach every run that reads the cache, main included.`
    )
  }
  lines.push('')
  const width = Math.max(...r.rows.map(([k]) => k.length))
  for (const [k, v] of r.rows) lines.push(`  ${k.padEnd(width)}  ${v}`)
  const exported = Object.entries(r.exports)
  if (exported.length > 0) {
    lines.push('')
    lines.push('  Would export (GITHUB_ENV, every later step of the job):')
    for (const [k, v] of exported) lines.push(`    ${k}=${v}`)
  }
  for (const w of r.warnings) lines.push(`  ${paint(io, 'yellow', 'warning')} ${w}`)
  for (const n of r.notices) lines.push(`  ${paint(io, 'blue', 'notice')} ${n}`)
  for (const n of r.notes) lines.push(`  ${paint(io, 'cyan', 'note')} ${n}`)
  if (r.assumed.length > 0) {
    lines.push('')
    lines.push(paint(io, 'gray', `  Assumed set: ${r.assumed.join(', ')} (pass --input NAME= to leave one empty).`))
  } else if (r.secretsWithheld !== null) {
    lines.push('')
    lines.push(paint(io, 'gray', `  No secret assumed set: ${r.secretsWithheld} (pass --input NAME=VALUE to give one anyway).`))
  }
  return lines.join('\n') + '\n'
}

async function explainAll(setups: string[], run: RunFlags, s: Setting, json: boolean, io: Io): Promise<number> {
  const results: (ExplainResult & { run: string })[] = []
  for (const c of COMMON_RUNS) {
    // Repository-level flags (--base-repo, --default-branch, --public) apply to every row.
    const flags: RunFlags = {
      ...c.flags,
      baseRepo: run.baseRepo,
      defaultBranch: run.defaultBranch,
      public: run.public
    }
    const runInput = runFromFlags(flags)
    for (const setup of setups) results.push({ run: c.label, ...(await explainOne(setup, runInput, s)) })
  }
  const cloudId = s.nx.cloudId !== ''
  if (json) {
    const runs = results.map(r => ({ ...r, rows: undefined }))
    io.out(JSON.stringify({ runs, assumed: s.assumed, workspaceIdAccess: s.workspaceIdAccess, nxCloudId: cloudId }, null, 2) + '\n')
    return exitOf(results)
  }
  const header = ['Run', ...setups]
  const cells = COMMON_RUNS.map(c => setups.map(setup => results.find(x => x.run === c.label && x.setup === setup) as ExplainResult))
  const plain: Io = { ...io, color: false }
  const table = COMMON_RUNS.map((c, i) => [c.label, ...cells[i].map(r => accessText(r, plain))])
  const widths = header.map((h, i) => Math.max(h.length, ...table.map(row => row[i].length)))
  // Padded as plain text, then coloured: colour codes take no columns.
  const line = (row: string[], rs: ExplainResult[] | null): string =>
    row
      .map((cell, i) => {
        const pad = ' '.repeat(widths[i] - cell.length)
        return rs !== null && i > 0 ? accessText(rs[i - 1], io) + pad : cell + pad
      })
      .join('  ')
      .trimEnd()
  const out = [line(header, null), widths.map(w => '-'.repeat(w)).join('  '), ...table.map((r, i) => line(r, cells[i]))]
  const legend: string[] = []
  if (results.some(r => r.risk !== null)) {
    legend.push(
      `${paint(io, 'magenta', 'read-write !')}  an untrusted run can write: what it uploads can reach every run that reads the cache, main included.`
    )
  }
  if (results.some(r => r.viaNxCloudId)) {
    legend.push("read-only (id)  no token: Nx connects through nx.json's nxCloudId, at the workspace ID access level set in Nx Cloud.")
  }
  // docs/POLICY.md#no-token: which workspace-id-access the rows of runs left with no token show.
  if (cloudId) {
    legend.push(
      s.workspaceIdAccess === 'read-only'
        ? 'nx.json has nxCloudId; shown for workspace-id-access read-only: a run left with no token reads through nxCloudId.'
        : 'nx.json has nxCloudId; shown for workspace-id-access none (the default): a run left with no token gets Nx Cloud off. Pass --input workspace-id-access=read-only if that level is read-only in Nx Cloud.'
    )
  } else if (s.workspaceIdAccess === 'read-only') {
    legend.push('workspace-id-access read-only changes nothing here: the nx.json read has no nxCloudId.')
  }
  if (legend.length > 0) out.push('', ...legend)
  const failures = results.filter(r => r.error !== null)
  const seen = new Set<string>()
  for (const f of failures) {
    if (seen.has(f.setup)) continue
    seen.add(f.setup)
    out.push('', paint(io, 'red', `${f.setup} fails: ${f.error}`))
  }
  if (s.assumed.length > 0) {
    const without = COMMON_RUNS.filter((_c, i) => cells[i].some(r => r.secretsWithheld !== null)).map(c => c.label)
    const except = without.length > 0 ? `; not for ${without.join(', ')}: GitHub gives those runs none of the repository's secrets` : ''
    out.push('', paint(io, 'gray', `Assumed set: ${s.assumed.join(', ')} (pass --input NAME= to leave one empty)${except}.`))
  }
  io.out(out.join('\n') + '\n')
  return exitOf(results)
}

/** As for one run: 1 when the action would fail any run of the table. */
function exitOf(results: ExplainResult[]): number {
  return results.some(r => r.error !== null) ? 1 : 0
}
