// The cache action's `main`: read → decide (the token step's writeGrant) → start the server
// detached → export where Nx finds it. Never fails because of the cache: a server that will not
// start leaves Nx without a remote cache, with a warning. Bad inputs fail, as in the token step.

import * as core from '../../action-io/core.js'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, mkdirSync, openSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fail, mask } from '../../action-io/runner.js'
import { type Env, getInput } from '../../core/inputs.js'
import { runFactsFromEnv } from '../../action-io/run-facts.js'
import type { RunFacts } from '../../core/types.js'
import { type CacheDecision, decideCache, readCacheInputs } from '../decision.js'
import { type ServerHandoff, actionsVariables, serverEnv } from '../server-launch.js'
import { type StartedServer, saveHandoff } from '../state.js'

/** The server's own bundle, next to this one: cache/dist/main/index.js → cache/dist/server/index.js. */
function serverEntry(): string {
  return process.env.NCA_CACHE_SERVER_ENTRY || join(dirname(process.argv[1]), '..', 'server', 'index.js')
}

export function stageDir(env: Env): string {
  return join(env.RUNNER_TEMP || tmpdir(), 'nx-cloud-access-cache')
}

export async function run(env: Env = process.env): Promise<void> {
  let decision: CacheDecision
  let facts: RunFacts
  let limits: { maxEntries: number; maxEntrySize: number; saveConcurrency: number; saveTimeLimit: number }
  try {
    mask([getInput(env, 'github-token')])
    const cfg = readCacheInputs(env)
    facts = await runFactsFromEnv(cfg.policy, env)
    decision = decideCache(cfg, facts, env)
    limits = {
      maxEntries: cfg.maxEntries,
      maxEntrySize: cfg.maxEntrySize,
      saveConcurrency: cfg.saveConcurrency,
      saveTimeLimit: cfg.saveTimeLimit
    }
  } catch (e) {
    fail(e)
    return
  }

  for (const n of decision.notices) core.notice(n)
  for (const w of decision.warnings) core.warning(w)
  for (const e of decision.errors) core.error(e)
  let server: StartedServer | null = null
  if (decision.server) {
    const token = randomBytes(32).toString('hex')
    core.setSecret(token)
    const stage = stageDir(env)
    try {
      const { pid, port } = await startServer(
        {
          stage,
          token,
          write: decision.write,
          maxEntries: limits.maxEntries,
          maxEntrySize: limits.maxEntrySize,
          scope: decision.scope,
          readScopes: readScopes(facts)
        },
        env
      )
      server = { pid, port, stage, write: decision.write }
      decision.exports.NX_SELF_HOSTED_REMOTE_CACHE_SERVER = `http://127.0.0.1:${port}`
      decision.exports.NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN = token
    } catch (e) {
      core.warning(
        `The Nx cache server did not start (${e instanceof Error ? e.message : String(e)}): Nx runs without a remote cache in this job.`
      )
    }
  }
  // Saved once the start is known, so post reports what this step reported.
  const failed = decision.server && server === null
  const access = failed ? 'none' : decision.access
  const reason = failed ? `${decision.reason} But the Nx cache server did not start, so Nx runs without a remote cache.` : decision.reason
  const scope = server?.write ? decision.scope : ''
  saveHandoff(core, { access, reason, server, ...limits, scope, scopeKind: scope === '' ? 'none' : decision.scopeKind })
  for (const [name, value] of Object.entries(decision.exports)) core.exportVariable(name, value)
  core.setOutput('access', access)
  core.setOutput('reason', reason)
  core.setOutput('scope', scope)
  core.info(`nx-cloud-access cache: ${access}. ${reason}`)
}

/**
 * Starts the server as a detached process that outlives this step: its output goes to a log
 * file (an inherited pipe would keep the step open), it is handed its token, its settings and the
 * Actions cache variables over IPC (never in its environment or command line, which any later step
 * can read: see server-launch.ts), it reports its port once it listens, and then both ends let go.
 * The runner ends it with the job if `post` does not.
 */
interface ServerLaunch {
  stage: string
  token: string
  write: boolean
  maxEntries: number
  maxEntrySize: number
  /** The scope this run writes to ('' none). */
  scope: string
  readScopes: string[]
}

/**
 * The scopes whose packs a run looks for, in the order GitHub lets it read them: its own ref, its
 * pull request's base branch, the default branch. Only where to look: the service decides what the
 * run may read.
 */
function readScopes(facts: RunFacts): string[] {
  const refs = [facts.ref]
  if (facts.pullRequest?.base) refs.push(`refs/heads/${facts.pullRequest.base}`)
  if (facts.defaultBranch) refs.push(`refs/heads/${facts.defaultBranch}`)
  return [...new Set(refs.filter(r => /^refs\/(heads|pull)\//.test(r)))]
}

/**
 * The server holds the Actions cache credentials in memory. A later step of the job runs as the
 * same user and may raise a process's soft core-size limit up to its hard limit (prlimit) and make
 * it dump: so the server starts with a hard limit of 0, which only a privileged process can raise.
 * Through `sh -c 'ulimit -c 0; exec …'` (both limits), where there is a POSIX shell; the exec keeps
 * the process and its command line the server's own. On Windows there is no such limit to set.
 */
function withoutCoreDumps(node: string, entry: string): [string, string[]] {
  if (process.platform === 'win32') return [node, [entry]]
  return ['/bin/sh', ['-c', 'ulimit -c 0 && exec "$0" "$@"', node, entry]]
}

export function startServer(launch: ServerLaunch, env: Env, timeoutMs = 20000): Promise<{ pid: number; port: number }> {
  const { stage } = launch
  mkdirSync(stage, { recursive: true })
  const log = openSync(join(stage, 'server.log'), 'a')
  const [command, args] = withoutCoreDumps(process.execPath, serverEntry())
  const child = spawn(command, args, {
    cwd: stage,
    detached: true,
    stdio: ['ignore', log, log, 'ipc'],
    env: serverEnv(env)
  })
  closeSync(log)
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => {
      done()
      child.kill()
      reject(new Error(`no answer within ${timeoutMs} ms; see ${join(stage, 'server.log')}`))
    }, timeoutMs)
    const done = (): void => {
      clearTimeout(timer)
      child.removeAllListeners()
      if (child.connected) child.disconnect()
      child.unref()
    }
    // A hand-off that cannot be sent needs no answer here: the server, never handed its settings,
    // gives up and exits, and that exit is reported below.
    const handoff: ServerHandoff = { ...launch, actions: actionsVariables(env) }
    child.send(handoff, () => undefined)
    child.on('message', (m: { port?: number; error?: string }) => {
      done()
      if (typeof m.port === 'number' && child.pid !== undefined) resolveStart({ pid: child.pid, port: m.port })
      else reject(new Error(m.error ?? 'the server sent no port'))
    })
    child.on('error', e => {
      done()
      reject(e)
    })
    child.on('exit', code => {
      done()
      reject(new Error(`it exited with code ${code}; see ${join(stage, 'server.log')}`))
    })
  })
}
