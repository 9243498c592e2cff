// Secrets in printed text: what the runner's masking does for the log, done for what it does not
// see (the command line's output, a failed step's job summary).

/** Replaces every secret in a text by `***`, longest first so no fragment shows. */
export function hideSecrets(text: string, secrets: readonly string[]): string {
  let out = text
  for (const s of [...secrets].filter(s => s !== '').sort((a, b) => b.length - a.length)) out = out.split(s).join('***')
  return out
}
