// The one way the audit reads a file of the repository it audits. A pull request can commit
// symlinks (dangling, looping, or pointing at /dev/zero), and a checkout can hold folders named
// `x.yml`, FIFOs or huge files: none of them may crash or hang the audit. So a file is read only
// when it is a regular file of at most MAX_FILE_BYTES, checked with lstat before it is opened
// and again with fstat on the descriptor that is read (opened without following a symlink and
// without blocking), and anything else comes back as a reason, never an exception.

import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, realpathSync, type Stats } from 'node:fs'
import { relative, isAbsolute } from 'node:path'

/** The most the audit reads of one file: 1 MiB, far above any real workflow file or nx.json. */
export const MAX_FILE_BYTES = 1024 * 1024

type ReadResult = { ok: true; text: string } | { ok: false; missing: boolean; reason: string }

interface ReadOptions {
  /**
   * Follow a symlink whose target is a regular file inside this directory (nx.json: Nx and the
   * kit's token step read it through the link). Without it, a symlink is refused: GitHub reads a
   * workflow file's blob, the link itself, and never the file it points to.
   */
  followInside?: string
}

function notRegular(s: Stats): string {
  const kind = s.isDirectory()
    ? 'a directory'
    : s.isFIFO()
      ? 'a FIFO'
      : s.isSocket()
        ? 'a socket'
        : s.isCharacterDevice() || s.isBlockDevice()
          ? 'a device'
          : ''
  return kind === '' ? 'not a regular file' : `not a regular file (${kind})`
}

const refuse = (reason: string, missing = false): ReadResult => ({ ok: false, missing, reason })

let shared: Buffer | null = null
/** The buffer every read uses: MAX_FILE_BYTES + 1, made on the first read (allocUnsafe: only the bytes read are used). */
function readBuffer(): Buffer {
  shared ??= Buffer.allocUnsafe(MAX_FILE_BYTES + 1)
  return shared
}

export function readRepoFile(path: string, opts: ReadOptions = {}): ReadResult {
  let target = path
  let st: Stats
  try {
    st = lstatSync(path)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    return code === 'ENOENT' ? refuse('missing', true) : refuse(`not readable (${code ?? 'error'})`)
  }
  if (st.isSymbolicLink()) {
    if (opts.followInside === undefined) return refuse('a symlink')
    try {
      target = realpathSync(path)
      const rel = relative(realpathSync(opts.followInside), target)
      if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return refuse('a symlink to a file outside the repository')
      st = lstatSync(target)
    } catch {
      return refuse('a symlink that does not resolve to a file')
    }
  }
  if (!st.isFile()) return refuse(notRegular(st))
  if (st.size > MAX_FILE_BYTES) return refuse(`larger than ${MAX_FILE_BYTES} bytes`)
  let fd: number
  try {
    // O_NOFOLLOW and O_NONBLOCK: a file swapped for a symlink or a FIFO after the lstat neither
    // redirects nor blocks the open; the fstat below then refuses it.
    fd = openSync(target, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0))
  } catch (e) {
    return refuse(`not readable (${(e as NodeJS.ErrnoException).code ?? 'error'})`)
  }
  try {
    const fst = fstatSync(fd)
    if (!fst.isFile() || fst.ino !== st.ino || fst.dev !== st.dev) return refuse('not a regular file (it changed while being read)')
    // Read at most one byte past the cap, whatever the size said: a file can grow after fstat.
    // One buffer for every read (reads are synchronous, and the text is copied out of it): a
    // fresh 1 MiB per file was 1 MiB of memory outside the heap per file until a collection.
    const buf = readBuffer()
    let n = 0
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null)
      if (got === 0) break
      n += got
      if (n > MAX_FILE_BYTES) return refuse(`larger than ${MAX_FILE_BYTES} bytes`)
    }
    return { ok: true, text: buf.subarray(0, n).toString('utf8') }
  } catch (e) {
    return refuse(`not readable (${(e as NodeJS.ErrnoException).code ?? 'error'})`)
  } finally {
    closeSync(fd)
  }
}
