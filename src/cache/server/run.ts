// The detached server process started by `main`: serves Nx's cache protocol until `post` asks
// it to stop. It must stay up: Nx aborts the whole run when the cache refuses a connection, so
// every error is logged and survived. It is started with no secret in its environment or command
// line, and handed its settings over IPC (see server-launch.ts); its log keeps no secret (redact.ts).

import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ENTRY_DIR, UnsafeEntryError, enterStage, prepareRestore, restoreEntry } from '../adapter/actions-cache.js'
import { type PackIndex, packPrefix, restorePack } from '../adapter/packs.js'
import { createRedactor, redactStream } from '../redact.js'
import { CREDENTIALS, type ServerHandoff, isHandoff } from '../server-launch.js'
import { type EntrySource, createNxCacheServer } from './http.js'
import {
  DEFAULT_MAX_ENTRIES,
  DEFAULT_MAX_ENTRY_SIZE,
  PACKS_FILE,
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
    rmSync(join(stage, PACKS_FILE), { force: true })
    const server = createNxCacheServer({
      token,
      write: handoff.write,
      entriesDir: join(stage, ENTRY_DIR),
      uploadsFile,
      maxEntries: handoff.maxEntries || DEFAULT_MAX_ENTRIES,
      maxEntrySize: handoff.maxEntrySize || DEFAULT_MAX_ENTRY_SIZE,
      source: actionsSource(stage, runnerOs, handoff.maxEntrySize || DEFAULT_MAX_ENTRY_SIZE, handoff.readScopes, log),
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
 * The Actions cache as the server's entry source: packs first, then per-hash entries. At start,
 * the newest pack of each scope in `readScopes` is restored whole (with the other packs of the
 * same run), so a fresh runner restores a run's outputs as one archive; a hash an index names in
 * an older pack restores that pack whole; any other hash is asked for by its own entry. An entry or
 * pack whose archive is not what the kit saves (an UnsafeEntryError) is a miss, recorded once in
 * rejected.txt for `post` to warn about, and not downloaded again in this job. The index of the
 * run's own scope goes to packs.json, for post to carry into the pack it saves.
 */
function actionsSource(
  stage: string,
  runnerOs: string,
  maxEntrySize: number,
  readScopes: string[],
  log: (line: string) => void
): EntrySource {
  const rejected = new Set<string>()
  /** hash → the pack that holds it, from the indexes restored. */
  const packOf = new Map<string, string>()
  const packs = new Map<string, Promise<void>>()
  const reject = (e: unknown): void => {
    if (!(e instanceof UnsafeEntryError)) return
    try {
      appendFileSync(join(stage, REJECTED_FILE), `${JSON.stringify({ key: e.key, why: e.why })}\n`)
    } catch {
      // The server log still says it.
    }
  }
  const fetchPack = (key: string): Promise<void> => {
    let p = packs.get(key)
    if (!p) {
      p = restorePack(stage, { key, prefix: false }, maxEntrySize).then(
        got => log(got ? `restored pack ${key}: ${got.hashes.length} entries` : `pack ${key} is gone`),
        e => {
          reject(e)
          log(`pack ${key} not restored: ${e instanceof Error ? e.message : String(e)}`)
        }
      )
      packs.set(key, p)
    }
    return p
  }
  const ready = (async () => {
    let own: PackIndex = []
    for (const [n, ref] of readScopes.entries()) {
      try {
        const got = await restorePack(stage, { key: packPrefix(runnerOs, ref), prefix: true }, maxEntrySize)
        if (got === null) continue
        packs.set(got.key, Promise.resolve())
        log(`restored the newest pack of ${ref}, ${got.key}: ${got.hashes.length} entries`)
        if (n === 0) own = got.index
        for (const [key, hashes] of got.index) for (const h of hashes) if (!packOf.has(h)) packOf.set(h, key)
        // The run's other packs (its outputs past one pack's size) come with it.
        const stem = got.key.replace(/-\d+$/, '-')
        await Promise.all(got.index.filter(([key]) => key !== got.key && key.startsWith(stem)).map(([key]) => fetchPack(key)))
      } catch (e) {
        reject(e)
        log(`the newest pack of ${ref} was not restored: ${e instanceof Error ? e.message : String(e)}`)
      }
    }
    try {
      writeFileSync(join(stage, PACKS_FILE), JSON.stringify(own))
    } catch {
      // Post then starts a new line of packs.
    }
  })()
  const local = (hash: string): Buffer | null => {
    try {
      return readFileSync(join(stage, ENTRY_DIR, hash))
    } catch {
      return null
    }
  }
  return {
    async restore(hash) {
      if (rejected.has(hash)) return null
      await ready
      const placed = local(hash)
      if (placed !== null) return placed
      const key = packOf.get(hash)
      if (key !== undefined) {
        await fetchPack(key)
        const fromPack = local(hash)
        if (fromPack !== null) return fromPack
      }
      try {
        return await restoreEntry(stage, hash, runnerOs, maxEntrySize)
      } catch (e) {
        if (e instanceof UnsafeEntryError) {
          rejected.add(hash)
          reject(e)
        }
        throw e
      }
    }
  }
}
