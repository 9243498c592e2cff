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
import { type ChildProcess, spawn } from 'node:child_process'
import { createReadStream, createWriteStream, readFileSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import type { SaveOutcome } from './post/queue.js'
import { HANDED_OVER } from './server-launch.js'

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

// The restore needs what @actions/cache does between finding an entry and extracting it (its
// package exports only restoreCache, which extracts with `tar -P`). These are the same modules
// restoreCache itself uses (one copy in the bundle), pinned by the lock file; the tests run them
// against the loopback service, so a change of the library's insides fails there first.
interface CacheInternals {
  utils: typeof import('../../node_modules/@actions/cache/lib/internal/cacheUtils.js')
  config: typeof import('../../node_modules/@actions/cache/lib/internal/config.js')
  http: typeof import('../../node_modules/@actions/cache/lib/internal/cacheHttpClient.js')
  twirp: typeof import('../../node_modules/@actions/cache/lib/internal/shared/cacheTwirpClient.js')
}
let internals: Promise<CacheInternals> | null = null
function cacheInternals(): Promise<CacheInternals> {
  internals ??= Promise.all([
    import('../../node_modules/@actions/cache/lib/internal/cacheUtils.js'),
    import('../../node_modules/@actions/cache/lib/internal/config.js'),
    import('../../node_modules/@actions/cache/lib/internal/cacheHttpClient.js'),
    import('../../node_modules/@actions/cache/lib/internal/shared/cacheTwirpClient.js')
  ]).then(([utils, config, http, twirp]) => ({ utils, config, http, twirp }))
  return internals
}

type Compression = Awaited<ReturnType<CacheInternals['utils']['getCompressionMethod']>>
let compression: Promise<Compression> | null = null
/** As @actions/cache decides it (it runs `zstd --version`), once per process. */
async function compressionMethod(): Promise<Compression> {
  compression ??= cacheInternals().then(i => i.utils.getCompressionMethod())
  return compression
}

/**
 * Loads the library and learns its compression method. The server calls it before the Actions
 * cache variables enter its process.env: the library runs `zstd --version` with that environment,
 * and a child process's environment is as readable to a later step as the server's own.
 */
export async function prepareRestore(): Promise<void> {
  await compressionMethod()
}

/** An Actions cache entry under the kit's key that does not hold what the kit saves. */
export class UnsafeEntryError extends Error {
  constructor(
    readonly key: string,
    readonly why: string
  ) {
    super(`the Actions cache entry ${key} is not one this kit saves (${why}): not restored, answered as a miss, its archive deleted`)
    this.name = 'UnsafeEntryError'
  }
}

/**
 * Reads an entry from the Actions cache into `<stage>/nx-cache/<hash>`; `null` on a miss.
 *
 * @actions/cache's restoreCache would extract the archive with `tar -P`, which writes a member at
 * an absolute path, or one climbing out with `..`, wherever it names: one tampered entry would
 * write files into every job that restores it. So the archive is downloaded as restoreCache
 * downloads it, then read here, never by tar: it must hold exactly the one regular file
 * `nx-cache/<hash>` that saveEntry archives (and at most the `nx-cache` folder entry), whose bytes
 * alone are written, to a path chosen here. Anything else throws an UnsafeEntryError (a miss for
 * the server) and nothing of the archive is kept.
 */
export async function restoreEntry(stageDir: string, hash: string, runnerOs: string): Promise<Buffer | null> {
  const { utils, config, http, twirp } = await cacheInternals()
  // As restoreCache: ACTIONS_CACHE_MODE write-only (or none) allows no reads.
  if (!config.isCacheReadable(config.getCacheMode())) return null
  const key = entryKey(hash, runnerOs)
  const method = await compressionMethod()
  let found: { ok: boolean; signedDownloadUrl: string; matchedKey: string }
  try {
    found = await twirp.internalCacheTwirpClient().GetCacheEntryDownloadURL({
      key,
      restoreKeys: [],
      version: utils.getCacheVersion([entryPath(hash)], method, false)
    })
  } catch (e) {
    // As restoreCache: a service that fails (or denies reads) is a miss, with a warning.
    core.warning(`Failed to restore: ${e instanceof Error ? e.message : String(e)}`)
    return null
  }
  // Only the exact key: the service matches keys by prefix, and a hash is content-addressed.
  if (!found.ok || found.matchedKey !== key) return null

  const tmp = await utils.createTempDirectory()
  const target = join(stageDir, ENTRY_DIR, hash)
  const part = join(stageDir, ENTRY_DIR, `.${hash}.${process.pid}.restore`)
  try {
    const archive = join(tmp, utils.getCacheFileName(method))
    try {
      await http.downloadCache(found.signedDownloadUrl, archive, { useAzureSdk: true })
    } catch (e) {
      core.warning(`Failed to restore: ${e instanceof Error ? e.message : String(e)}`)
      return null
    }
    await readEntryArchive(archive, method, entryPath(hash), part, key)
    renameSync(part, target)
    return readFileSync(target)
  } finally {
    rmSync(part, { force: true })
    rmSync(tmp, { recursive: true, force: true })
  }
}

/** Printable, short: a member name comes from whoever wrote the archive. */
function quoted(name: string): string {
  return JSON.stringify(name.length > 120 ? `${name.slice(0, 120)}…` : name)
}

/** Why a member is not the one the kit saves, or `null` when it is `member` itself. */
function refusal(header: { name: string; type?: string | null }, member: string): string | null {
  const { name, type } = header
  if (type === 'directory' && (name === ENTRY_DIR || name === `${ENTRY_DIR}/`)) return null
  if (/^([/\\]|[A-Za-z]:)/.test(name)) return `it holds ${quoted(name)}, an absolute path`
  if (name.split(/[/\\]/).includes('..')) return `it holds ${quoted(name)}, which climbs out with ..`
  if (name !== member) return `it holds ${quoted(name)}, not only ${member}`
  if (type !== 'file') return `its ${member} is a ${type ?? 'member of unknown type'}, not a regular file`
  return null
}

/**
 * Reads the (compressed) tar archive, decompressing as @actions/cache does, and writes the bytes of
 * its one member `member` to `dest`; throws an UnsafeEntryError for any other layout.
 */
async function readEntryArchive(archive: string, method: string, member: string, dest: string, key: string): Promise<void> {
  const { extract } = await import('tar-stream')
  let source: Readable
  let zstd: ChildProcess | null = null
  let zstdErr = ''
  if (method === 'gzip') {
    source = createReadStream(archive).pipe(createGunzip())
  } else {
    // As @actions/cache's `unzstd` (`--long=30` only for its Zstd method), with no Actions cache
    // variable in the child's environment.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !(HANDED_OVER as readonly string[]).includes(k)))
    zstd = spawn('zstd', ['-d', ...(method === 'zstd' ? ['--long=30'] : []), '-c', '--', archive], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true
    })
    zstd.stderr?.on('data', (d: Buffer) => {
      if (zstdErr.length < 1000) zstdErr += d.toString('utf8')
    })
    source = zstd.stdout as Readable
  }
  const zstdExit =
    zstd === null
      ? Promise.resolve(0)
      : new Promise<number>(resolveExit => {
          zstd.on('error', () => resolveExit(-1))
          zstd.on('close', code => resolveExit(code ?? -1))
        })
  const tar = extract()
  source.on('error', e => tar.destroy(e))
  source.pipe(tar)
  let written = false
  try {
    for await (const entry of tar) {
      const why = refusal(entry.header, member)
      if (why !== null) throw new UnsafeEntryError(key, why)
      if (entry.header.type === 'directory') {
        entry.resume()
        continue
      }
      if (written) throw new UnsafeEntryError(key, `it holds ${member} twice`)
      written = true
      await pipeline(async function* () {
        for await (const chunk of entry) yield chunk as Buffer
      }, createWriteStream(dest))
    }
  } catch (e) {
    // Read no further: the archive is deleted by the caller.
    source.unpipe(tar)
    source.destroy()
    zstd?.kill()
    throw e
  }
  const code = await zstdExit
  if (code !== 0) throw new Error(`zstd could not decompress the archive (exit ${code}): ${zstdErr.trim()}`)
  if (!written) throw new UnsafeEntryError(key, `it holds no ${member}`)
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
