// A workflow file → the parts the audit judges, each with the line of its key. Read with js-yaml's
// event parser into a small tree of our own, as GitHub reads it: anchors, aliases and merge keys
// resolve to the node they name, so a key in an anchored block keeps the position of the anchor —
// where a fix must be made. (The event parser and this tree take half the time `yaml`'s documents
// took, in a cold process that reads hundreds of workflows: see scripts/bench-audit.mjs.)

import {
  EVENT_ID,
  type ScalarEvent,
  SCALAR_STYLE,
  boolCoreTag,
  floatCoreTag,
  getScalarValue,
  intCoreTag,
  NOT_RESOLVED,
  nullCoreTag,
  parseEvents,
  YAMLException
} from 'js-yaml'

export interface Loc {
  file: string
  line: number
  /** Offset of the key in its file: the identity of a key however many aliases reach it. */
  offset: number
}

export interface Entry {
  name: string
  value: string
  loc: Loc
}

export interface Step {
  name: string
  uses: string
  usesLoc: Loc | null
  run: string
  /** Its inputs by name in lower case (GitHub matches an input's name whatever its case). */
  with: Map<string, Entry>
  env: Entry[]
  /** The step's own `working-directory:` ('' when none). */
  workingDirectory?: string
  /** Its `if:` ('' when none). */
  if?: string
  /** Nx Cloud token variables its run: writes to $GITHUB_ENV: the steps after it in the job get them. */
  githubEnv?: Entry[]
  /** Where the step starts (its first key; an aliased step: its anchor). */
  loc?: Loc
}

export interface Job {
  id: string
  name: string
  loc: Loc
  env: Entry[]
  steps: Step[]
  /** `environment:` is set. */
  environment: boolean
  /** The environment's name as written (`environment: x` or `environment: {name: x}`), '' when none. */
  environmentName?: string
  /** Jobs this job waits for (`needs:`). */
  needs?: string[]
  /** `defaults.run.working-directory` of the job, else of the workflow ('' when none). */
  workingDirectory?: string
  /** The `with:` a job that calls a reusable workflow passes. */
  with?: Map<string, Entry>
  /** A reusable workflow this job calls. */
  uses: string
  /** Its `if:` ('' when none). */
  if?: string
  secretsInherit: Loc | null
  secrets: Entry[]
}

/** One trigger of `on:` with the filters that decide which refs it runs on. */
export interface Trigger {
  event: string
  branches: string[] | null
  branchesIgnore: string[] | null
  tags: string[] | null
}

export interface Workflow {
  file: string
  triggers: string[]
  /** The triggers with their branch and tag filters (`on.push.branches`, …). */
  on?: Trigger[]
  env: Entry[]
  jobs: Job[]
  /**
   * Why the file cannot be judged: its first YAML error, or (`file`) why it was not read at all
   * (a symlink, not a regular file, too large), or (`tooLarge`) that its aliases expand to more
   * than MAX_STEPS steps.
   */
  error: { line: number; message: string; file?: true; tooLarge?: true } | null
}

export function unreadableWorkflow(file: string, reason: string): Workflow {
  return { file, triggers: [], env: [], jobs: [], error: { line: 1, message: reason, file: true } }
}

/** A node of the tree a workflow is read into; an alias is the node it names. */
type YNode = YScalar | YMap | YSeq

interface YScalar {
  kind: 'scalar'
  offset: number
  /** As the YAML 1.2 core schema reads it: a plain `null`, `~` or nothing is '', a plain number or boolean its canonical form. */
  text: string
  /** A plain `<<`: a merge key (YAML 1.1's `!!merge`, as GitHub and `yaml` read it); a quoted one is a key like any other. */
  merge?: true
}

interface YMap {
  kind: 'map'
  /** Where its first key starts. */
  offset: number
  pairs: { key: YNode; value: YNode }[]
}

interface YSeq {
  kind: 'seq'
  offset: number
  items: YNode[]
}

class YamlError extends Error {
  constructor(
    readonly reason: string,
    readonly offset: number,
    /** Valid YAML, but more than the audit reads (MAX_STEPS). */
    readonly tooLarge = false
  ) {
    super(reason)
  }
}

/** The core-schema tags a plain scalar may resolve to (YAML 1.2). */
const PLAIN_TAGS = [nullCoreTag, boolCoreTag, intCoreTag, floatCoreTag]

/**
 * GitHub's template reader reads a scalar that is one expression of a string literal alone,
 * `${{ 'NX_CLOUD_ACCESS_TOKEN' }}`, as that string, key or value, in any style: so must the audit,
 * or such a key hides a token. The expression ends at the first `}}` outside a quoted string; the
 * literal is quoted strings only (`''` inside one is a quote), as in its IsExpressionString.
 */
function literalExpression(raw: string): string | null {
  let end = -1
  let quoted = false
  for (let i = 3; i < raw.length; i++) {
    if (raw[i] === "'") quoted = !quoted
    else if (!quoted && raw[i] === '}' && raw[i - 1] === '}') {
      end = i
      break
    }
  }
  if (end !== raw.length - 1) return null
  const body = raw.slice(3, end - 1).trim()
  if (body === '' || body[0] !== "'") return null
  let out = ''
  quoted = false
  for (let i = 0; i < body.length; i++) {
    const c = body[i]
    if (c === "'") {
      quoted = !quoted
      if (quoted && i !== 0) out += c
    } else if (!quoted) return null
    else out += c
  }
  return quoted ? null : out
}

function scalarText(source: string, e: ScalarEvent): string {
  const raw = getScalarValue(source, e)
  if (raw.startsWith('${{')) {
    const literal = literalExpression(raw)
    if (literal !== null) return literal
  }
  if (e.style !== SCALAR_STYLE.PLAIN || e.tagStart !== -1) return raw
  for (const tag of PLAIN_TAGS) {
    const value = tag.resolve(raw, false, tag.tagName)
    if (value !== NOT_RESOLVED) return value === null ? '' : String(value)
  }
  return raw
}

/**
 * The one document of a YAML file as a tree. An alias names the closest anchor of that name before
 * it (YAML 1.2, 7.1): the latest one seen, as events come in document order.
 */
function parseTree(source: string): YNode | null {
  const anchors = new Map<string, YNode>()
  const stack: { node: YMap | YSeq; key: YNode | null }[] = []
  let root: YNode | null = null
  let documents = 0
  let at = 0
  const add = (node: YNode): void => {
    const top = stack[stack.length - 1]
    if (!top) root = node
    else if (top.node.kind === 'seq') top.node.items.push(node)
    else if (top.key === null) top.key = node
    else {
      top.node.pairs.push({ key: top.key, value: node })
      top.key = null
    }
  }
  const anchor = (e: { anchorStart: number; anchorEnd: number }, node: YNode): void => {
    if (e.anchorStart !== -1) anchors.set(source.slice(e.anchorStart, e.anchorEnd), node)
  }
  for (const e of parseEvents(source, { maxDepth: 64 })) {
    if (documents > 1) {
      const start = e.type === EVENT_ID.SCALAR ? e.valueStart : e.type === EVENT_ID.ALIAS ? e.anchorStart : 'start' in e ? e.start : at
      throw new YamlError('more than one YAML document in the file (a workflow is one document)', start)
    }
    if (e.type === EVENT_ID.DOCUMENT) {
      documents++
    } else if (e.type === EVENT_ID.MAPPING || e.type === EVENT_ID.SEQUENCE) {
      const node: YMap | YSeq =
        e.type === EVENT_ID.MAPPING ? { kind: 'map', offset: e.start, pairs: [] } : { kind: 'seq', offset: e.start, items: [] }
      at = e.start
      anchor(e, node)
      add(node)
      stack.push({ node, key: null })
    } else if (e.type === EVENT_ID.SCALAR) {
      const node: YScalar = { kind: 'scalar', offset: e.valueStart, text: scalarText(source, e) }
      if (node.text === '<<' && e.style === SCALAR_STYLE.PLAIN && e.tagStart === -1 && e.valueEnd - e.valueStart === 2) node.merge = true
      at = e.valueStart
      anchor(e, node)
      add(node)
    } else if (e.type === EVENT_ID.ALIAS) {
      const name = source.slice(e.anchorStart, e.anchorEnd)
      const node = anchors.get(name)
      if (!node) throw new YamlError(`the alias *${name} names no anchor before it`, e.anchorStart)
      add(node)
    } else if (e.type === EVENT_ID.POP) {
      stack.pop()
    }
  }
  return root
}

interface Reader {
  file: string
  source: string
  /** Where each line starts, built when a line is first asked for. */
  lineStarts: number[] | null
  /** Steps read so far: aliased `parallel:` groups nested in each other would otherwise multiply without end. */
  steps: number
  /** Keys and list items read so far (env:, with:, secrets:, needs:, branches: …): an aliased map used in every step multiplies too. */
  entries: number
}

/** The most steps one file may hold once its aliases are expanded; past it the file is unreadable. */
export const MAX_STEPS = 10_000

/**
 * The most keys and list items (of env:, with:, secrets:, needs:, on:) one file may hold once its
 * aliases are expanded: a map of 50,000 keys aliased into 10,000 steps is 5 * 10^8 entries, which
 * ran the audit out of memory. Real workflows hold a few thousand.
 */
export const MAX_ENTRIES = 100_000

/** Counts what a file expands to; past MAX_ENTRIES the file is unreadable (too large). */
function expand(r: Reader, n: number, offset: number): void {
  r.entries += n
  if (r.entries > MAX_ENTRIES)
    throw new YamlError(
      `more than ${MAX_ENTRIES} keys and list items once its aliases are expanded (an aliased map or list used in many places)`,
      offset,
      true
    )
}

function lineOf(r: Reader, offset: number): number {
  if (!r.lineStarts) {
    const starts = [0]
    if (r.source.includes('\r')) {
      // A lone CR ends a line too (YAML 1.2, 5.4), as the parser reads it: else every key of a file
      // saved with CR line ends is on line 1.
      for (const m of r.source.matchAll(/\r\n?|\n/g)) starts.push(m.index + m[0].length)
    } else for (let i = r.source.indexOf('\n'); i !== -1; i = r.source.indexOf('\n', i + 1)) starts.push(i + 1)
    r.lineStarts = starts
  }
  const starts = r.lineStarts
  let lo = 0
  let hi = starts.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (starts[mid] <= offset) lo = mid
    else hi = mid - 1
  }
  return lo + 1
}

/**
 * GitHub's reader accepts a flow collection whose closing `]` or `}` sits at (or left of) the
 * indentation of its key, as many workflows write it; js-yaml, following the spec to the letter,
 * refuses it ("deficient indentation"). Such a closer is moved right with spaces, which changes no
 * line and no meaning (inside a flow collection indentation does not count), and nothing else.
 */
export function flowClosersIndented(source: string): string {
  if (!/^[ \t]*[\]}]/m.test(source)) return source
  let depth = 0
  let out = ''
  let quote: string | null = null
  let comment = false
  let lineStart = true
  for (let i = 0; i < source.length; i++) {
    const c = source[i]
    if (c === '\n' || c === '\r') {
      comment = false
      lineStart = true
      out += c
      continue
    }
    if (lineStart && depth > 0 && quote === null && (c === ']' || c === '}')) out += ' '.repeat(64)
    if (c !== ' ' && c !== '\t') lineStart = false
    out += c
    if (comment) continue
    if (quote !== null) {
      if (c === quote && !(quote === '"' && source[i - 1] === '\\')) quote = null
      continue
    }
    if (c === '#' && (i === 0 || /\s/.test(source[i - 1]))) comment = true
    else if ((c === '"' || c === "'") && depth > 0) quote = c
    else if ((c === '[' || c === '{') && (depth > 0 || /[:\-,\s[{]\s*$|^\s*$/.test(source.slice(Math.max(0, i - 2), i)))) depth++
    else if ((c === ']' || c === '}') && depth > 0) depth--
  }
  return out
}

/**
 * A YAML file read into what `build` makes of its tree, or, when the file is not valid YAML, holds
 * more than one document or expands past MAX_STEPS, what `unreadable` makes of its first error.
 */
function readYaml<T>(
  file: string,
  source: string,
  build: (r: Reader, root: YNode | null) => T,
  unreadable: (error: { line: number; message: string; tooLarge?: true }) => T
): T {
  // The text read, with flow closers moved right: the same lines, so line numbers hold.
  const text = flowClosersIndented(source)
  const r: Reader = { file, source: text, lineStarts: null, steps: 0, entries: 0 }
  try {
    return build(r, parseTree(text))
  } catch (e) {
    if (e instanceof YamlError)
      return unreadable({ line: lineOf(r, e.offset), message: e.reason, ...(e.tooLarge ? { tooLarge: true } : {}) })
    if (e instanceof YAMLException) return unreadable({ line: (e.mark?.line ?? 0) + 1, message: e.reason })
    throw e
  }
}

function isMap(n: YNode | null | undefined): n is YMap {
  return n?.kind === 'map'
}

function isSeq(n: YNode | null | undefined): n is YSeq {
  return n?.kind === 'seq'
}

function loc(r: Reader, node: YNode | null | undefined): Loc {
  const offset = node?.offset ?? 0
  return { file: r.file, line: lineOf(r, offset), offset }
}

interface Item {
  key: string
  keyNode: YNode
  value: YNode | null
}

const itemCache = new WeakMap<YMap, Item[]>()

/** A map's entries, merge keys (`<<: *anchor`) expanded; explicit keys win over merged ones. */
function items(node: YNode | null | undefined, depth = 0): Item[] {
  if (!isMap(node) || depth > 16) return []
  const cached = itemCache.get(node)
  if (cached) return cached
  const result = collectItems(node, depth)
  itemCache.set(node, result)
  return result
}

function collectItems(map: YMap, depth: number): Item[] {
  const own: Item[] = []
  // Merged keys by name, the first source's winning (YAML merge keys): a key merged in by many
  // aliases (a hostile `<<: [*a, *a, …]` at every level) is one item, not one per path to it.
  let merged: Map<string, Item> | null = null
  for (const { key: k, value } of map.pairs) {
    const key = k.kind === 'scalar' ? k.text : ''
    if (k.kind === 'scalar' && k.merge) {
      merged ??= new Map()
      for (const s of isSeq(value) ? value.items : [value]) {
        for (const i of items(s, depth + 1)) if (!merged.has(i.key)) merged.set(i.key, i)
      }
      continue
    }
    own.push({ key, keyNode: k, value })
  }
  if (merged === null) return own
  const names = new Set(own.map(i => i.key))
  return [...own, ...[...merged.values()].filter(i => !names.has(i.key))]
}

function get(node: YNode | null | undefined, key: string): YNode | null | undefined {
  return items(node).find(i => i.key === key)?.value
}

function has(node: YNode | null | undefined, key: string): Item | undefined {
  return items(node).find(i => i.key === key)
}

function text(node: YNode | null | undefined): string {
  return node?.kind === 'scalar' ? node.text : ''
}

function entries(r: Reader, node: YNode | null | undefined): Entry[] {
  const list = items(node)
  if (list.length > 0) expand(r, list.length, (node as YNode).offset)
  return list.map(i => ({ name: i.key, value: text(i.value), loc: loc(r, i.keyNode) }))
}

/** A list's texts (needs:, branches:, on: [a, b]), counted against MAX_ENTRIES. */
function texts(r: Reader, node: YSeq): string[] {
  expand(r, node.items.length, node.offset)
  return node.items.map(text)
}

function triggers(r: Reader, node: YNode | null | undefined): string[] {
  if (node?.kind === 'scalar') return [node.text]
  if (isSeq(node)) return texts(r, node)
  return items(node).map(i => i.key)
}

export function readWorkflow(file: string, source: string): Workflow {
  return readYaml(
    file,
    source,
    (r, root) => workflowOf(r, root),
    error => ({ file, triggers: [], env: [], jobs: [], error })
  )
}

function workflowOf(r: Reader, root: YNode | null): Workflow {
  const on = has(root, 'on')
  const jobs: Job[] = []
  for (const j of items(get(root, 'jobs'))) {
    const secrets = has(j.value, 'secrets')
    const inherit = secrets !== undefined && text(secrets.value) === 'inherit'
    const env = has(j.value, 'environment')
    const needs = get(j.value, 'needs')
    const jobWith = new Map<string, Entry>()
    for (const e of entries(r, get(j.value, 'with'))) jobWith.set(e.name, e)
    jobs.push({
      id: j.key,
      name: text(get(j.value, 'name')),
      loc: loc(r, j.keyNode),
      // A job container's env: is the job's environment too (its steps run inside it).
      env: [...entries(r, get(j.value, 'env')), ...entries(r, get(get(j.value, 'container'), 'env'))],
      steps: readSteps(r, get(j.value, 'steps')),
      if: text(get(j.value, 'if')),
      environment: env !== undefined && (isMap(env.value) || text(env.value) !== ''),
      uses: text(get(j.value, 'uses')),
      secretsInherit: inherit && secrets ? loc(r, secrets.keyNode) : null,
      secrets: inherit || !secrets ? [] : entries(r, secrets.value),
      environmentName: isMap(env?.value) ? text(get(env.value, 'name')) : text(env?.value),
      needs: isSeq(needs) ? texts(r, needs) : [text(needs)].filter(n => n !== ''),
      workingDirectory: runDirectory(j.value) || runDirectory(root),
      with: jobWith
    })
  }
  return {
    file: r.file,
    triggers: on ? triggers(r, on.value) : [],
    on: on ? triggerSpecs(r, on.value) : [],
    env: entries(r, get(root, 'env')),
    jobs,
    error: null
  }
}

function runDirectory(node: YNode | null | undefined): string {
  return text(get(get(get(node, 'defaults'), 'run'), 'working-directory'))
}

function list(r: Reader, node: YNode | null | undefined): string[] | null {
  if (node === null || node === undefined) return null
  if (isSeq(node)) return texts(r, node)
  return [text(node)]
}

function triggerSpecs(r: Reader, node: YNode | null | undefined): Trigger[] {
  const bare = (event: string): Trigger => ({ event, branches: null, branchesIgnore: null, tags: null })
  if (node?.kind === 'scalar') return [bare(node.text)]
  if (isSeq(node)) return texts(r, node).map(bare)
  return items(node).map(i => {
    const field = (k: string): string[] | null => {
      const f = has(i.value, k)
      return f ? list(r, f.value) : null
    }
    return { event: i.key, branches: field('branches'), branchesIgnore: field('branches-ignore'), tags: field('tags') }
  })
}

/**
 * A `steps:` list as the runner runs it: the steps of a `parallel:` group are read in place
 * (they run side by side, in the same job environment, after the steps before the group).
 */
function readSteps(r: Reader, node: YNode | null | undefined, depth = 0): Step[] {
  const steps: Step[] = []
  if (!isSeq(node) || depth > 8) return steps
  for (const s of node.items) {
    // A `parallel:` group, and a `background:` group, run their steps in the same job environment.
    const group = has(s, 'parallel') ?? (isSeq(get(s, 'background')) ? has(s, 'background') : undefined)
    if (group) {
      steps.push(...readSteps(r, group.value, depth + 1))
      continue
    }
    if (++r.steps > MAX_STEPS)
      throw new YamlError(
        `more than ${MAX_STEPS} steps once its aliases are expanded (aliased parallel: groups in each other)`,
        s.offset,
        true
      )
    const uses = has(s, 'uses')
    const withMap = new Map<string, Entry>()
    // By name in lower case: GitHub matches inputs whatever their case (`Setup:`, `PUSH:`), and so the audit.
    for (const e of entries(r, get(s, 'with'))) if (!withMap.has(e.name.toLowerCase())) withMap.set(e.name.toLowerCase(), e)
    steps.push({
      loc: loc(r, s),
      name: text(get(s, 'name')),
      uses: text(uses?.value),
      usesLoc: uses ? loc(r, uses.keyNode) : null,
      run: text(get(s, 'run')),
      with: withMap,
      env: [...entries(r, get(s, 'env')), ...inlineTokens(r, get(s, 'run'), 'inline')],
      githubEnv: inlineTokens(r, get(s, 'run'), 'github-env'),
      workingDirectory: text(get(s, 'working-directory')),
      if: text(get(s, 'if'))
    })
  }
  return steps
}

const TOKEN_NAMES =
  /\b(NX_CLOUD_ACCESS_TOKEN|NX_CLOUD_AUTH_TOKEN|NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN)=(\$\{\{[^}\n]*\}\}|"[^"\n]*"|'[^'\n]*'|[^\s;&|>]*)/g

/**
 * Token variables a run: script sets itself: inline before a command (`NX_CLOUD_ACCESS_TOKEN=${{
 * secrets.X }} npx nx build`, or exported), or written to $GITHUB_ENV for the steps after it
 * (`echo "NX_CLOUD_ACCESS_TOKEN=…" >> $GITHUB_ENV`). Each at the line it is set on.
 */
function inlineTokens(r: Reader, node: YNode | null | undefined, kind: 'inline' | 'github-env'): Entry[] {
  if (node?.kind !== 'scalar' || !/NX_(?:CLOUD|SELF_HOSTED)/.test(node.text)) return []
  const out: Entry[] = []
  const startLine = lineOf(r, node.offset)
  const lines = node.text.split('\n')
  // A block scalar (run: |) starts on the line after its key.
  const first = r.source.slice(node.offset, node.offset + 1) === '|' || r.source.slice(node.offset, node.offset + 1) === '>' ? 1 : 0
  lines.forEach((l, i) => {
    const toEnv = /GITHUB_ENV/.test(l)
    if ((kind === 'github-env') !== toEnv) return
    for (const m of l.matchAll(TOKEN_NAMES)) {
      const value = m[2].replace(/^["']|["']$/g, '')
      if (value.trim() === '' || (value.startsWith('$') && !value.startsWith('${{'))) continue
      const line = startLine + i + first
      out.push({ name: m[1], value, loc: { file: r.file, line, offset: node.offset + i } })
    }
  })
  return out
}

/** A local composite action (`.github/actions/x/action.yml`): its steps, read as a job's are. */
export interface Action {
  file: string
  steps: Step[]
  error: { line: number; message: string } | null
}

export function readAction(file: string, source: string): Action {
  return readYaml<Action>(
    file,
    source,
    (r, root) => ({ file, steps: readSteps(r, get(get(root, 'runs'), 'steps')), error: null }),
    error => ({ file, steps: [], error })
  )
}
