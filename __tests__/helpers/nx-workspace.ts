// A small real Nx workspace in a temporary folder, run with the real `nx` CLI (a devDependency).
// Projects form a chain (app → lib-b → lib-a); each build writes dist/<name>/out.txt with a
// timestamp, so a test can tell a fresh build from a restored one.

import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { runnerEnv } from './runner-env.js'

export const REPO_ROOT = resolve(import.meta.dirname ?? '.', '..', '..')
const NX_BIN = join(REPO_ROOT, 'node_modules', 'nx', 'dist', 'bin', 'nx.js')

export interface Workspace {
  dir: string
  /** Runs nx asynchronously: a cache server in this process must stay free to answer it. */
  nx(args: string[], env?: Record<string, string>): Promise<{ status: number; output: string }>
}

export interface WorkspaceOptions {
  nxJson?: Record<string, unknown>
  /** project name → names it depends on */
  projects?: Record<string, string[]>
  /** Nx runs on a developer's machine (no CI, GITHUB_* or RUNNER_*), not in a runner's step. */
  local?: boolean
}

const BUILD_SCRIPT = `
const fs = require('fs'); const path = require('path');
const name = process.argv[2];
if (process.env.FAIL_BUILD === name) { console.error('build of ' + name + ' failed'); process.exit(1); }
const out = path.join('dist', name); fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, 'out.txt'), name + ' built at ' + process.hrtime.bigint() + '\\n');
console.log('built ' + name);
`

export function makeWorkspace(opts: WorkspaceOptions = {}): Workspace {
  const dir = mkdtempSync(join(tmpdir(), 'nca-ws-'))
  const projects = opts.projects ?? { 'lib-a': [], 'lib-b': ['lib-a'], app: ['lib-b'] }
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir')
  writeFileSync(join(dir, 'build.cjs'), BUILD_SCRIPT)
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'ws', private: true, workspaces: ['packages/*'] }, null, 2))
  writeFileSync(
    join(dir, 'nx.json'),
    JSON.stringify(
      {
        targetDefaults: { build: { cache: true, dependsOn: ['^build'], outputs: ['{workspaceRoot}/dist/{projectName}'] } },
        ...opts.nxJson
      },
      null,
      2
    )
  )
  for (const [name, deps] of Object.entries(projects)) {
    const pdir = join(dir, 'packages', name)
    mkdirSync(pdir, { recursive: true })
    writeFileSync(join(pdir, 'index.js'), `module.exports = '${name}'\n`)
    writeFileSync(
      join(pdir, 'package.json'),
      JSON.stringify(
        {
          name,
          version: '0.0.0',
          dependencies: Object.fromEntries(deps.map(d => [d, '*'])),
          scripts: { build: `node ../../build.cjs ${name}` },
          nx: { targets: { build: { command: `node build.cjs ${name}`, options: { cwd: '{workspaceRoot}' } } } }
        },
        null,
        2
      )
    )
  }
  // A git repository: Nx keys its workspace data off it, as in a real checkout.
  execFileSync('git', ['init', '-q'], { cwd: dir })
  return {
    dir,
    nx(args, env = {}) {
      return new Promise((resolvePromise, reject) => {
        const child = spawn(process.execPath, [NX_BIN, ...args], { cwd: dir, env: baseNxEnv(dir, env, { local: opts.local }) })
        let output = ''
        child.stdout.on('data', d => (output += d))
        child.stderr.on('data', d => (output += d))
        child.on('error', reject)
        child.on('close', code => resolvePromise({ status: code ?? 1, output }))
      })
    }
  }
}

/**
 * Nx's environment in a job on a hosted runner (runner-env.ts: GITHUB_ACTIONS, CI, RUNNER_*,
 * GITHUB_*, the file commands), with nothing of this machine's but PATH and HOME, the daemon and the
 * TUI off and the workspace's own cache folders. `local: true`: a developer's machine instead.
 */
export function baseNxEnv(dir: string, env: Record<string, string>, opts: { local?: boolean } = {}): NodeJS.ProcessEnv {
  return {
    ...runnerEnv({ workspace: dir, local: opts.local }).env,
    NX_DAEMON: 'false',
    NX_TUI: 'false',
    NX_NO_CLOUD: 'true',
    NX_CACHE_DIRECTORY: join(dir, '.nx', 'cache'),
    NX_WORKSPACE_DATA_DIRECTORY: join(dir, '.nx', 'workspace-data'),
    ...env
  }
}
