// Runs the bundled command line (dist/cli/index.js, as `npx nx-cloud-access` does) in a child
// process, and returns its exit code and output. Its environment is a hosted runner's step
// (runner-env.ts: `audit` runs in CI), or with `local: true` a developer's machine (PATH and HOME
// only); nothing else of this machine's comes in.

import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { REPO_ROOT } from './run-action.js'
import { runnerEnv } from './runner-env.js'

export const CLI = join(REPO_ROOT, 'dist', 'cli', 'index.js')

export interface CliRun {
  status: number
  stdout: string
  stderr: string
}

export function runCli(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; local?: boolean; timeout?: number } = {}
): CliRun {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    env: { ...runnerEnv({ local: opts.local }).env, ...opts.env },
    encoding: 'utf8',
    timeout: opts.timeout
  })
  if (r.error) throw r.error
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}
