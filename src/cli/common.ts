// Small pieces shared by the command line's subcommands: usage errors (exit 2), output sinks,
// colour, and NAME=VALUE flags.

import { MalformedNxJson } from '../core/nx-config.js'
import { PolicyError } from '../core/types.js'

export class UsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

/**
 * Runs one of the policy's readers for the command line: what the action would refuse with a
 * PolicyError is bad usage here (exit 2). The one place that converts; `Input '--flag'` reads as `--flag`.
 */
export function asUsage<T>(read: () => T, prefix = ''): T {
  try {
    return read()
  } catch (e) {
    // A malformed nx.json, said of the file: the command line has no 'working-directory' input.
    if (e instanceof MalformedNxJson) throw new UsageError(prefix + e.plain)
    if (e instanceof PolicyError) throw new UsageError(prefix + e.message.replace(/^Input '(--[a-z-]+)'/, '$1'))
    throw e
  }
}

export interface Io {
  out: (text: string) => void
  err: (text: string) => void
  /** Colour on a terminal or with FORCE_COLOR set (not 0), and never with NO_COLOR set. */
  color: boolean
  cwd: string
}

export function processIo(): Io {
  return {
    out: t => process.stdout.write(t),
    err: t => process.stderr.write(t),
    color: (Boolean(process.stdout.isTTY) || !['', '0', undefined].includes(process.env.FORCE_COLOR)) && !process.env.NO_COLOR,
    cwd: process.cwd()
  }
}

const CODES = { red: 31, yellow: 33, blue: 34, gray: 90, bold: 1, green: 32, cyan: 36, magenta: 35 } as const
type Colour = keyof typeof CODES

export function paint(io: Io, colour: Colour, text: string): string {
  return io.color ? `\u001b[${CODES[colour]}m${text}\u001b[0m` : text
}

/** Parses `NAME=VALUE` pairs given to a repeatable option. */
export function pairs(values: readonly string[] | undefined, option: string): Record<string, string> {
  // No prototype: `__proto__=x` is a name like any other (and then refused as unknown).
  const out: Record<string, string> = Object.create(null) as Record<string, string>
  for (const v of values ?? []) {
    const eq = v.indexOf('=')
    if (eq <= 0) throw new UsageError(`--${option} takes NAME=VALUE, got '${v}'.`)
    out[v.slice(0, eq)] = v.slice(eq + 1)
  }
  return out
}
