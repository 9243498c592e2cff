// GitHub Actions expressions (`${{ … }}`) evaluated offline with GitHub's own evaluator
// (@actions/expressions), for the few questions the audit asks of them: which secret a value
// gives a run of a given kind (setup 1 written inline: `github.ref == 'refs/heads/main' &&
// secrets.RW || secrets.RO`), and what a `working-directory:` built from inputs comes to.
// Secrets evaluate to a marker naming the secret; anything the audit cannot know (needs, steps,
// vars, matrix …) makes the answer "unknown", and callers then assume the worst.

import { Evaluator, Lexer, Parser, data } from '@actions/expressions'

const CONTEXTS = ['github', 'secrets', 'inputs', 'vars', 'env', 'matrix', 'needs', 'steps', 'runner', 'job', 'jobs', 'strategy']
const SECRET_MARK = '\u0001secret:'
/** Contexts whose values a run of a given kind fixes; a reference to any other makes a value unknown. */
const KNOWN = /^(?:github|secrets)$/

export interface RunKind {
  event: string
  ref: string
  /** `github.base_ref` / `github.head_ref`: set on pull requests only. */
  baseRef?: string
  headRef?: string
}

type Value = string | boolean | number | null | { [k: string]: Value }

function toData(v: Value): data.ExpressionData {
  if (v === null) return new data.Null()
  if (typeof v === 'string') return new data.StringData(v)
  if (typeof v === 'boolean') return new data.BooleanData(v)
  if (typeof v === 'number') return new data.NumberData(v)
  return new data.Dictionary(...Object.entries(v).map(([key, value]) => ({ key, value: toData(value) })))
}

/** The secret references of a text, in order (`secrets.NAME`, `secrets['NAME']`). */
export function secretNames(text: string): string[] {
  return [...text.matchAll(/\bsecrets(?:\.([A-Za-z0-9_-]+)|\[\s*'([^']+)'\s*\])/g)].map(m => m[1] ?? m[2])
}

/** The `${{ … }}` expressions of a value; null when a `${{` is not closed. */
function expressionsOf(value: string): { start: number; end: number; body: string }[] | null {
  const out: { start: number; end: number; body: string }[] = []
  let i = 0
  for (;;) {
    const start = value.indexOf('${{', i)
    if (start < 0) return out
    const end = value.indexOf('}}', start + 3)
    if (end < 0) return null
    out.push({ start, end: end + 2, body: value.slice(start + 3, end) })
    i = end + 2
  }
}

function evaluate(body: string, context: Record<string, Value>): string | null {
  try {
    const lexed = new Lexer(body).lex()
    const expr = new Parser(lexed.tokens, CONTEXTS, []).parse()
    const result = new Evaluator(expr, toData(context) as data.Dictionary).evaluate()
    return result.coerceString()
  } catch {
    return null
  }
}

function runContext(run: RunKind, secrets: string[], inputs: Record<string, string>): Record<string, Value> {
  const refName = run.ref.replace(/^refs\/(?:heads|tags)\//, '')
  return {
    github: {
      event_name: run.event,
      ref: run.ref,
      ref_name: refName,
      ref_type: run.ref.startsWith('refs/tags/') ? 'tag' : 'branch',
      base_ref: run.baseRef ?? '',
      head_ref: run.headRef ?? '',
      workspace: '.',
      event: {}
    },
    secrets: Object.fromEntries(secrets.map(s => [s, `${SECRET_MARK}${s}`])),
    inputs
  }
}

/** The contexts an expression reads (`needs` of `needs.build.outputs.x`); one linear pass. */
function contextsRead(body: string): string[] {
  const code = body.replace(/'(?:[^']|'')*'/g, "''")
  const out: string[] = []
  for (const m of code.matchAll(/[A-Za-z_][\w-]*/g)) {
    const before = m.index > 0 ? code[m.index - 1] : ''
    if (before === '.' || !CONTEXTS.includes(m[0])) continue
    const next = /\S/.exec(code.slice(m.index + m[0].length, m.index + m[0].length + 64))
    if (next && (next[0] === '.' || next[0] === '[')) out.push(m[0])
  }
  return out
}

type SecretsGiven = { known: true; secrets: string[] } | { known: false }

/**
 * The secrets a value hands a run of this kind: for `${{ cond && secrets.A || secrets.B }}`, the
 * one the condition picks. Unknown when the value reads a context a run does not fix (the caller
 * then assumes every secret it names).
 */
export function secretsFor(value: string, run: RunKind): SecretsGiven {
  const exprs = expressionsOf(value)
  if (exprs === null) return { known: false }
  const names = secretNames(value)
  const out: string[] = []
  for (const e of exprs) {
    if (secretNames(e.body).length === 0) continue
    if (contextsRead(e.body).some(r => !KNOWN.test(r))) return { known: false }
    const result = evaluate(e.body, runContext(run, names, {}))
    if (result === null) return { known: false }
    for (const part of result.split(SECRET_MARK).slice(1)) {
      const name = /^[A-Za-z0-9_-]+/.exec(part)
      if (name) out.push(name[0])
    }
  }
  return { known: true, secrets: out }
}

/** A text with its expressions evaluated against `inputs` (and github.workspace = '.'); null when one cannot be. */
export function interpolate(value: string, inputs: Record<string, string>): string | null {
  const exprs = expressionsOf(value)
  if (exprs === null) return null
  if (exprs.length === 0) return value
  let out = ''
  let at = 0
  for (const e of exprs) {
    const v = evaluate(e.body, runContext({ event: 'push', ref: 'refs/heads/main' }, [], inputs))
    if (v === null) return null
    out += value.slice(at, e.start) + v
    at = e.end
  }
  return out + value.slice(at)
}

/** The github context's fields a run of a given kind fixes; any other makes a condition unknown. */
const KNOWN_GITHUB = new Set(['event_name', 'ref', 'ref_name', 'ref_type', 'base_ref', 'head_ref'])

/**
 * A job's `if:` for a run of this kind: true or false when it reads only what the kind fixes
 * (github.event_name, github.ref …), null when it cannot be known (other contexts, status
 * functions, github.repository …), and then the caller assumes the run reaches the job.
 */
export function condition(expr: string, run: RunKind): boolean | null {
  let body = expr.trim()
  if (body === '') return true
  const wrapped = /^\$\{\{([\s\S]*)\}\}$/.exec(body)
  if (wrapped) body = wrapped[1]
  else if (body.includes('${{')) return null
  const code = body.replace(/'(?:[^']|'')*'/g, "''")
  if (contextsRead(body).some(c => c !== 'github')) return null
  if (/\b[A-Za-z_]\w*\s*\(/.test(code.replace(/\b(?:contains|startsWith|endsWith|format|join|fromJSON|toJSON)\s*\(/g, ''))) return null
  for (const m of code.matchAll(/\bgithub\s*(?:\.\s*([A-Za-z_][\w-]*)|\[)/g)) if (!m[1] || !KNOWN_GITHUB.has(m[1])) return null
  try {
    const lexed = new Lexer(body).lex()
    const parsed = new Parser(lexed.tokens, CONTEXTS, []).parse()
    const result = new Evaluator(parsed, toData(runContext(run, [], {})) as data.Dictionary).evaluate()
    if (result instanceof data.BooleanData) return result.value
    if (result instanceof data.Null) return false
    if (result instanceof data.NumberData) return result.value !== 0 && !Number.isNaN(result.value)
    if (result instanceof data.StringData) return result.value !== ''
    return true
  } catch {
    return null
  }
}
