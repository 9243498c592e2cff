// The detached server process started by `main`: serves Nx's cache protocol until `post` asks
// it to stop. It must stay up: Nx aborts the whole run when the cache refuses a connection, so
// every error is logged and survived. It is started with no secret in its environment or command
// line, and handed its settings over IPC (see server-launch.ts); its log keeps no secret (redact.ts).

import { appendFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ENTRY_DIR, UnsafeEntryError, enterStage, prepareRestore, restoreEntry } from '../adapter/actions-cache.js'
import { createRedactor, redactStream } from '../redact.js'
import { CREDENTIALS, type ServerHandoff, isHandoff } from '../server-launch.js'
import { type EntrySource, createNxCacheServer } from './http.js'
import {
  DEFAULT_MAX_ENTRIES,
  DEFAULT_MAX_ENTRY_SIZE,
  REJECTED_FILE,
  STATS_FILE,
  type ServerReport,
  UPLOADS_FILE,
  resetUploadsFile
} from '../state.js'

/** How long the server waits for `main` to hand it its settings. */
const HANDOFF_TIMEOUT_MS = 15000

/** Resolves the first message on the IPC channel that `main` opened. */
function receiveHandoff(timeoutMs: number): Promise<ServerHandoff> {
  return new Promise((resolveHandoff, reject) => {
    if (!process.send) return reject(new Error('it was not started by the cache action (no IPC channel to be handed its settings)'))
    const timer = setTimeout(() => {
      process.off('message', onMessage)
      reject(new Error(`no settings were handed over within ${timeoutMs} ms`))
    }, timeoutMs)
    const onMessage = (m: unknown): void => {
      clearTimeout(timer)
      process.off('message', onMessage)
      if (isHandoff(m)) resolveHandoff(m)
      else reject(new Error('what was handed over is not the settings of a cache server'))
    }
    process.on('message', onMessage)
  })
}

export async function run(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  // Before anything is written: no secret and no signed URL reaches server.log.
  const redactor = createRedactor()
  redactStream(process.stdout, redactor)
  redactStream(process.stderr, redactor)
  const log = (line: string): void => {
    process.stdout.write(`[${new Date().toISOString()}] ${line}\n`)
  }
  process.on('uncaughtException', e => log(`uncaught: ${e.stack ?? e.message}`))
  process.on('unhandledRejection', e => log(`unhandled: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`))
  const send = (m: Record<string, unknown>): void => {
    if (process.send) process.send(m, () => process.disconnect?.())
  }
  try {
    // Loaded meanwhile, and before the Actions cache variables are in process.env (see prepareRestore).
    const prepared = prepareRestore()
    const handoff = await receiveHandoff(HANDOFF_TIMEOUT_MS)
    const { stage, token } = handoff
    redactor.add(token)
    for (const name of CREDENTIALS) redactor.add(handoff.actions[name])
    if (stage === '' || token === '') throw new Error('a stage and a token are required')
    await prepared
    // Where @actions/cache reads them. This changes the process's environment as the process sees
    // it, not the one it was started with (/proc/<pid>/environ), which holds none of them.
    Object.assign(process.env, handoff.actions)
    enterStage(stage)
    const runnerOs = env.RUNNER_OS ?? ''
    const uploadsFile = join(stage, UPLOADS_FILE)
    resetUploadsFile(uploadsFile)
    rmSync(join(stage, STATS_FILE), { force: true })
    rmSync(join(stage, REJECTED_FILE), { force: true })
    const server = createNxCacheServer({
      token,
      write: handoff.write,
      entriesDir: join(stage, ENTRY_DIR),
      uploadsFile,
      maxEntries: handoff.maxEntries || DEFAULT_MAX_ENTRIES,
      maxEntrySize: handoff.maxEntrySize || DEFAULT_MAX_ENTRY_SIZE,
      source: actionsSource(stage, runnerOs, handoff.maxEntrySize || DEFAULT_MAX_ENTRY_SIZE),
      log
    })
    const port = await server.listen(0)
    log(`listening on 127.0.0.1:${port} (write: ${handoff.write})`)
    // `post` asks the stats route first (with the job's token from GITHUB_ENV), then stops the
    // server with SIGTERM and prefers the stats.json written here, the later of the two. (On
    // Windows the signal kills at once and no stats.json is written: post has the route's answer,
    // or, without it, uploads.txt.)
    process.on('SIGTERM', () => {
      try {
        writeFileSync(join(stage, STATS_FILE), JSON.stringify({ stats: server.stats, uploads: server.uploads } satisfies ServerReport))
      } catch (e) {
        log(`could not write ${STATS_FILE}: ${e instanceof Error ? e.message : String(e)}`)
      }
      log('stopped by post')
      void server.close().then(() => process.exit(0))
    })
    send({ port })
  } catch (e) {
    log(`failed to start: ${e instanceof Error ? e.message : String(e)}`)
    send({ error: e instanceof Error ? e.message : String(e) })
    process.exitCode = 1
  }
}

/**
 * The Actions cache as the server's entry source. An entry whose archive is not what the kit saves
 * (an UnsafeEntryError) is a miss, recorded once in rejected.txt for `post` to warn about, and not
 * downloaded again in this job.
 */
function actionsSource(stage: string, runnerOs: string, maxEntrySize: number): EntrySource {
  const rejected = new Set<string>()
  return {
    async restore(hash) {
      if (rejected.has(hash)) return null
      try {
        return await restoreEntry(stage, hash, runnerOs, maxEntrySize)
      } catch (e) {
        if (e instanceof UnsafeEntryError) {
          rejected.add(hash)
          try {
            appendFileSync(join(stage, REJECTED_FILE), `${JSON.stringify({ key: e.key, why: e.why })}\n`)
          } catch {
            // The server log still says it (the server logs the failed restore).
          }
        }
        throw e
      }
    }
  }
}
