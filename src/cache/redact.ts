// The server's log (server.log in RUNNER_TEMP, which the kit's warnings tell users to read) keeps
// no secret: @actions/cache's debug lines print the service's answers, signed download URLs
// (`?sig=…`) among them, and a line may carry a token. Everything the server process writes to
// stdout or stderr passes through here first.

interface Redactor {
  /** Adds a value to blank out wherever it appears (the bearer token, the runtime token, …). */
  add(secret: string | undefined): void
  redact(text: string): string
}

export function createRedactor(): Redactor {
  const secrets: string[] = []
  return {
    add(secret) {
      if (secret === undefined || secret.length < 4 || secrets.includes(secret)) return
      secrets.push(secret)
      // Longest first, so a secret that contains another is blanked whole.
      secrets.sort((a, b) => b.length - a.length)
    },
    redact(text) {
      let out = text
      for (const s of secrets) out = out.split(s).join('***')
      return (
        out
          // What @actions/core is asked to mask (the library masks each signature) is a secret.
          .replace(/^::add-mask::.*$/gm, '::add-mask::***')
          // The query of any URL: where signed URLs keep their signature and expiry.
          .replace(/(\b[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^\s?#"'<>\\]*)\?[^\s"'<>\\]*/g, '$1?***')
          // A signature outside a URL (split, escaped or quoted differently).
          .replace(/\bsig=[^&\s"'\\]+/gi, 'sig=***')
          .replace(/\b(Bearer\s+)[^\s"',]+/gi, '$1***')
          // A JSON web token (the runtime token is one), wherever it was not known above.
          .replace(/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, '***')
      )
    }
  }
}

/** Makes every write to `stream` pass through `r` first. */
export function redactStream(stream: NodeJS.WriteStream, r: Redactor): void {
  const write = stream.write.bind(stream) as (chunk: string, ...rest: unknown[]) => boolean
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    const encoding = typeof rest[0] === 'string' ? (rest[0] as BufferEncoding) : undefined
    const text = typeof chunk === 'string' ? Buffer.from(chunk, encoding).toString('utf8') : Buffer.from(chunk).toString('utf8')
    // The encoding argument is spent: what is written on is UTF-8 text.
    const args = encoding === undefined ? rest : rest.slice(1)
    return write(r.redact(text), ...args)
  }) as typeof stream.write
}
