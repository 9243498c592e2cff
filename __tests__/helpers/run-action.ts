// Runs a bundled entry the way the runner runs it: `node dist/…` with INPUT_* variables, in the
// environment a hosted runner gives a step (runner-env.ts: GITHUB_ACTIONS, CI, RUNNER_*, GITHUB_*,
// the event payload file and the GITHUB_ENV / GITHUB_OUTPUT / GITHUB_STEP_SUMMARY / GITHUB_STATE /
// GITHUB_PATH files), then parses what it wrote. Nothing of this machine's environment leaks in.

import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { runnerEnv } from './runner-env.js'

export const REPO_ROOT = resolve(import.meta.dirname ?? '.', '..', '..')

export interface ActionRun {
  status: number
  stdout: string
  stderr: string
  env: Record<string, string>
  outputs: Record<string, string>
  state: Record<string, string>
  summary: string
  /** `::error::` lines (without the prefix). */
  errors: string[]
  warnings: string[]
  notices: string[]
  /** Everything the run wrote anywhere, for secret scans. */
  everything: string
}

export interface RunOptions {
  /** Entry relative to the repo root; default dist/index.js. */
  entry?: string
  inputs?: Record<string, string>
  event: string
  payload?: Record<string, unknown>
  ref?: string
  actor?: string
  repository?: string
  /** Ambient variables, as workflow- or job-level env: would set them. */
  env?: Record<string, string>
  workspace?: string
  /** GITHUB_STATE contents to hand a post step. */
  state?: Record<string, string>
}

/** Parses GITHUB_ENV / GITHUB_OUTPUT files: `name<<delim\nvalue\ndelim` and `name=value`. */
export function parseFileCommands(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (line === '') continue
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line)
    if (heredoc) {
      const value: string[] = []
      i++
      while (i < lines.length && lines[i] !== heredoc[2]) value.push(lines[i++])
      out[heredoc[1]] = value.join('\n')
    } else {
      const eq = line.indexOf('=')
      out[line.slice(0, eq)] = line.slice(eq + 1)
    }
  }
  return out
}

function commands(stdout: string, name: string): string[] {
  const re = new RegExp(`^::${name}(?: [^:]*)?::(.*)$`, 'gm')
  return [...stdout.matchAll(re)].map(m => m[1])
}

export async function runAction(opts: RunOptions): Promise<ActionRun> {
  // The step's environment on a hosted runner (runner-env.ts), under the test's own variables.
  const runner = runnerEnv({
    workspace: opts.workspace,
    event: opts.event,
    payload: opts.payload ?? {},
    ref: opts.ref ?? '',
    actor: opts.actor,
    repository: opts.repository
  })
  const { dir, files } = runner
  const env: NodeJS.ProcessEnv = { ...runner.env, ...opts.env }
  for (const [k, v] of Object.entries(opts.inputs ?? {})) env[`INPUT_${k.replace(/ /g, '_').toUpperCase()}`] = v
  for (const [k, v] of Object.entries(opts.state ?? {})) env[`STATE_${k}`] = v

  const entry = join(REPO_ROOT, opts.entry ?? 'dist/index.js')
  const { status, stdout, stderr } = await new Promise<{ status: number; stdout: string; stderr: string }>((resolvePromise, reject) => {
    const child = spawn(process.execPath, [entry], { env, cwd: opts.workspace ?? dir })
    let out = ''
    let err = ''
    child.stdout.on('data', d => (out += d))
    child.stderr.on('data', d => (err += d))
    child.on('error', reject)
    child.on('close', code => resolvePromise({ status: code ?? 1, stdout: out, stderr: err }))
  })
  const read = (f: string): string => readFileSync(f, 'utf8')
  const envText = read(files.GITHUB_ENV)
  const outText = read(files.GITHUB_OUTPUT)
  const summary = read(files.GITHUB_STEP_SUMMARY)
  const stateText = read(files.GITHUB_STATE)
  return {
    status,
    stdout,
    stderr,
    env: parseFileCommands(envText),
    outputs: parseFileCommands(outText),
    state: parseFileCommands(stateText),
    summary,
    errors: commands(stdout, 'error'),
    warnings: commands(stdout, 'warning'),
    notices: commands(stdout, 'notice'),
    everything: [stdout, stderr, outText, summary, stateText].join('\n')
  }
}

/**
 * What a run printed or wrote, outside the places a secret may legitimately appear: the
 * `::add-mask::` commands and GITHUB_ENV (the job's environment, which the runner masks).
 */
export function unmaskedText(run: ActionRun): string {
  return run.everything
    .split('\n')
    .filter(l => !l.startsWith('::add-mask::'))
    .join('\n')
}
