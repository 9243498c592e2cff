// The command line's flags as a person reads about them: a mistyped flag names the closest one the
// command documents, a flag missing its value shows the value it takes, and nothing prints Node's
// own parseArgs wording. The flags are read from the command's usage text (the --help a user sees),
// so a flag added to a command and to its --help is suggested with no list to keep in step.

import { distance } from 'fastest-levenshtein'
import { UsageError } from './common.js'

/** The flags a usage text documents (`  --event NAME`, `  -h, --help`), each with its value's placeholder or null. */
export function documentedFlags(usage: string): Map<string, string | null> {
  const flags = new Map<string, string | null>()
  for (const m of usage.matchAll(/^ {2}(?:-[a-z], )?(--[a-z][a-z-]*)(?: ([A-Z][A-Z/=_-]*))?/gm)) flags.set(m[1], m[2] ?? null)
  return flags
}

/**
 * The candidate nearest to a mistyped word, or null when none is near: within two edits (or a
 * third of its length), or a candidate the word begins (`--work` → `--workflow`). Case is ignored.
 */
export function closest(given: string, candidates: readonly string[]): string | null {
  const g = given.toLowerCase()
  let best: string | null = null
  let bestDistance = Infinity
  for (const c of candidates) {
    const d = distance(g, c.toLowerCase())
    if (d < bestDistance) [best, bestDistance] = [c, d]
  }
  if (best !== null && bestDistance <= Math.max(2, Math.floor(g.length / 3))) return best
  const prefixed = candidates.filter(c => g.length >= 4 && c.toLowerCase().startsWith(g))
  return prefixed.length === 1 ? prefixed[0] : null
}

/** ", did you mean X?" or, with nothing near, what is accepted. */
export function suggestion(given: string, candidates: readonly string[]): string {
  const near = closest(given, candidates)
  return near !== null ? `: did you mean ${near}?` : `. Accepted: ${candidates.join(', ')}.`
}

/**
 * A parseArgs error (its code starts with ERR_PARSE_ARGS) as a usage error naming the command's
 * own flags; null for any other error.
 */
export function flagError(e: unknown, command: string, usage: string): UsageError | null {
  const code = (e as { code?: unknown } | null)?.code
  if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS')) return null
  const message = (e as Error).message
  const flags = documentedFlags(usage)
  const unknown = /^Unknown option '([^']*)'/.exec(message)
  if (unknown) {
    // `--ref=main` arrives whole: the flag is what comes before '='.
    const flag = unknown[1].split('=')[0]
    return new UsageError(`${command} has no flag ${flag}${suggestion(flag, [...flags.keys()])}`)
  }
  const missing = /^Option '(?:-[a-z], )?(--[a-z-]+) <value>' argument missing/.exec(message)
  if (missing) {
    const placeholder = flags.get(missing[1]) ?? 'VALUE'
    return new UsageError(`${missing[1]} needs a value: ${missing[1]} ${placeholder}.`)
  }
  const valued = /^Option '(?:-[a-z], )?(--[a-z-]+)' does not take an argument/.exec(message)
  if (valued) return new UsageError(`${valued[1]} takes no value: give ${valued[1]} alone.`)
  const positional = /^Unexpected argument '([^']*)'/.exec(message)
  if (positional) {
    return new UsageError(`${command} takes no argument '${positional[1]}': each value follows its flag, as in --event push.`)
  }
  return new UsageError(`${command}: ${message.replace(/\s+/g, ' ')}`)
}
