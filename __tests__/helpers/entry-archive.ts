// Actions cache archives as @actions/cache 6 makes them (GNU tar `--posix -P`, then zstd, or gzip
// where zstd is missing), holding what a test chooses: the kit's own layout, or what a tampered
// entry would add (an absolute path, a `..` member, a symlink).

import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { gzipSync } from 'node:zlib'

/** The compression @actions/cache 6.3 picks on this machine: zstd (without --long) when it runs. */
export function libraryCompression(): 'zstd-without-long' | 'gzip' {
  try {
    return execFileSync('zstd', ['--quiet', '--version'], { encoding: 'utf8' }).trim() === '' ? 'gzip' : 'zstd-without-long'
  } catch {
    return 'gzip'
  }
}

/** The version @actions/cache gives the kit's entry for `hash` on Linux (the paths, the compression, its salt). */
export function entryVersion(hash: string): string {
  return createHash('sha256')
    .update([`nx-cache/${hash}`, libraryCompression(), '1.0'].join('|'))
    .digest('hex')
}

/** `tar --posix -cf - -P -C cwd …members`, compressed as the library would. */
export function entryArchive(cwd: string, members: string[]): Buffer {
  const tar = execFileSync('tar', ['--posix', '-cf', '-', '-P', '-C', cwd, ...members], { maxBuffer: 64 * 1024 * 1024 })
  return libraryCompression() === 'gzip' ? gzipSync(tar) : execFileSync('zstd', ['-q', '-c'], { input: tar, maxBuffer: 64 * 1024 * 1024 })
}
