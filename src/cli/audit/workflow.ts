// A workflow file → the parts the audit judges, each with the line of its key. Read with `yaml`
// as GitHub reads it: anchors, aliases and merge keys resolve to the node they name, so a key in
// an anchored block keeps the position of the anchor — where a fix must be made.

import { LineCounter, type Document, type Node, type YAMLMap, isAlias, isMap, isNode, isScalar, isSeq, parseDocument, visit } from 'yaml'

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
  with: Map<string, Entry>
  env: Entry[]
  /** The step's own `working-directory:` ('' when none). */
  workingDirectory?: string
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
   * (a symlink, not a regular file, too large).
   */
  error: { line: number; message: string; file?: true } | null
}

export function unreadableWorkflow(file: string, reason: string): Workflow {
  return { file, triggers: [], env: [], jobs: [], error: { line: 1, message: reason, file: true } }
}

interface Reader {
  lc: LineCounter
  file: string
  /** Anchored nodes by name, in document order: built once, as Alias.resolve() walks the whole document per call. */
  anchors: Map<string, { offset: number; node: Node }[]>
}

function anchorIndex(doc: Document): Reader['anchors'] {
  const anchors: Reader['anchors'] = new Map()
  visit(doc, (_key, node) => {
    if (isNode(node) && !isAlias(node) && node.anchor) {
      const list = anchors.get(node.anchor) ?? []
      list.push({ offset: node.range?.[0] ?? 0, node })
      anchors.set(node.anchor, list)
    }
  })
  return anchors
}

/** An alias names the closest anchor of that name before it (YAML 1.2, 7.1). */
function deref(r: Reader, node: unknown): unknown {
  let n = node
  for (let i = 0; i < 64 && isAlias(n); i++) {
    const at = n.range?.[0] ?? 0
    const candidates = r.anchors.get(n.source) ?? []
    let found: Node | undefined
    for (const c of candidates) if (c.offset < at) found = c.node
    if (!found) return null
    n = found
  }
  return n
}

function loc(r: Reader, node: unknown): Loc {
  const offset = ((node as Node | null)?.range?.[0] ?? 0) as number
  return { file: r.file, line: r.lc.linePos(offset).line, offset }
}

interface Item {
  key: string
  keyNode: unknown
  value: unknown
}

const itemCache = new WeakMap<object, Item[]>()

/** A map's entries, merge keys (`<<: *anchor`) expanded; explicit keys win over merged ones. */
function items(r: Reader, node: unknown, depth = 0): Item[] {
  const map = deref(r, node)
  if (!isMap(map) || depth > 16) return []
  const cached = itemCache.get(map)
  if (cached) return cached
  const result = collectItems(r, map, depth)
  itemCache.set(map, result)
  return result
}

function collectItems(r: Reader, map: YAMLMap, depth: number): Item[] {
  const own: Item[] = []
  const merged: Item[] = []
  for (const pair of map.items) {
    const k = pair.key
    if (isScalar(k) && (typeof k.value === 'symbol' || k.value === '<<')) {
      const src = deref(r, pair.value)
      const sources = isSeq(src) ? src.items : [src]
      for (const s of sources) merged.push(...items(r, s, depth + 1))
      continue
    }
    const key = isScalar(k) ? String(k.value) : String(k)
    own.push({ key, keyNode: k, value: pair.value })
  }
  const names = new Set(own.map(i => i.key))
  return [...own, ...merged.filter(i => !names.has(i.key))]
}

function get(r: Reader, node: unknown, key: string): Item | undefined {
  return items(r, node).find(i => i.key === key)
}

function text(r: Reader, node: unknown): string {
  const n = deref(r, node)
  if (isScalar(n)) return n.value === null || n.value === undefined ? '' : String(n.value)
  return ''
}

function entries(r: Reader, node: unknown): Entry[] {
  return items(r, node).map(i => ({ name: i.key, value: text(r, i.value), loc: loc(r, i.keyNode) }))
}

function triggers(r: Reader, node: unknown): string[] {
  const n = deref(r, node)
  if (isScalar(n)) return [String(n.value)]
  if (isSeq(n)) return n.items.map(i => text(r, i))
  return items(r, n).map(i => i.key)
}

export function readWorkflow(file: string, source: string): Workflow {
  const lc = new LineCounter()
  const doc = parseDocument(source, { lineCounter: lc, merge: true, uniqueKeys: false, prettyErrors: false })
  if (doc.errors.length > 0) {
    const e = doc.errors[0]
    return { file, triggers: [], env: [], jobs: [], error: { line: lc.linePos(e.pos[0]).line, message: e.message.split('\n')[0] } }
  }
  const r: Reader = { lc, file, anchors: anchorIndex(doc) }
  const root = doc.contents
  const on = get(r, root, 'on')
  const jobs: Job[] = []
  for (const j of items(r, get(r, root, 'jobs')?.value)) {
    const steps = readSteps(r, get(r, j.value, 'steps')?.value)
    const secrets = get(r, j.value, 'secrets')
    const inherit = secrets !== undefined && text(r, secrets.value) === 'inherit'
    const uses = get(r, j.value, 'uses')
    const env = get(r, j.value, 'environment')
    const envNode = env ? deref(r, env.value) : null
    const needs = deref(r, get(r, j.value, 'needs')?.value)
    const jobWith = new Map<string, Entry>()
    for (const e of entries(r, get(r, j.value, 'with')?.value)) jobWith.set(e.name, e)
    jobs.push({
      id: j.key,
      name: text(r, get(r, j.value, 'name')?.value),
      loc: loc(r, j.keyNode),
      env: entries(r, get(r, j.value, 'env')?.value),
      steps,
      environment: env !== undefined && (isMap(deref(r, env.value)) || text(r, env.value) !== ''),
      uses: text(r, uses?.value),
      secretsInherit: inherit && secrets ? loc(r, secrets.keyNode) : null,
      secrets: inherit || !secrets ? [] : entries(r, secrets.value),
      environmentName: isMap(envNode) ? text(r, get(r, envNode, 'name')?.value) : env ? text(r, env.value) : '',
      needs: isSeq(needs) ? needs.items.map(i => text(r, i)) : needs ? [text(r, needs)].filter(n => n !== '') : [],
      workingDirectory: runDirectory(r, j.value) || runDirectory(r, root),
      with: jobWith
    })
  }
  return {
    file,
    triggers: on ? triggers(r, on.value) : [],
    on: on ? triggerSpecs(r, on.value) : [],
    env: entries(r, get(r, root, 'env')?.value),
    jobs,
    error: null
  }
}

function runDirectory(r: Reader, node: unknown): string {
  return text(r, get(r, get(r, get(r, node, 'defaults')?.value, 'run')?.value, 'working-directory')?.value)
}

function list(r: Reader, node: unknown): string[] | null {
  const n = deref(r, node)
  if (n === null || n === undefined) return null
  if (isSeq(n)) return n.items.map(i => text(r, i))
  return [text(r, n)]
}

function triggerSpecs(r: Reader, node: unknown): Trigger[] {
  const n = deref(r, node)
  const bare = (event: string): Trigger => ({ event, branches: null, branchesIgnore: null, tags: null })
  if (isScalar(n)) return [bare(String(n.value))]
  if (isSeq(n)) return n.items.map(i => bare(text(r, i)))
  return items(r, n).map(i => {
    const field = (k: string): string[] | null => {
      const f = get(r, i.value, k)
      return f ? list(r, f.value) : null
    }
    return { event: i.key, branches: field('branches'), branchesIgnore: field('branches-ignore'), tags: field('tags') }
  })
}

/**
 * A `steps:` list as the runner runs it: the steps of a `parallel:` group are read in place
 * (they run side by side, in the same job environment, after the steps before the group).
 */
function readSteps(r: Reader, node: unknown, depth = 0): Step[] {
  const steps: Step[] = []
  const seq = deref(r, node)
  if (!isSeq(seq) || depth > 8) return steps
  for (const s of seq.items) {
    const group = get(r, s, 'parallel')
    if (group) {
      steps.push(...readSteps(r, group.value, depth + 1))
      continue
    }
    const uses = get(r, s, 'uses')
    const withMap = new Map<string, Entry>()
    for (const e of entries(r, get(r, s, 'with')?.value)) withMap.set(e.name, e)
    steps.push({
      loc: loc(r, deref(r, s)),
      name: text(r, get(r, s, 'name')?.value),
      uses: text(r, uses?.value),
      usesLoc: uses ? loc(r, uses.keyNode) : null,
      run: text(r, get(r, s, 'run')?.value),
      with: withMap,
      env: entries(r, get(r, s, 'env')?.value),
      workingDirectory: text(r, get(r, s, 'working-directory')?.value)
    })
  }
  return steps
}

/** A local composite action (`.github/actions/x/action.yml`): its steps, read as a job's are. */
export interface Action {
  file: string
  steps: Step[]
  error: { line: number; message: string } | null
}

export function readAction(file: string, source: string): Action {
  const lc = new LineCounter()
  const doc = parseDocument(source, { lineCounter: lc, merge: true, uniqueKeys: false, prettyErrors: false })
  if (doc.errors.length > 0) {
    const e = doc.errors[0]
    return { file, steps: [], error: { line: lc.linePos(e.pos[0]).line, message: e.message.split('\n')[0] } }
  }
  const r: Reader = { lc, file, anchors: anchorIndex(doc) }
  return { file, steps: readSteps(r, get(r, get(r, doc.contents, 'runs')?.value, 'steps')?.value), error: null }
}
