// The environment a GitHub-hosted runner gives a step, for every test that spawns a bundle, Nx or
// a composite step: GITHUB_ACTIONS=true, CI=true, the RUNNER_* variables, the GITHUB_* variables of
// the run, and fresh file-command files (GITHUB_ENV, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY,
// GITHUB_STATE, GITHUB_PATH) plus the event payload file. Nothing of this machine's environment
// comes in but PATH and HOME. GITHUB_API_URL points at a loopback port nothing listens on, so no
// request leaves the machine unless a test points it at its own server.
//
// `local: true` is a developer's machine instead (no CI, no GITHUB_*, no RUNNER_*): only for tests
// that are about running there.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A port nothing listens on: a request to it fails at once, on this machine. */
export const NOWHERE = 'http://127.0.0.1:9'

export const FILE_COMMANDS = ['GITHUB_ENV', 'GITHUB_OUTPUT', 'GITHUB_STEP_SUMMARY', 'GITHUB_STATE', 'GITHUB_PATH'] as const
export type FileCommand = (typeof FILE_COMMANDS)[number]

export interface RunnerEnvOptions {
  /** GITHUB_WORKSPACE; default a new folder. */
  workspace?: string
  event?: string
  /** The event payload, written to GITHUB_EVENT_PATH. */
  payload?: Record<string, unknown>
  /** GITHUB_REF; default refs/heads/main. */
  ref?: string
  sha?: string
  actor?: string
  repository?: string
  /** A developer's machine, not a runner: no CI, GITHUB_* or RUNNER_* at all. */
  local?: boolean
}

export interface RunnerEnv {
  /** The step's whole environment. */
  env: Record<string, string>
  /** The file commands' and the payload's paths (empty when local). */
  files: Record<FileCommand | 'GITHUB_EVENT_PATH', string>
  /** The folder holding them; RUNNER_TEMP is inside it. */
  dir: string
}

/** The variables of this machine a step may see: the shell's PATH and HOME, nothing else. */
export function machineEnv(): Record<string, string> {
  const env: Record<string, string> = { LANG: 'C.UTF-8' }
  for (const k of ['PATH', 'HOME'] as const) if (process.env[k] !== undefined) env[k] = process.env[k] as string
  return env
}

export function runnerEnv(opts: RunnerEnvOptions = {}): RunnerEnv {
  const dir = mkdtempSync(join(tmpdir(), 'nca-runner-'))
  const files = {
    GITHUB_EVENT_PATH: join(dir, 'event.json'),
    GITHUB_ENV: join(dir, 'env'),
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STEP_SUMMARY: join(dir, 'step_summary'),
    GITHUB_STATE: join(dir, 'state'),
    GITHUB_PATH: join(dir, 'path')
  }
  if (opts.local) return { env: machineEnv(), files, dir }

  const temp = join(dir, '_temp')
  mkdirSync(temp)
  writeFileSync(files.GITHUB_EVENT_PATH, JSON.stringify(opts.payload ?? {}))
  for (const f of FILE_COMMANDS) writeFileSync(files[f], '')
  const repository = opts.repository ?? 'acme/monorepo'
  const ref = opts.ref ?? 'refs/heads/main'
  const event = opts.event ?? 'push'
  const pr = (opts.payload?.pull_request ?? null) as { head?: { ref?: string }; base?: { ref?: string } } | null
  const isPr = event === 'pull_request' || event === 'pull_request_target'
  const env: Record<string, string> = {
    ...machineEnv(),
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_NAME: 'GitHub Actions 1000000001',
    RUNNER_ENVIRONMENT: 'github-hosted',
    RUNNER_TEMP: temp,
    RUNNER_TOOL_CACHE: join(dir, 'hostedtoolcache'),
    RUNNER_WORKSPACE: dir,
    ImageOS: 'ubuntu24',
    GITHUB_WORKSPACE: opts.workspace ?? dir,
    GITHUB_EVENT_NAME: event,
    GITHUB_REF: ref,
    GITHUB_REF_NAME: ref.replace(/^refs\/(heads|tags)\//, ''),
    GITHUB_REF_TYPE: ref.startsWith('refs/tags/') ? 'tag' : 'branch',
    GITHUB_HEAD_REF: isPr ? (pr?.head?.ref ?? '') : '',
    GITHUB_BASE_REF: isPr ? (pr?.base?.ref ?? '') : '',
    GITHUB_SHA: opts.sha ?? '3f786850e387550fdab836ed7e6dc881de23001b',
    GITHUB_REPOSITORY: repository,
    GITHUB_REPOSITORY_OWNER: repository.split('/')[0],
    GITHUB_ACTOR: opts.actor ?? 'octocat',
    GITHUB_TRIGGERING_ACTOR: opts.actor ?? 'octocat',
    GITHUB_WORKFLOW: 'CI',
    GITHUB_JOB: 'build',
    GITHUB_ACTION: '__acme_nx-cloud-access',
    GITHUB_RUN_ID: '9000000001',
    GITHUB_RUN_NUMBER: '42',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_RETENTION_DAYS: '90',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: NOWHERE,
    GITHUB_GRAPHQL_URL: `${NOWHERE}/graphql`,
    ...files
  }
  return { env, files, dir }
}
