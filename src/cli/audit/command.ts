// `audit [DIR]`: read nx.json and .github/workflows/*.yml of a checkout and report findings.
// Exit 0 when nothing is at or above --fail-on, 1 otherwise, 2 on bad usage.

import { lstatSync, readdirSync, realpathSync, statSync } from 'node:fs'
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { resolveExtends } from '../../action-io/nx-json.js'
import { parseArgs } from 'node:util'
import { parseSetup } from '../../core/inputs.js'
import { parseNxJson } from '../../core/nx-config.js'
import type { Setup } from '../../core/types.js'
import { type Io, UsageError, asUsage } from '../common.js'
import { atLeast, formatJson, formatSarif, formatText } from './format.js'
import { type Repo, SEVERITIES, type Severity, auditRepo } from './engine.js'
import type { Files } from './follow.js'
import { MAX_FILE_BYTES, readRepoFile } from './read.js'
import { type Workflow, readWorkflow, unreadableWorkflow } from './workflow.js'

export const AUDIT_USAGE = `Usage: nx-cloud-access audit [DIR] [options]

Is this repository set up safely? Reads DIR/nx.json and DIR/.github/workflows/*.yml (default DIR: .).
Only regular files of at most ${MAX_FILE_BYTES} bytes (1 MiB) are read: a workflow that is a symlink,
not a regular file, or larger is reported as workflow-unreadable; such an nx.json is bad usage.

  --setup NAME        judge every workflow under this setup (main-only|ci-read-write|shared-read-write|off,
                      or 1|2|3); default: each workflow's kit step's setup: input, else main-only
  --public            the repository is public (a read-write token in nx.json is then always a finding)
  --format FORMAT     text (default), json, or sarif (SARIF 2.1.0, for GitHub code scanning)
  --fail-on SEVERITY  exit 1 when a finding is at or above info|low|medium|high (default high)

Exit: 0 clean, 1 findings at or above --fail-on, 2 bad usage, 3 an internal error (a bug).
`

const FORMATS = ['text', 'json', 'sarif'] as const

/**
 * The repository as the audit reads it: nx.json now, and the workflows one at a time as the audit
 * asks for them (each parsed when reached and let go once judged); `count` is how many were read.
 */
function loadRepo(root: string): Repo & { workflows: Iterable<Workflow>; count: () => number } {
  let nxJson: Repo['nxJson'] = null
  // Nx and the token step read nx.json through a symlink, so the audit follows one that stays
  // inside the repository; anything else it cannot read is bad usage, as a malformed nx.json is.
  const nx = readRepoFile(join(root, 'nx.json'), { followInside: root })
  if (!nx.ok && !nx.missing) throw new UsageError(`Cannot read ${join(root, 'nx.json')}: it is ${nx.reason}.`)
  const text = nx.ok ? nx.text : null
  if (text !== null) {
    const config = asUsage(() => parseNxJson(text, 'nx.json'), `${join(root, 'nx.json')} is malformed; the kit would fail every run: `)
    nxJson = { file: 'nx.json', text, config }
  }
  let count = 0
  function* workflows(): Generator<Workflow> {
    // GitHub runs no workflow when .github or .github/workflows is a symlink: it reads the tree as
    // committed. One finding says so; the audit does not follow the link.
    for (const folder of ['.github', '.github/workflows']) {
      let link: boolean
      try {
        link = lstatSync(join(root, folder)).isSymbolicLink()
      } catch {
        link = false
      }
      if (link) {
        count++
        yield unreadableWorkflow(folder, 'a symlink')
        return
      }
    }
    const dir = join(root, '.github', 'workflows')
    let names: string[]
    try {
      names = readdirSync(dir)
    } catch {
      names = []
    }
    for (const name of names.filter(n => /\.ya?ml$/.test(n)).sort()) {
      const file = `.github/workflows/${name}`
      const r = readRepoFile(join(dir, name))
      count++
      yield r.ok ? readWorkflow(file, r.text) : unreadableWorkflow(file, r.reason)
    }
  }
  return { workflows: workflows(), nxJson, files: lazyFiles(root), count: () => count }
}

/** The other files audit follows, read when first asked for (a missing or unreadable one is null). */
function lazyFiles(root: string): Files {
  const cache = new Map<string, string | null>()
  let realRoot: string | null = null
  /** Is the folder a file sits in inside the repository, once its symlinks are resolved? */
  const folderInside = (rel: string): boolean => {
    try {
      realRoot ??= realpathSync(root)
      const dir = realpathSync(dirname(join(root, rel)))
      const r = relative(realRoot, dir)
      return r === '' || (!r.startsWith('..') && !isAbsolute(r))
    } catch {
      return false
    }
  }
  return {
    read(rel: string): string | null {
      if (cache.has(rel)) return cache.get(rel) ?? null
      // A symlinked folder leading out of the repository (.github/actions/x -> /etc) is not followed:
      // the audit reads the repository, nothing of the machine it runs on.
      if (!folderInside(rel)) {
        cache.set(rel, null)
        return null
      }
      // Through the one safe reader: a symlink, FIFO or huge file is treated as absent. Nx and npm read
      // nx.json, package.json and the env files Nx loads, through a symlink that stays in the repository
      // (Nx follows it); GitHub reads an action's blob.
      const r = readRepoFile(
        join(root, rel),
        /(?:^|\/)(?:nx\.json|package\.json|\.local\.env|\.env\.local|\.env|nx-cloud\.env)$/.test(rel) ? { followInside: root } : {}
      )
      const text = r.ok ? r.text : null
      cache.set(rel, text)
      return text
    },
    resolveExtends(spec: string, dir: string): string | null {
      try {
        return relative(realpathSync(root), resolveExtends(spec, join(root, dir), root))
          .split(sep)
          .join('/')
      } catch {
        return null
      }
    }
  }
}

export async function audit(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      setup: { type: 'string' },
      public: { type: 'boolean' },
      format: { type: 'string' },
      'fail-on': { type: 'string' },
      help: { type: 'boolean', short: 'h' }
    }
  })
  if (values.help) {
    io.out(AUDIT_USAGE)
    return 0
  }
  if (positionals.length > 1) throw new UsageError(`audit takes one directory, got ${positionals.length}.`)
  const format = values.format ?? 'text'
  if (!(FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`Unknown --format '${format}'. Accepted: ${FORMATS.join(', ')}.`)
  }
  const failOn = (values['fail-on'] ?? 'high') as Severity
  if (!SEVERITIES.includes(failOn)) {
    throw new UsageError(`Unknown --fail-on '${values['fail-on']}'. Accepted: ${SEVERITIES.join(', ')}.`)
  }
  let setup: Setup | null = null
  if (values.setup !== undefined) {
    setup = asUsage(() => parseSetup(values.setup as string, '--setup'))
  }
  const root = resolve(io.cwd, positionals[0] ?? '.')
  let isDir: boolean
  try {
    isDir = statSync(root).isDirectory()
  } catch {
    isDir = false
  }
  if (!isDir) throw new UsageError(`${positionals[0] ?? '.'} is not a directory.`)
  const present = (rel: string): boolean => {
    try {
      lstatSync(join(root, rel))
      return true
    } catch {
      return false
    }
  }
  if (!present('nx.json') && !present(join('.github', 'workflows')))
    throw new UsageError(
      `${positionals[0] ?? '.'} has neither nx.json nor .github/workflows: audit reads a repository's nx.json and .github/workflows/*.yml, so give it the repository's root.`
    )

  const repo = loadRepo(root)
  const findings = auditRepo(repo, { setup, public: values.public === true })
  if (format === 'json') io.out(formatJson(findings))
  else if (format === 'sarif') io.out(formatSarif(findings))
  else io.out(formatText(findings, { workflows: repo.count(), failOn }, io))
  return findings.some(f => atLeast(f.severity, failOn)) ? 1 : 0
}
