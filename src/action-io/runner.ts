// The runner edge the action programs share: masking secrets and failing a step with one line.

import * as core from './core.js'

const masked = new Set<string>()

export function mask(secrets: readonly string[]): void {
  for (const s of secrets) {
    if (s === '' || masked.has(s)) continue
    masked.add(s)
    core.setSecret(s)
    // A multi-line value is also masked line by line, so no fragment of it shows.
    if (/[\r\n]/.test(s)) for (const line of s.split(/\r?\n|\r/)) if (line.trim() !== '') core.setSecret(line)
  }
}

/** Fails the step with one `::error::` line: a message's line breaks would split the annotation. */
export function fail(e: unknown): void {
  core.setFailed(e instanceof Error ? e.message.replace(/\s*\n\s*/g, ' ') : String(e))
}
