// Runs one `run:` step of the composite action.yml the way the runner would: its `env:` with
// `${{ inputs.x }}` replaced by the input's value (or the input's default), in its
// `working-directory`, with bash as GitHub starts it for `shell: bash`
// (`bash --noprofile --norc -eo pipefail <script file>`), GITHUB_ACTION_PATH at the repo root,
// a hosted runner's step environment (runner-env.ts) with fresh file-command files, and the job's
// environment (what earlier steps exported) under the step's own env:.
// Only the expression forms this kit's action.yml uses are understood; any other fails the test.

import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parse } from 'yaml'
import { REPO_ROOT, parseFileCommands } from './run-action.js'
import { type RunnerEnvOptions, runnerEnv } from './runner-env.js'

interface Step {
  id?: string
  if?: string
  shell?: string
  run?: string
  env?: Record<string, string>
  'working-directory'?: string
}
interface ActionYml {
  inputs: Record<string, { default?: string }>
  runs: { using: string; steps: Step[] }
}

export function readActionYml(): ActionYml {
  return parse(readFileSync(join(REPO_ROOT, 'action.yml'), 'utf8')) as ActionYml
}

export function compositeStep(id: string): Step {
  const step = readActionYml().runs.steps.find(s => s.id === id)
  if (!step) throw new Error(`action.yml has no step with id '${id}'`)
  return step
}

/** `${{ inputs.name }}` → value; anything else inside `${{ }}` is not understood and throws. */
export function substituteInputs(text: string, inputs: Record<string, string>): string {
  return text.replace(/\$\{\{(.*?)\}\}/g, (_, expr: string) => {
    const m = /^\s*inputs\.([A-Za-z0-9_-]+)\s*$/.exec(expr)
    if (!m) throw new Error(`expression not understood by this test helper: \${{${expr}}}`)
    if (!(m[1] in inputs)) throw new Error(`action.yml has no input '${m[1]}'`)
    return inputs[m[1]]
  })
}

/** The step's `if:`, for the form `inputs.x != ''` (the runner adds success()). */
export function stepRuns(step: Step, inputs: Record<string, string>): boolean {
  if (step.if === undefined) return true
  const m = /^\s*inputs\.([A-Za-z0-9_-]+) != ''\s*$/.exec(step.if)
  if (!m) throw new Error(`if: not understood by this test helper: ${step.if}`)
  return (inputs[m[1]] ?? '') !== ''
}

export interface StepRun {
  ran: boolean
  status: number
  /** stdout and stderr, interleaved as the log shows them. */
  log: string
  outputs: Record<string, string>
  env: Record<string, string>
  summary: string
  errors: string[]
  warnings: string[]
}

export async function runCompositeStep(opts: {
  id: string
  inputs: Record<string, string>
  /** The job's environment when the step starts: base variables plus what earlier steps exported. */
  jobEnv: NodeJS.ProcessEnv
  /** GITHUB_WORKSPACE: working-directory is resolved against it. */
  workspace: string
  /** The run the step belongs to (GITHUB_EVENT_NAME, the payload file, GITHUB_REF, GITHUB_ACTOR); default a push to main. */
  run?: Pick<RunnerEnvOptions, 'event' | 'payload' | 'ref' | 'actor' | 'repository'>
}): Promise<StepRun> {
  const yml = readActionYml()
  const step = compositeStep(opts.id)
  const inputs: Record<string, string> = {}
  for (const [name, spec] of Object.entries(yml.inputs)) inputs[name] = opts.inputs[name] ?? spec.default ?? ''
  for (const name of Object.keys(opts.inputs)) if (!(name in yml.inputs)) throw new Error(`action.yml has no input '${name}'`)
  const empty = { ran: false, status: 0, log: '', outputs: {}, env: {}, summary: '', errors: [], warnings: [] }
  if (!stepRuns(step, inputs)) return empty
  if (step.shell !== 'bash' || typeof step.run !== 'string') throw new Error(`step '${opts.id}' is not a bash run: step`)

  // A fresh step on a hosted runner (runner-env.ts), with the job's environment (what earlier steps
  // exported) over it, and the step's own file-command files and env: on top.
  const runner = runnerEnv({ workspace: opts.workspace, ...opts.run })
  const { dir, files } = runner
  const script = join(dir, 'step.sh')
  // The runner writes the script as is: expressions in run: would be interpolated into it, and
  // this helper refuses them in the one step it runs.
  writeFileSync(script, substituteInputs(step.run, inputs))
  const stepEnv = Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, substituteInputs(String(v), inputs)]))
  const env: NodeJS.ProcessEnv = {
    ...runner.env,
    ...opts.jobEnv,
    GITHUB_WORKSPACE: opts.workspace,
    GITHUB_ACTION_PATH: REPO_ROOT,
    RUNNER_TEMP: runner.env.RUNNER_TEMP,
    GITHUB_EVENT_PATH: files.GITHUB_EVENT_PATH,
    GITHUB_ENV: files.GITHUB_ENV,
    GITHUB_OUTPUT: files.GITHUB_OUTPUT,
    GITHUB_STEP_SUMMARY: files.GITHUB_STEP_SUMMARY,
    GITHUB_STATE: files.GITHUB_STATE,
    GITHUB_PATH: files.GITHUB_PATH,
    ...stepEnv
  }
  const cwd = resolve(opts.workspace, substituteInputs(step['working-directory'] ?? '.', inputs))
  const { status, log } = await new Promise<{ status: number; log: string }>((done, reject) => {
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], { cwd, env })
    let out = ''
    child.stdout.on('data', d => (out += d))
    child.stderr.on('data', d => (out += d))
    child.on('error', reject)
    child.on('close', code => done({ status: code ?? 1, log: out }))
  })
  const read = (f: string): string => readFileSync(f, 'utf8')
  const commands = (name: string): string[] => [...log.matchAll(new RegExp(`^::${name}(?: [^:]*)?::(.*)$`, 'gm'))].map(m => m[1])
  return {
    ran: true,
    status,
    log,
    outputs: parseFileCommands(read(files.GITHUB_OUTPUT)),
    env: parseFileCommands(read(files.GITHUB_ENV)),
    summary: read(files.GITHUB_STEP_SUMMARY),
    errors: commands('error'),
    warnings: commands('warning')
  }
}
