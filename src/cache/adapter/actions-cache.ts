// Nx cache entries in the GitHub Actions cache, through @actions/cache: one Actions cache entry
// per task hash, keyed `<prefix>-<runner OS>-<hash>` and restored by that exact key.
//
// @actions/cache hashes the path strings it is given into each entry's version, and archives
// paths relative to GITHUB_WORKSPACE; an entry saved from one path is invisible to a restore that
// names another. So the server and `post` both run in a staging folder under RUNNER_TEMP, set
// GITHUB_WORKSPACE to it, and name every entry by the same relative path `nx-cache/<hash>`: the
// path strings, hence the versions, are the same in every job, whatever RUNNER_TEMP is.
//
// A save runs the library's own steps (tar, reserve, upload, finalize: what its saveCache does)
// rather than saveCache itself, which reports failures only as log lines and spawns `zstd
// --version` for every call. Each step's error or answer is this save's alone, so saves can
// overlap and each is classified on its own. What the library prints during a save is attributed
// to that save through an AsyncLocalStorage and demoted to debug lines (see saveEntry).

import * as core from '../../action-io/core.js'
import { AsyncLocalStorage } from 'node:async_hooks'
import { type ChildProcess, spawn } from 'node:child_process'
import { createReadStream, createWriteStream, readFileSync, renameSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import { HANDED_OVER } from '../server-launch.js'
import { ENTRY_DIR, entryKey } from './names.js'

export { ENTRY_DIR, entryKey, isEntryHash } from './names.js'

/** How one save ended, judged from its own calls (classifySaveError). */
export type SaveOutcome =
  | { kind: 'saved' }
  | { kind: 'exists'; message: string }
  | { kind: 'rate-limited'; message: string; /** Seconds the service asked to wait (Retry-After), if it said. */ retryAfter?: number }
  | { kind: 'denied'; message: string }
  | { kind: 'failed'; message: string }

function entryPath(hash: string): string {
  return `${ENTRY_DIR}/${hash}`
}

/** Makes the process's working folder and GITHUB_WORKSPACE the staging folder (see above). */
export function enterStage(stageDir: string): void {
  process.chdir(stageDir)
  process.env.GITHUB_WORKSPACE = stageDir
}

// The restore needs what @actions/cache does between finding an entry and extracting it (its
// package exports only restoreCache, which extracts with `tar -P`). These are the same modules
// restoreCache itself uses (one copy in the bundle), pinned by the lock file; the tests run them
// against the loopback service, so a change of the library's insides fails there first.
interface CacheInternals {
  tar: typeof import('../../../node_modules/@actions/cache/lib/internal/tar.js')
  utils: typeof import('../../../node_modules/@actions/cache/lib/internal/cacheUtils.js')
  config: typeof import('../../../node_modules/@actions/cache/lib/internal/config.js')
  http: typeof import('../../../node_modules/@actions/cache/lib/internal/cacheHttpClient.js')
  twirp: typeof import('../../../node_modules/@actions/cache/lib/internal/shared/cacheTwirpClient.js')
  httpClient: typeof import('@actions/http-client')
}
let internals: Promise<CacheInternals> | null = null
function cacheInternals(): Promise<CacheInternals> {
  // One after another: Jest's ESM loader fails concurrent imports sharing a module (@actions/core).
  internals ??= (async () => ({
    tar: await import('../../../node_modules/@actions/cache/lib/internal/tar.js'),
    utils: await import('../../../node_modules/@actions/cache/lib/internal/cacheUtils.js'),
    config: await import('../../../node_modules/@actions/cache/lib/internal/config.js'),
    http: await import('../../../node_modules/@actions/cache/lib/internal/cacheHttpClient.js'),
    twirp: await import('../../../node_modules/@actions/cache/lib/internal/shared/cacheTwirpClient.js'),
    httpClient: await import('@actions/http-client')
  }))()
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
  await tarStream()
}

let tarReader: Promise<typeof import('tar-stream')> | null = null
/**
 * tar-stream, loaded once. The server loads it in prepareRestore, before it is handed any
 * credential: a module loaded later is read from the action's folder on disk, which a later step
 * of the job can rewrite, and would run with the runtime token in process.env.
 */
function tarStream(): Promise<typeof import('tar-stream')> {
  tarReader ??= import('tar-stream')
  return tarReader
}

/** An entry larger than max-entry-size: a miss, not restored (and not a tampered archive). */
export class TooLargeEntryError extends Error {
  constructor(key: string, limit: number) {
    super(`the Actions cache entry ${key} is over max-entry-size (${limit} bytes): not restored, answered as a miss`)
    this.name = 'TooLargeEntryError'
  }
}

type TwirpClient = ReturnType<CacheInternals['twirp']['internalCacheTwirpClient']>
let lookups: TwirpClient | null = null

/**
 * The one client every lookup of this process goes through, its connection to the service kept
 * alive. The library's internalCacheTwirpClient() makes a new HttpClient per call, with a new agent
 * and no keep-alive: every lookup (one per Nx task that is not in this job's entries, so every task
 * of a cold run) paid a new connection, and on a runner a TLS handshake, before its one round trip,
 * while Nx waits on it. Made on first use, once the Actions cache variables are in process.env; the
 * client's retries and answers are the library's own, and a lookup that fails is still a miss
 * (docs/POLICY.md#cache-action).
 */
function lookupClient(i: CacheInternals): TwirpClient {
  if (lookups === null) {
    const client = i.twirp.internalCacheTwirpClient()
    const rpc = (client as unknown as { rpc: { httpClient: InstanceType<CacheInternals['httpClient']['HttpClient']> } }).rpc
    const { userAgent, handlers } = rpc.httpClient
    rpc.httpClient = new i.httpClient.HttpClient(userAgent, handlers, { keepAlive: true })
    lookups = client
  }
  return lookups
}

/**
 * A connection kept alive may be closed by the service just as a lookup is sent on it: that is
 * ECONNRESET, which the library does not retry. It is asked once more, on a new connection.
 */
async function findEntry(i: CacheInternals, request: { key: string; restoreKeys: string[]; version: string }) {
  try {
    return await lookupClient(i).GetCacheEntryDownloadURL(request)
  } catch (e) {
    if (!(e instanceof Error && e.message.includes('ECONNRESET'))) throw e
    return await lookupClient(i).GetCacheEntryDownloadURL(request)
  }
}

/**
 * Finds the entry under `key` (exactly) or, with `prefix`, the newest whose key starts with it, in
 * the scopes this run may read (the service goes through them in order), and downloads its archive
 * into a new temporary folder. `null` on a miss or a failure (a warning, as restoreCache gives).
 */
export async function download(
  request: { key: string; prefix: boolean; paths: string[] },
  accept: (matchedKey: string) => boolean
): Promise<{ key: string; archive: string; method: string; cleanup: () => void } | null> {
  const i = await cacheInternals()
  const { utils, config, http } = i
  if (!config.isCacheReadable(config.getCacheMode())) return null
  const method = await compressionMethod()
  let found: { ok: boolean; signedDownloadUrl: string; matchedKey: string }
  try {
    found = await findEntry(i, {
      key: request.key,
      restoreKeys: request.prefix ? [request.key] : [],
      version: utils.getCacheVersion(request.paths, method, false)
    })
  } catch (e) {
    core.warning(`Failed to restore: ${e instanceof Error ? e.message : String(e)}`)
    return null
  }
  if (!found.ok || !accept(found.matchedKey)) return null
  const tmp = await utils.createTempDirectory()
  const cleanup = (): void => rmSync(tmp, { recursive: true, force: true })
  const archive = join(tmp, utils.getCacheFileName(method))
  try {
    await http.downloadCache(found.signedDownloadUrl, archive, { useAzureSdk: true })
  } catch (e) {
    cleanup()
    core.warning(`Failed to restore: ${e instanceof Error ? e.message : String(e)}`)
    return null
  }
  return { key: found.matchedKey, archive, method, cleanup }
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
export async function restoreEntry(stageDir: string, hash: string, runnerOs: string, maxEntrySize: number): Promise<Buffer | null> {
  const key = entryKey(hash, runnerOs)
  // Only the exact key: the service matches keys by prefix, and a hash is content-addressed.
  const got = await download({ key, prefix: false, paths: [entryPath(hash)] }, matched => matched === key)
  if (got === null) return null
  const target = join(stageDir, ENTRY_DIR, hash)
  const part = join(stageDir, ENTRY_DIR, `.${hash}.${process.pid}.restore`)
  try {
    // The compressed archive is never much larger than what it holds: one far over the limit is not read.
    if (statSync(got.archive).size > maxEntrySize + 1024 * 1024) throw new TooLargeEntryError(key, maxEntrySize)
    rmSync(part, { force: true })
    await readEntryArchive(got.archive, got.method, entryPath(hash), part, key, maxEntrySize)
    renameSync(part, target)
    return readFileSync(target)
  } finally {
    rmSync(part, { force: true })
    got.cleanup()
  }
}

/** Printable, short: a member name comes from whoever wrote the archive. */
export function quoted(name: string): string {
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

/** A member of an archive as its header names it (the header comes from whoever wrote the archive). */
export interface ArchiveMember {
  name: string
  type?: string | null
  size?: number | null
}

/**
 * What to do with one member: skip it (a folder entry), or write its bytes to `dest`, at most
 * `maxSize` of them (else `tooLarge` is thrown). Throw to refuse the whole archive.
 */
export type Placement = 'skip' | { dest: string; maxSize: number; tooLarge: () => Error }

/**
 * Reads a (compressed) tar archive, decompressing as @actions/cache does, never extracting it with
 * tar: `place` judges every member, and only the bytes of the members it places are written, to
 * the paths it chose. The size limit holds by the header and by the bytes as they stream (a header
 * can lie), so nothing larger reaches the disk or memory.
 */
export async function readArchive(archive: string, method: string, place: (m: ArchiveMember) => Placement): Promise<void> {
  const { extract } = await tarStream()
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
  try {
    for await (const entry of tar) {
      const where = place(entry.header)
      if (where === 'skip') {
        entry.resume()
        continue
      }
      if ((entry.header.size ?? 0) > where.maxSize) throw where.tooLarge()
      let size = 0
      await pipeline(
        async function* () {
          for await (const chunk of entry) {
            size += (chunk as Buffer).length
            if (size > where.maxSize) throw where.tooLarge()
            yield chunk as Buffer
          }
        },
        createWriteStream(where.dest, { flags: 'wx' })
      )
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
}

/** Reads an entry's archive: exactly one regular file `member`, written to `dest`; an UnsafeEntryError for any other layout. */
async function readEntryArchive(
  archive: string,
  method: string,
  member: string,
  dest: string,
  key: string,
  maxSize: number
): Promise<void> {
  let written = false
  await readArchive(archive, method, header => {
    const why = refusal(header, member)
    if (why !== null) throw new UnsafeEntryError(key, why)
    if (header.type === 'directory') return 'skip'
    if (written) throw new UnsafeEntryError(key, `it holds ${member} twice`)
    written = true
    return { dest, maxSize, tooLarge: () => new TooLargeEntryError(key, maxSize) }
  })
  if (!written) throw new UnsafeEntryError(key, `it holds no ${member}`)
}

/** The prefix @actions/cache's service puts before a refused write (a read-only cache token). */
const WRITE_DENIED = 'cache write denied:'

/**
 * Classifies one failed save from what its own calls threw or answered: a 429 (the Twirp client's
 * RateLimitError, wrapped as "Failed to CreateCacheEntry: Rate limited: …"), a refused write, an
 * existing entry (the service's 409), or any other failure.
 */
export function classifySaveError(message: string): SaveOutcome {
  const text = message.trim() || 'the save failed without a message'
  if (/\(429\)|Rate limited/i.test(text)) return { kind: 'rate-limited', message: text }
  if (text.includes(WRITE_DENIED) || /does not permit writes/i.test(text)) return { kind: 'denied', message: text }
  // Only a real conflict: the service's 409 / "already exists".
  if (/\(409\)|already exists/i.test(text)) return { kind: 'exists', message: text }
  return { kind: 'failed', message: text }
}

// What the library prints (its core.info/warning, the tar command lines) goes to process.stdout.
// While saves are in flight, one hook on process.stdout sends each write made inside a save's
// async context to that save's buffer; a write from anywhere else passes through.
const saving = new AsyncLocalStorage<string[]>()
let hooked = 0
let realWrite: typeof process.stdout.write | null = null

function hookStdout(): void {
  if (hooked++ > 0) return
  const write = process.stdout.write.bind(process.stdout) as typeof process.stdout.write
  realWrite = write
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    const lines = saving.getStore()
    if (lines === undefined) return (write as (...a: unknown[]) => boolean)(chunk, ...rest)
    lines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'))
    const cb = rest.find(r => typeof r === 'function') as (() => void) | undefined
    cb?.()
    return true
  }) as typeof process.stdout.write
}

function unhookStdout(): void {
  if (--hooked > 0 || realWrite === null) return
  process.stdout.write = realWrite
  realWrite = null
}

/** Passes on what one save printed: masks and debug lines as they are, the rest as debug lines. */
function replay(printed: string[]): void {
  const write = realWrite ?? process.stdout.write.bind(process.stdout)
  for (const l of printed.join('').split('\n')) {
    if (l.trim() === '') continue
    if (l.startsWith('::add-mask::') || l.startsWith('::debug::')) write(`${l}\n`)
    else
      write(
        `::debug::${l
          .replace(/^::[a-z]+(?: [^:]*)?::/, '')
          .replace(/%/g, '%25')
          .replace(/\r/g, '%0D')}\n`
      )
  }
}

/**
 * Saves `<stage>/nx-cache/<hash>` as the hash's entry, as @actions/cache's saveCache (service v2)
 * would: the same archive, key and version. Safe to run alongside other saves.
 */
export async function saveEntry(hash: string, runnerOs: string): Promise<SaveOutcome> {
  const printed: string[] = []
  hookStdout()
  try {
    return await saving.run(printed, () => saveOne(hash, runnerOs))
  } catch (e) {
    return classifySaveError(e instanceof Error ? e.message : String(e))
  } finally {
    unhookStdout()
    replay(printed)
  }
}

async function saveOne(hash: string, runnerOs: string): Promise<SaveOutcome> {
  return saveArchive(entryKey(hash, runnerOs), [entryPath(hash)], null)
}

/**
 * Saves the listed paths (relative to `workdir`, else to GITHUB_WORKSPACE, the stage) as the entry
 * `key`: tar, reserve, upload, finalize, each step's answer this save's own. A 429 carries the
 * seconds the service asked to wait (its Retry-After), read from the reservation's own answer.
 */
export async function saveArchive(key: string, paths: string[], workdir: string | null): Promise<SaveOutcome> {
  const { tar, utils, config, http, twirp } = await cacheInternals()
  const mode = config.getCacheMode()
  if (!config.isCacheWritable(mode)) {
    return { kind: 'denied', message: `the effective cache-mode '${mode}' does not permit writes` }
  }
  const method = await compressionMethod()
  const tmp = await utils.createTempDirectory()
  let retryAfter: number | undefined
  try {
    const archive = join(tmp, utils.getCacheFileName(method))
    const workspace = process.env.GITHUB_WORKSPACE
    if (workdir !== null) process.env.GITHUB_WORKSPACE = workdir
    try {
      // createTar reads GITHUB_WORKSPACE as it starts; the archive is made before it is set back.
      await tar.createTar(tmp, paths, method)
    } finally {
      if (workdir !== null) process.env.GITHUB_WORKSPACE = workspace
    }
    const size = utils.getArchiveFileSizeInBytes(archive)
    const version = utils.getCacheVersion(paths, method, false)
    const client = twirp.internalCacheTwirpClient()
    // The library reads a 429's Retry-After only to print it: it is read here from the answer itself.
    const rpc = (client as unknown as { rpc: { httpClient: { post: (...a: unknown[]) => Promise<HttpAnswer> } } }).rpc
    const post = rpc.httpClient.post.bind(rpc.httpClient)
    rpc.httpClient.post = async (...a: unknown[]) => {
      const answer = await post(...a)
      if (answer.message.statusCode === 429) retryAfter = retryAfterSeconds(answer.message.headers['retry-after'])
      return answer
    }
    const reserved = await client.CreateCacheEntry({ key, version })
    if (!reserved.ok) return classifySaveError(reserved.message || 'the service did not reserve the entry')
    // As saveCache: the Azure SDK, 64 MiB blocks, 8 in flight (one shot up to 128 MiB).
    await http.saveCache(-1, archive, reserved.signedUploadUrl, {
      useAzureSdk: true,
      uploadChunkSize: 64 * 1024 * 1024,
      uploadConcurrency: 8,
      archiveSizeBytes: size
    })
    const done = await client.FinalizeCacheEntryUpload({ key, version, sizeBytes: String(size) })
    if (!done.ok) return classifySaveError(done.message || `the service did not finalize ${key}`)
    return { kind: 'saved' }
  } catch (e) {
    const outcome = classifySaveError(e instanceof Error ? e.message : String(e))
    return outcome.kind === 'rate-limited' && retryAfter !== undefined ? { ...outcome, retryAfter } : outcome
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}

interface HttpAnswer {
  message: { statusCode?: number; headers: Record<string, string | string[] | undefined> }
}

/** Retry-After in whole seconds (GitHub sends seconds); `undefined` when absent or not a positive number. */
export function retryAfterSeconds(value: string | string[] | undefined): number | undefined {
  const n = Number(Array.isArray(value) ? value[0] : value)
  return Number.isFinite(n) && n > 0 ? Math.ceil(n) : undefined
}
