// nx.json, read as Nx reads it (JSONC: comments and trailing commas), in both layouts:
// Nx ≥ 17's top-level `nxCloud*` keys and the older `tasksRunnerOptions.default.options`,
// which Nx prefers when both are present. A missing nx.json is not an error; a malformed one is.

import { jsoncParser } from './lazy-packages.js'
import { type CommittedNxToken, type NxConfig, type TokenLevel, PolicyError } from './types.js'

export const NO_NX_JSON: NxConfig = { path: null, accessToken: '', encryptionKey: '', url: '', cloudId: '', neverConnectToCloud: false }

const NX_JSON_ACCEPTED = 'Accepted: a JSON object, comments and trailing commas allowed, as Nx reads it.'

/**
 * An nx.json that does not parse. The action's message names its input ('working-directory');
 * `plain` says the same of the file alone, for the command line, which has flags, not inputs.
 */
export class MalformedNxJson extends PolicyError {
  readonly plain: string
  constructor(path: string, where: string) {
    super(`Input 'working-directory' points at a malformed ${path}${where}. ${NX_JSON_ACCEPTED}`)
    this.plain = `${path} is malformed${where}. ${NX_JSON_ACCEPTED}`
  }
}

/** jsonc-parser's error codes in words (`CommaExpected` → `a comma is missing`). */
const PARSE_ERRORS: Record<string, string> = {
  InvalidSymbol: 'an unexpected character',
  InvalidNumberFormat: 'a malformed number',
  PropertyNameExpected: 'a property name is missing',
  ValueExpected: 'a value is missing',
  ColonExpected: 'a colon is missing',
  CommaExpected: 'a comma is missing',
  CloseBraceExpected: 'a closing } is missing',
  CloseBracketExpected: 'a closing ] is missing',
  EndOfFileExpected: 'text after the end of the object',
  InvalidCommentToken: 'a malformed comment',
  UnexpectedEndOfComment: 'a comment that never ends',
  UnexpectedEndOfString: 'a string that never ends',
  UnexpectedEndOfNumber: 'a number that ends too soon',
  InvalidUnicode: 'a malformed \\u escape',
  InvalidEscapeCharacter: 'a malformed escape (\\)',
  InvalidCharacter: 'a control character in a string'
}

/* eslint-disable @typescript-eslint/no-explicit-any */
/** nx.json (or the file its `extends` names) as a JSON object, read as Nx reads it; malformed ones throw. */
export function readNxJsonObject(text: string, path = 'nx.json'): Record<string, unknown> {
  const malformed = (where: string): PolicyError => new MalformedNxJson(path, where)
  // Nested deeper than any nx.json needs: refused before a recursive parser (jsonc-parser here,
  // parseTree in audit, Nx's own) can overflow the stack on it.
  const tooDeep = nestingBeyond(text, MAX_NX_JSON_DEPTH)
  if (tooDeep !== null) throw malformed(` (nested deeper than ${MAX_NX_JSON_DEPTH} levels at ${lineCol(text, tooDeep)})`)
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    // Comments, trailing commas, or broken: read it as Nx does.
    const { parse, printParseErrorCode } = jsoncParser()
    const errors: import('jsonc-parser').ParseError[] = []
    json = parse(text, errors, { allowTrailingComma: true, disallowComments: false })
    if (errors.length > 0) {
      const code = printParseErrorCode(errors[0].error)
      throw malformed(` (${PARSE_ERRORS[code] ?? code} at ${lineCol(text, errors[0].offset)})`)
    }
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw malformed('')
  return json as Record<string, unknown>
}

/** What the kit takes from an nx.json object (a merged one included), as Nx's getRunnerOptions takes it. */
export function nxConfigOf(json: Record<string, unknown>, path: string): NxConfig {
  const legacy: any = (json as any).tasksRunnerOptions?.default?.options ?? {}
  const pick = (legacyKey: string, topKey: string): string => {
    const v = legacy[legacyKey] ?? (json as any)[topKey]
    return typeof v === 'string' ? v : ''
  }
  return {
    path,
    accessToken: pick('accessToken', 'nxCloudAccessToken'),
    encryptionKey: pick('encryptionKey', 'nxCloudEncryptionKey'),
    url: pick('url', 'nxCloudUrl'),
    cloudId: typeof json.nxCloudId === 'string' ? json.nxCloudId : '',
    // Nx's isNxCloudDisabled: `process.env.NX_NO_CLOUD === 'true' || nxJson.neverConnectToCloud` (truthy).
    neverConnectToCloud: Boolean(json.neverConnectToCloud),
    committedTokens: committedTokensOf(json, path)
  }
}

export function parseNxJson(text: string, path = 'nx.json'): NxConfig {
  const json = readNxJsonObject(text, path)
  const config = nxConfigOf(json, path)
  return typeof json.extends === 'string' && json.extends !== '' ? { ...config, extends: json.extends } : config
}

/**
 * nx.json merged over the file its `extends` names, as Nx's readNxJson merges them: one level
 * (the base's own `extends` is not followed by Nx, so not here either), top-level keys of nx.json
 * replacing the base's whole. Every token committed in either file is kept for the premises.
 */
export function extendNxJson(
  child: { json: Record<string, unknown>; path: string },
  base: { json: Record<string, unknown>; path: string }
): NxConfig {
  const merged = nxConfigOf({ ...base.json, ...child.json }, child.path)
  return {
    ...merged,
    extends: typeof child.json.extends === 'string' ? child.json.extends : undefined,
    extendsFile: base.path,
    ...(typeof base.json.extends === 'string' && base.json.extends !== '' ? { baseExtends: base.json.extends } : {}),
    committedTokens: [...committedTokensOf(child.json, child.path), ...committedTokensOf(base.json, base.path)]
  }
}

/** Every Nx Cloud access token an nx.json object commits: `nxCloudAccessToken` and each runner's `options.accessToken`. */
export function committedTokensOf(json: Record<string, unknown>, path: string): CommittedNxToken[] {
  const out: CommittedNxToken[] = []
  if (typeof json.nxCloudAccessToken === 'string' && json.nxCloudAccessToken !== '') {
    out.push({ file: path, key: 'nxCloudAccessToken', value: json.nxCloudAccessToken })
  }
  const runners = (json as any).tasksRunnerOptions
  if (runners !== null && typeof runners === 'object') {
    for (const [name, runner] of Object.entries(runners as Record<string, any>)) {
      const v = runner?.options?.accessToken
      if (typeof v === 'string' && v !== '') out.push({ file: path, key: `tasksRunnerOptions.${name}.options.accessToken`, value: v })
    }
  }
  return out
}

/** Deeper than this, nx.json is malformed (real ones nest a handful of levels). */
const MAX_NX_JSON_DEPTH = 256

/**
 * The offset of the first `[` or `{` nested deeper than `max`, outside strings and comments, as
 * jsonc-parser scans them; null when there is none. One pass, no recursion.
 */
function nestingBeyond(text: string, max: number): number | null {
  let depth = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22 /* " */) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i)
        if (d === 0x5c /* \ */) i++
        else if (d === 0x22 || d === 0x0a || d === 0x0d) break
      }
    } else if (c === 0x2f /* / */ && text.charCodeAt(i + 1) === 0x2f) {
      while (i < text.length && text.charCodeAt(i) !== 0x0a && text.charCodeAt(i) !== 0x0d) i++
    } else if (c === 0x2f && text.charCodeAt(i + 1) === 0x2a /* * */) {
      const end = text.indexOf('*/', i + 2)
      i = end === -1 ? text.length : end + 1
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > max) return i
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      if (depth > 0) depth--
    }
  }
  return null
}

/**
 * Legacy Nx Cloud tokens are base64 of `<uuid>|read-write` or `<uuid>|read-only` (`|read` too).
 * Anything else — newer opaque tokens included — is `unknown` and is not judged.
 */
export function tokenLevel(token: string): TokenLevel {
  if (token === '' || !/^[A-Za-z0-9+/=_-]+$/.test(token)) return 'unknown'
  const decoded = Buffer.from(token, 'base64').toString('utf8')
  const m = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\|(read-write|read-only|read)$/i.exec(decoded)
  if (!m) return 'unknown'
  return m[1].toLowerCase() === 'read-write' ? 'read-write' : 'read-only'
}

function lineCol(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n')
  return `line ${before.length}, column ${before[before.length - 1].length + 1}`
}
