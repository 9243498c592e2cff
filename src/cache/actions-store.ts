// Nx cache entries in the GitHub Actions cache, through @actions/cache: one Actions cache entry
// per task hash, keyed `<prefix>-<runner OS>-<hash>` and restored by that exact key.
//
// @actions/cache hashes the path strings it is given into each entry's version, and archives
// paths relative to GITHUB_WORKSPACE; an entry saved from one path is invisible to a restore that
// names another. So the server and `post` both run in a staging folder under RUNNER_TEMP, set
// GITHUB_WORKSPACE to it, and name every entry by the same relative path `nx-cache/<hash>`: the
// path strings, hence the versions, are the same in every job, whatever RUNNER_TEMP is.
//
// The library reports save failures only as log lines (it never throws for them), and a 429
// only inside a debug line; saveEntry captures what it prints during one save to tell a rate
// limit, a refused write and an existing entry apart. Saves must therefore run one at a time.

import * as core from '@actions/core'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { SaveOutcome } from './post/queue.js'

export const ENTRY_DIR = 'nx-cache'
export const KEY_PREFIX = 'nx-cloud-access-v1'

export function entryPath(hash: string): string {
  return `${ENTRY_DIR}/${hash}`
}

export function entryKey(hash: string, runnerOs: string): string {
  return `${KEY_PREFIX}-${runnerOs || process.platform}-${hash}`
}

/** Makes the process's working folder and GITHUB_WORKSPACE the staging folder (see above). */
export function enterStage(stageDir: string): void {
  process.chdir(stageDir)
  process.env.GITHUB_WORKSPACE = stageDir
}

type CacheLib = typeof import('@actions/cache')
let lib: Promise<CacheLib> | null = null
/** Loaded on first use: it is most of the bundle's start-up. */
function cacheLib(): Promise<CacheLib> {
  lib ??= import('@actions/cache')
  return lib
}

/** Reads an entry from the Actions cache into `<stage>/nx-cache/<hash>`; `null` on a miss. */
export async function restoreEntry(stageDir: string, hash: string, runnerOs: string): Promise<Buffer | null> {
  const { restoreCache } = await cacheLib()
  const key = entryKey(hash, runnerOs)
  const matched = await restoreCache([entryPath(hash)], key)
  // Only the exact key: the service matches keys by prefix, and a hash is content-addressed.
  if (matched !== key) return null
  return readFileSync(join(stageDir, ENTRY_DIR, hash))
}

/** Classifies what @actions/cache printed while one save failed (it returned -1). */
export function classifySaveOutput(output: string): SaveOutcome {
  const line = (re: RegExp): string => output.split('\n').find(l => re.test(l))?.replace(/^::[a-z]+(?: [^:]*)?::/, '') ?? ''
  if (/\(429\)|Rate limited|rate limit/i.test(output)) return { kind: 'rate-limited', message: line(/429|rate limit/i) }
  if (/cache write denied:|does not permit writes/i.test(output)) {
    return { kind: 'denied', message: line(/cache write denied:|does not permit writes/i) }
  }
  if (/Failed to make request after \d+ attempts/.test(output)) {
    return { kind: 'failed', message: line(/Failed to make request after/) }
  }
  // Only a real conflict: @actions/cache 6.3 ends *every* failed reservation with "another job may
  // be creating this cache", so that wording says nothing; the service's 409 / "already exists" does.
  if (/\(409\)|already exists/i.test(output)) {
    return { kind: 'exists', message: line(/\(409\)|already exists/i) }
  }
  return { kind: 'failed', message: line(/Failed to save|failed|error/i) || 'the save failed without a message' }
}

/** Saves `<stage>/nx-cache/<hash>` as the hash's entry. One at a time (see the header). */
export async function saveEntry(hash: string, runnerOs: string): Promise<SaveOutcome> {
  const { saveCache } = await cacheLib()
  const key = entryKey(hash, runnerOs)
  let captured = ''
  const write = process.stdout.write.bind(process.stdout)
  // The library's own lines are kept for the step's debug log; the queue prints one summary.
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    captured += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
    const cb = rest.find(r => typeof r === 'function') as (() => void) | undefined
    cb?.()
    return true
  }) as typeof process.stdout.write
  let id: number
  try {
    id = await saveCache([entryPath(hash)], key)
  } catch (e) {
    captured += `\n${e instanceof Error ? e.message : String(e)}`
    id = -1
  } finally {
    process.stdout.write = write
  }
  for (const l of captured.split('\n')) {
    if (l.trim() === '') continue
    // Masks and debug lines pass as they are; the rest is demoted to debug: the queue speaks.
    if (l.startsWith('::add-mask::') || l.startsWith('::debug::')) write(`${l}\n`)
    else core.debug(l.replace(/^::[a-z]+(?: [^:]*)?::/, ''))
  }
  if (id !== -1) return { kind: 'saved' }
  return classifySaveOutput(captured)
}
