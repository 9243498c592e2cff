// Runs the bundled command line (dist/cli/index.js, as `npx nx-cloud-access` does) in a child
// process with a clean environment, and returns its exit code and output.

import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { REPO_ROOT } from './run-action.js'

export const CLI = join(REPO_ROOT, 'dist', 'cli', 'index.js')

export interface CliRun {
  status: number
  stdout: string
  stderr: string
}

export function runCli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): CliRun {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...opts.env },
    encoding: 'utf8'
  })
  if (r.error) throw r.error
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}
