// The detached server process started by `main`: serves Nx's cache protocol until `post` asks
// it to stop. It must stay up: Nx aborts the whole run when the cache refuses a connection, so
// every error is logged and survived.

import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ENTRY_DIR, enterStage, restoreEntry } from '../actions-store.js'
import { type ServerReport, createNxCacheServer, resetUploadsFile } from './http.js'
import { DEFAULT_MAX_ENTRIES, DEFAULT_MAX_ENTRY_SIZE, STATS_FILE, UPLOADS_FILE } from '../state.js'

export async function run(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const log = (line: string): void => {
    process.stdout.write(`[${new Date().toISOString()}] ${line}\n`)
  }
  process.on('uncaughtException', e => log(`uncaught: ${e.stack ?? e.message}`))
  process.on('unhandledRejection', e => log(`unhandled: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`))
  const send = (m: Record<string, unknown>): void => {
    if (process.send) process.send(m, () => process.disconnect?.())
  }
  try {
    const stage = env.NCA_CACHE_STAGE ?? ''
    const token = env.NCA_CACHE_TOKEN ?? ''
    if (stage === '' || token === '') throw new Error('NCA_CACHE_STAGE and NCA_CACHE_TOKEN are required')
    delete process.env.NCA_CACHE_TOKEN
    enterStage(stage)
    const runnerOs = env.RUNNER_OS ?? ''
    const uploadsFile = join(stage, UPLOADS_FILE)
    resetUploadsFile(uploadsFile)
    rmSync(join(stage, STATS_FILE), { force: true })
    const server = createNxCacheServer({
      token,
      write: env.NCA_CACHE_WRITE === 'true',
      entriesDir: join(stage, ENTRY_DIR),
      uploadsFile,
      maxEntries: Number(env.NCA_CACHE_MAX_ENTRIES) || DEFAULT_MAX_ENTRIES,
      maxEntrySize: Number(env.NCA_CACHE_MAX_ENTRY_SIZE) || DEFAULT_MAX_ENTRY_SIZE,
      source: { restore: hash => restoreEntry(stage, hash, runnerOs) },
      log
    })
    const port = await server.listen(0)
    log(`listening on 127.0.0.1:${port} (write: ${env.NCA_CACHE_WRITE === 'true'})`)
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
