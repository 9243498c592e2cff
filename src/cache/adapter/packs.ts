// Packs: a run's new entries in few Actions cache entries instead of one each, so a run creates a
// handful of entries however many tasks it built (GitHub allows 200 created a minute per
// repository), and the next run's server restores them as one archive instead of one download per
// task.
//
// A pack is an Actions cache entry keyed `nx-cloud-access-v1-pack-<os>-<scope tag>-<run>-<n>`
// whose archive holds `nx-cache-pack/<hash>` files (each an entry's bytes, under its own hash) and
// `nx-cache-pack/index.json`: which hashes each pack of this line holds (this run's packs, then
// those the run inherited from the newest pack of its own scope). The server of the next run finds
// the newest pack of each scope it may read (its own, its base branch's, the default branch's) by
// key prefix, restores it whole at start, and restores an older pack whole when Nx asks for a hash
// its index names. What no pack holds is asked for by its own per-hash entry, as before.
//
// A pack is checked as strictly as an entry: every member must be the pack folder, its index, or a
// regular file named as an entry hash directly in it, each once, each within max-entry-size, all
// within PACK_MAX_BYTES; anything else refuses the whole pack (nothing of it is written). A hash is
// only ever served with the bytes of the member named by that hash: the index only says which
// pack to fetch, never what a hash's bytes are.
//
// The scope tag in the key is only for finding: which scopes a run reads and writes is the cache
// service's to enforce from the run's token. A pull request can name its pack like main's, and it
// still lands in its own scope, which main never reads.

import { randomBytes } from 'node:crypto'
import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs'
import { join } from 'node:path'
import { type SaveOutcome, TooLargeEntryError, UnsafeEntryError, download, quoted, readArchive, saveArchive } from './actions-cache.js'
import { ENTRY_DIR, isEntryHash } from './names.js'

export const PACK_DIR = 'nx-cache-pack'
const INDEX = 'index.json'
const PACK_PREFIX = 'nx-cloud-access-v1-pack'
/** Bytes of entries in one pack at most; a run's entries beyond fill further packs. */
export const PACK_MAX_BYTES = 1024 * 1024 * 1024
/** Packs a run saves at most; entries beyond them are saved one entry each. */
export const MAX_PACKS = 4
/** Hashes an index names at most: the oldest packs of the line drop out beyond it. */
const INDEX_MAX_HASHES = 100_000
const INDEX_MAX_BYTES = 16 * 1024 * 1024
const KEY = /^[A-Za-z0-9._-]{1,512}$/

/** Which hashes each pack holds, newest pack first. */
export type PackIndex = [key: string, hashes: string[]][]

/**
 * A ref as it may stand in a key: refs/pull/7/merge → pull_7_merge. No `-` in it, so the prefix of
 * one ref (…-heads_main-) never starts the key of another (…-heads_main_x-).
 */
export function scopeTag(ref: string): string {
  return (
    ref
      .replace(/^refs\//, '')
      .replace(/[^A-Za-z0-9.]/g, '_')
      .slice(0, 200) || 'none'
  )
}

export function packPrefix(runnerOs: string, ref: string): string {
  return `${PACK_PREFIX}-${runnerOs || process.platform}-${scopeTag(ref)}-`
}

/** The keys of one run's packs (the run id and attempt make them the run's own; the random part, a retry's). */
export function packKeys(runnerOs: string, ref: string, count: number, run: { id: string; attempt: string }): string[] {
  const stem = `${packPrefix(runnerOs, ref)}${run.id.replace(/\D/g, '') || '0'}-${run.attempt.replace(/\D/g, '') || '1'}-${randomBytes(4).toString('hex')}`
  return Array.from({ length: count }, (_, i) => `${stem}-${i}`)
}

/** An index as read from a pack or a file anyone may have written: only well-formed keys and hashes are kept. */
export function parseIndex(text: string): PackIndex {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    return []
  }
  if (!Array.isArray(raw)) return []
  const out: PackIndex = []
  for (const item of raw) {
    if (
      !Array.isArray(item) ||
      typeof item[0] !== 'string' ||
      !KEY.test(item[0]) ||
      !item[0].startsWith(PACK_PREFIX) ||
      !Array.isArray(item[1])
    )
      continue
    out.push([item[0], item[1].filter((h: unknown): h is string => typeof h === 'string' && isEntryHash(h))])
  }
  return out
}

/** This run's packs first, then the inherited ones, none twice, at most INDEX_MAX_HASHES hashes. */
export function mergeIndex(own: PackIndex, inherited: PackIndex): PackIndex {
  const out: PackIndex = []
  const seen = new Set<string>()
  let hashes = 0
  for (const [key, hs] of [...own, ...inherited]) {
    if (seen.has(key) || hashes + hs.length > INDEX_MAX_HASHES) continue
    seen.add(key)
    hashes += hs.length
    out.push([key, hs])
  }
  return out
}

/** Splits a run's entries into at most MAX_PACKS packs of at most PACK_MAX_BYTES; the rest is left for per-hash entries. */
export function planPacks<E extends { hash: string; size: number }>(
  entries: E[],
  maxPacks = MAX_PACKS,
  maxBytes = PACK_MAX_BYTES
): { packs: E[][]; rest: E[] } {
  const packs: E[][] = []
  const rest: E[] = []
  let bytes = 0
  for (const e of entries) {
    if (e.size > maxBytes) {
      rest.push(e)
      continue
    }
    if (packs.length === 0 || bytes + e.size > maxBytes) {
      if (packs.length === maxPacks) {
        rest.push(e)
        continue
      }
      packs.push([])
      bytes = 0
    }
    packs[packs.length - 1].push(e)
    bytes += e.size
  }
  return { packs, rest }
}

/**
 * Saves one pack of `hashes` (files of `<stage>/nx-cache`) under `key`, with `index`. The files are
 * linked (copied where links fail) into a folder of their own, archived as `nx-cache-pack`.
 */
export async function savePack(stage: string, key: string, hashes: string[], index: PackIndex): Promise<SaveOutcome> {
  const work = mkdtempSync(join(stage, '.pack-'))
  try {
    const dir = join(work, PACK_DIR)
    mkdirSync(dir)
    for (const h of hashes) {
      try {
        linkSync(join(stage, ENTRY_DIR, h), join(dir, h))
      } catch {
        copyFileSync(join(stage, ENTRY_DIR, h), join(dir, h))
      }
    }
    writeFileSync(join(dir, INDEX), JSON.stringify(index))
    return await saveArchive(key, [PACK_DIR], work)
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

/** Why a pack member is not one a pack holds, or null. */
function packRefusal(m: { name: string; type?: string | null }): string | null {
  const { name, type } = m
  if (/^([/\\]|[A-Za-z]:)/.test(name)) return `it holds ${quoted(name)}, an absolute path`
  if (name.split(/[/\\]/).includes('..')) return `it holds ${quoted(name)}, which climbs out with ..`
  if (type === 'directory') return name === PACK_DIR || name === `${PACK_DIR}/` ? null : `it holds the folder ${quoted(name)}`
  const m2 = new RegExp(`^${PACK_DIR}/([^/]+)$`).exec(name)
  if (!m2 || (m2[1] !== INDEX && !isEntryHash(m2[1]))) return `it holds ${quoted(name)}, not only ${PACK_DIR}/<hash> files`
  if (type !== 'file') return `its ${quoted(name)} is a ${type ?? 'member of unknown type'}, not a regular file`
  return null
}

/** What a restored pack gave: the hashes it placed in the entries folder, and its index. */
export interface RestoredPack {
  key: string
  hashes: string[]
  index: PackIndex
}

/**
 * Restores a pack (by exact key, or the newest under a prefix) into `<stage>/nx-cache`: the whole
 * archive is read into a folder of its own first, and only once every member passed are the
 * entries linked into place (never over an entry already there). `null` on a miss; an
 * UnsafeEntryError or TooLargeEntryError when the pack is refused (nothing of it written).
 */
export async function restorePack(
  stage: string,
  request: { key: string; prefix: boolean },
  maxEntrySize: number
): Promise<RestoredPack | null> {
  const got = await download(
    { key: request.key, prefix: request.prefix, paths: [PACK_DIR] },
    matched => KEY.test(matched) && (request.prefix ? matched.startsWith(request.key) : matched === request.key)
  )
  if (got === null) return null
  const work = mkdtempSync(join(stage, '.restore-'))
  try {
    if (statSync(got.archive).size > PACK_MAX_BYTES + 16 * 1024 * 1024) throw new TooLargeEntryError(got.key, PACK_MAX_BYTES)
    const seen = new Set<string>()
    let total = 0
    await readArchive(got.archive, got.method, m => {
      const why = packRefusal(m)
      if (why !== null) throw new UnsafeEntryError(got.key, why)
      if (m.type === 'directory') return 'skip'
      const name = m.name.slice(PACK_DIR.length + 1)
      if (seen.has(name)) throw new UnsafeEntryError(got.key, `it holds ${quoted(m.name)} twice`)
      seen.add(name)
      total += m.size ?? 0
      if (total > PACK_MAX_BYTES) throw new TooLargeEntryError(got.key, PACK_MAX_BYTES)
      const limit = name === INDEX ? INDEX_MAX_BYTES : maxEntrySize
      return { dest: join(work, name), maxSize: limit, tooLarge: () => new TooLargeEntryError(got.key, limit) }
    })
    const hashes = [...seen].filter(n => n !== INDEX)
    for (const h of hashes) {
      const target = join(stage, ENTRY_DIR, h)
      if (existsSync(target)) continue
      try {
        // A link appears whole or not at all, and never replaces an entry already there.
        linkSync(join(work, h), target)
      } catch {
        // There meanwhile (an upload, another restore): that one stays.
      }
    }
    const index = seen.has(INDEX) ? parseIndex(readFileSync(join(work, INDEX), 'utf8')) : []
    return { key: got.key, hashes, index }
  } finally {
    rmSync(work, { recursive: true, force: true })
    got.cleanup()
  }
}
