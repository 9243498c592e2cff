// How the kit names what it keeps: an entry's file name (an Nx task hash) and its Actions cache
// key. No imports, so the hand-off module and every bundle can check a name without loading
// @actions/cache.

/** Nx task hashes are decimal strings today; accept what can safely name a file, nothing else. */
const HASH = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/

/** Is `hash` a name the kit keeps an entry under (a file name in the entries folder, never a path)? */
export function isEntryHash(hash: string): boolean {
  return HASH.test(hash) && !hash.includes('..')
}

/** The folder of entries in the staging folder, and the one path in every entry's archive. */
export const ENTRY_DIR = 'nx-cache'
const KEY_PREFIX = 'nx-cloud-access-v1'

export function entryKey(hash: string, runnerOs: string): string {
  return `${KEY_PREFIX}-${runnerOs || process.platform}-${hash}`
}
