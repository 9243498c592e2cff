// `explain`: what would this run get, and why — the action's own readInputs → resolveRunFacts →
// decide() on a run given by flags or by a webhook payload, with no GitHub and no Nx Cloud.
// Secrets are never printed: every value in decision.secrets shows as `***`.

import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { type Env, SECRET_INPUTS, inputVariable, readInputs } from '../core/inputs.js'
import { readNxConfig } from '../action-io/nx-json.js'
import { decide, secretsOf } from '../core/policy.js'
import { readOnlyNotes, summaryRows } from '../core/report.js'
import { type RunInput, resolveRunFacts } from '../core/run-facts.js'
import { type Config, type Decision, type NxConfig, PolicyError, SETUPS } from '../core/types.js'
import { type Io, UsageError, asUsage, maskText, paint, pairs } from './common.js'
import { type RunFlags, runFromFlags } from './run-input.js'

export const EXPLAIN_USAGE = `Usage: nx-cloud-access explain [options]

What would a run get? Runs the action's own policy on a run given by flags or a payload.

Run:
  --event NAME            the GITHUB_EVENT_NAME (push, pull_request, merge_group, ...)
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
  --input NAME=VALUE      any action input (write-branches, write-events, skip-cache, ...), repeatable.
                          read-write-token, read-only-token and encryption-key are assumed set
                          unless given (pass NAME= to leave one empty)
  --env NAME=VALUE        a workflow- or job-level env: variable the step would see, repeatable
  --dir DIR               the workspace whose nx.json is read (default .)
Output:
  --all                   the table of common runs for each setup (or for --setup)
  --json                  machine-readable; carries "access": read-write | read-only | none

Exit: 0; 1 when the action would fail the run (with --all: any run of the table); 2 on bad usage.
`

/** Stand-ins for secrets the user does not have at hand; they never print (they are secrets). */
const ASSUMED: Record<string, string> = {
  'read-write-token': 'assumed-read-write-token',
  'read-only-token': 'assumed-read-only-token',
  'encryption-key': 'assumed-encryption-key'
}

interface Setting {
  inputs: Record<string, string>
  ambient: Env
  nx: NxConfig
  assumed: string[]
}

interface ExplainResult {
  setup: string
  event: string
  ref: string
  access: Decision['access']
  tokenSource: Decision['tokenSource']
  reason: string
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
      all: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' }
    }
  })
  if (values.help) {
    io.out(EXPLAIN_USAGE)
    return 0
  }
  const inputs = pairs(values.input, 'input')
  if (values.setup !== undefined) inputs.setup = values.setup
  const ambient: Env = pairs(values.env, 'env')
  const dir = resolve(io.cwd, values.dir ?? '.')
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
  const nx = asUsage(() => readNxConfig(resolve(dir, base.workingDirectory)))
  const setting = withAssumptions(inputs, ambient, nx)

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
  if (values.json) io.out(JSON.stringify({ ...result, rows: undefined, assumed: setting.assumed }, null, 2) + '\n')
  else io.out(renderOne(result, setting, io))
  return result.error === null ? 0 : 1
}

function envOf(inputs: Record<string, string>): Env {
  const env: Env = {}
  for (const [k, v] of Object.entries(inputs)) env[inputVariable(k)] = v
  return env
}

function withAssumptions(inputs: Record<string, string>, ambient: Env, nx: NxConfig): Setting {
  const full = { ...inputs }
  const assumed: string[] = []
  for (const [name, value] of Object.entries(ASSUMED)) {
    if (name in full) continue
    // A key assumed next to nx.json's own would be a different key: the action would refuse it.
    if (name === 'encryption-key' && (nx.encryptionKey !== '' || (ambient.NX_CLOUD_ENCRYPTION_KEY ?? '') !== '')) continue
    full[name] = value
    assumed.push(name)
  }
  return { inputs: full, ambient, nx, assumed }
}

async function explainOne(setup: string, runInput: RunInput, s: Setting): Promise<ExplainResult> {
  const facts = await resolveRunFacts(runInput)
  const common = { setup, event: runInput.event, ref: runInput.ref }
  // Inputs valid under one setup can contradict another (self-hosted-cache-url under off):
  // the action fails that run, so its row says so instead of the command crashing.
  let config: Config | null = null
  try {
    config = readInputs(envOf({ ...s.inputs, setup }))
    common.setup = config.setup
    const d = decide(config, facts, s.nx, s.ambient)
    const m = (t: string): string => maskText(t, d.secrets)
    const exports: Record<string, string> = {}
    for (const [k, v] of Object.entries(d.exports)) exports[k] = m(v)
    return {
      ...common,
      access: d.access,
      tokenSource: d.tokenSource,
      reason: m(d.reason),
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
      rows: summaryRows(d).map(([k, v]) => [k, m(v)])
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
    const m = (t: string): string => maskText(t, secrets)
    return {
      ...common,
      access: 'none',
      tokenSource: 'none',
      reason: `The action fails this run and exports nothing: ${m(e.message)}`,
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

function renderOne(r: ExplainResult, s: Setting, io: Io): string {
  const lines: string[] = []
  lines.push(`${paint(io, 'bold', `${r.event} ${r.ref}`)} under ${r.setup}: ${paint(io, accessColour(r.access), r.access)}`)
  lines.push(`  ${r.error === null ? r.reason : paint(io, 'red', r.reason)}`)
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
  if (s.assumed.length > 0) {
    lines.push('')
    lines.push(paint(io, 'gray', `  Assumed set: ${s.assumed.join(', ')} (pass --input NAME= to leave one empty).`))
  }
  return lines.join('\n') + '\n'
}

/** The common runs of a repository, as `explain --all` shows them. */
const COMMON_RUNS: { label: string; flags: RunFlags }[] = [
  { label: 'push to main', flags: { event: 'push', ref: 'refs/heads/main' } },
  { label: 'push to a feature branch', flags: { event: 'push', ref: 'refs/heads/feature' } },
  { label: 'push of a tag', flags: { event: 'push', ref: 'refs/tags/v1.0.0' } },
  { label: 'pull request, same repository', flags: { event: 'pull_request' } },
  { label: 'pull request from a fork', flags: { event: 'pull_request', headRepo: 'someone/fork' } },
  { label: 'pull request by Dependabot', flags: { event: 'pull_request', actor: 'dependabot[bot]' } },
  { label: 'pull_request_target', flags: { event: 'pull_request_target', headRepo: 'someone/fork' } },
  { label: 'merge queue into main', flags: { event: 'merge_group' } },
  { label: 'schedule (on main)', flags: { event: 'schedule', ref: 'refs/heads/main' } },
  { label: 'workflow_dispatch on main', flags: { event: 'workflow_dispatch', ref: 'refs/heads/main' } },
  { label: 'workflow_run', flags: { event: 'workflow_run' } },
  { label: 'issue_comment', flags: { event: 'issue_comment' } },
  { label: 'release', flags: { event: 'release', ref: 'refs/tags/v1.0.0' } }
]

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
  if (json) {
    io.out(JSON.stringify({ runs: results.map(r => ({ ...r, rows: undefined })), assumed: s.assumed }, null, 2) + '\n')
    return exitOf(results)
  }
  const header = ['Run', ...setups]
  const table = COMMON_RUNS.map(c => [
    c.label,
    ...setups.map(setup => {
      const r = results.find(x => x.run === c.label && x.setup === setup) as ExplainResult
      return r.error === null ? r.access : 'fails'
    })
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...table.map(row => row[i].length)))
  const line = (row: string[], colour: boolean): string =>
    row
      .map((cell, i) => {
        const padded = cell.padEnd(widths[i])
        return colour && i > 0 ? paint(io, cell === 'fails' ? 'red' : accessColour(cell), padded) : padded
      })
      .join('  ')
      .trimEnd()
  const out = [line(header, false), widths.map(w => '-'.repeat(w)).join('  '), ...table.map(r => line(r, true))]
  const failures = results.filter(r => r.error !== null)
  const seen = new Set<string>()
  for (const f of failures) {
    if (seen.has(f.setup)) continue
    seen.add(f.setup)
    out.push('', paint(io, 'red', `${f.setup} fails: ${f.error}`))
  }
  if (s.assumed.length > 0) out.push('', paint(io, 'gray', `Assumed set: ${s.assumed.join(', ')} (pass --input NAME= to leave one empty).`))
  io.out(out.join('\n') + '\n')
  return exitOf(results)
}

/** As for one run: 1 when the action would fail any run of the table. */
function exitOf(results: ExplainResult[]): number {
  return results.some(r => r.error !== null) ? 1 : 0
}
