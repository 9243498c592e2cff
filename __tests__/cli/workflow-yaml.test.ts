// How the audit reads a workflow's YAML (src/cli/audit/workflow.ts, on js-yaml's event parser):
// what a scalar reads as, what an alias names, and what makes a file unreadable. The reader
// replaced one built on `yaml`'s documents for speed; a property test holds it to what `yaml`
// reads from the same text, in every style `yaml` writes.

import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { type ToStringOptions, parse, stringify } from 'yaml'
import { type Entry, readAction, readWorkflow } from '../../src/cli/audit/workflow.js'

/** A value as the audit's reader gives it: scalars as text (null as ''), collections as ''. */
function asText(v: unknown): string {
  if (v === null || v === undefined) return ''
  return typeof v === 'object' ? '' : String(v)
}

type Dict = Record<string, unknown>
interface Parsed {
  env: Dict
  jobs: { build: { env: Dict; steps: { run: unknown; uses: unknown; with: Dict; env: Dict }[] } }
}

describe('the workflow reader agrees with the yaml library on the same text', () => {
  const key = fc.oneof(
    fc.constantFrom('NX_CLOUD_ACCESS_TOKEN', 'NODE_OPTIONS', 'on', 'true', '1', 'a b', 'x:y', '#c', '<<'),
    fc.string({ minLength: 1, maxLength: 12 })
  )
  const scalar = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.constantFrom(
      'true',
      'False',
      '~',
      'null',
      '0x1F',
      '0o17',
      '1.10',
      '1e3',
      '.inf',
      '-.Inf',
      '.nan',
      '007',
      '',
      ' x ',
      '${{ secrets.T }}',
      'a\nb\n',
      'a\n\nb'
    ),
    fc.integer(),
    fc.double({ noNaN: true }),
    fc.boolean(),
    fc.constant(null)
  )
  const value = fc.oneof(
    { weight: 5, arbitrary: scalar },
    { weight: 1, arbitrary: fc.dictionary(key, scalar, { maxKeys: 3 }) },
    { weight: 1, arbitrary: fc.array(scalar, { maxLength: 3 }) }
  )
  const env = fc.dictionary(key, value, { maxKeys: 6 })
  const style = fc.record({
    defaultStringType: fc.constantFrom('PLAIN', 'QUOTE_DOUBLE', 'QUOTE_SINGLE', 'BLOCK_LITERAL', 'BLOCK_FOLDED'),
    defaultKeyType: fc.constantFrom(null, 'PLAIN', 'QUOTE_DOUBLE'),
    collectionStyle: fc.constantFrom('any', 'block', 'flow'),
    lineWidth: fc.constantFrom(0, 20, 80),
    indent: fc.constantFrom(2, 4),
    indentSeq: fc.boolean()
  }) as fc.Arbitrary<ToStringOptions>

  it('env: names and values, steps, needs and triggers, in every style yaml writes', () => {
    fc.assert(
      fc.property(
        env,
        env,
        fc.array(fc.record({ run: scalar, uses: scalar, with: env, env }), { maxLength: 3 }),
        style,
        (top, jobEnv, steps, options) => {
          const source = stringify(
            { on: ['push', 'pull_request'], env: top, jobs: { build: { needs: ['a', 'b'], env: jobEnv, steps } } },
            options
          )
          let expected: Parsed
          try {
            expected = parse(source, { merge: true, uniqueKeys: false }) as Parsed
          } catch {
            // yaml cannot read back what it wrote (an empty collection forced to block style), or
            // refuses a merge key that merges no map: no case.
            fc.pre(false)
            return
          }
          const w = readWorkflow('w.yml', source)
          expect(w.error).toBeNull()
          // Keys in order of name: the reader puts merged keys after a map's own, yaml where the `<<` is.
          const byName = (list: [string, string][]): [string, string][] => [...list].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          const pairs = (o: Record<string, unknown>): [string, string][] => byName(Object.entries(o).map(([k, v]) => [k, asText(v)]))
          const read = (entries: Entry[]): [string, string][] => byName(entries.map(e => [e.name, e.value]))
          expect(w.triggers).toEqual(['push', 'pull_request'])
          expect(read(w.env)).toEqual(pairs(expected.env))
          const job = w.jobs[0]
          expect(job.needs).toEqual(['a', 'b'])
          expect(read(job.env)).toEqual(pairs(expected.jobs.build.env))
          // with: by name in lower case, as GitHub matches inputs: of names that differ only in case
          // (a file GitHub refuses) one is kept, with one of their values.
          const lowered = (o: Record<string, unknown>): [string, string[]][] => {
            const groups = new Map<string, string[]>()
            for (const [k, v] of pairs(o)) groups.set(k.toLowerCase(), [...(groups.get(k.toLowerCase()) ?? []), v])
            return [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          }
          const want = expected.jobs.build.steps.map(s => ({
            run: asText(s.run),
            uses: asText(s.uses),
            with: lowered(s.with).map(([k, values]) => [k, values.length === 1 ? values[0] : 'one of them']),
            env: pairs(s.env)
          }))
          expect(
            job.steps.map((s, i) => ({
              run: s.run,
              uses: s.uses,
              with: byName([...s.with].map(([k, e]) => [k, e.value])).map(([k, v]) => {
                const values = lowered(expected.jobs.build.steps[i].with).find(([name]) => name === k)?.[1] ?? []
                return [k, values.length > 1 && values.includes(v) ? 'one of them' : v]
              }),
              env: read(s.env)
            }))
          ).toEqual(want)
          // Each key's line is the line its text is on.
          const lines = source.split('\n')
          for (const e of [...w.env, ...job.env]) expect(lines[e.loc.line - 1]).toContain(e.name.split('\n')[0].slice(0, 1))
        }
      ),
      { numRuns: 300 }
    )
  }, 30000)
})

describe('reading scalars, anchors and broken files', () => {
  it('a plain scalar reads as the YAML 1.2 core schema resolves it; a quoted one as written', () => {
    const w = readWorkflow(
      'w.yml',
      'on: push\nenv:\n  A: True\n  B: ~\n  C:\n  D: 0x1F\n  E: 1.10\n  F: "1.10"\n  G: \'True\'\n  H: 007\n  I: |\n    nx build\n  J: >-\n    a\n    b\njobs: {}\n'
    )
    expect(w.env.map(e => [e.name, e.value, e.loc.line])).toEqual([
      ['A', 'true', 3],
      ['B', '', 4],
      ['C', '', 5],
      ['D', '31', 6],
      ['E', '1.1', 7],
      ['F', '1.10', 8],
      ['G', 'True', 9],
      ['H', '7', 10],
      ['I', 'nx build\n', 11],
      ['J', 'a b', 13]
    ])
  })

  it('a plain << merges; a quoted "<<" or a tagged one is a key like any other', () => {
    const w = readWorkflow('w.yml', 'on: push\nenv: &e\n  A: "1"\njobs:\n  a:\n    env:\n      <<: *e\n      "<<": x\n      !!str << : y\n')
    expect(w.jobs[0].env.map(e => [e.name, e.value])).toEqual([
      ['<<', 'x'],
      ['<<', 'y'],
      ['A', '1']
    ])
  })

  it("an aliased step is the anchor's step at the anchor's line; an alias to a later anchor is not", () => {
    const w = readWorkflow('w.yml', 'on: push\njobs:\n  a:\n    steps:\n      - &s\n        run: nx build\n      - *s\n')
    expect(w.jobs[0].steps.map(s => [s.run, s.loc?.line])).toEqual([
      ['nx build', 6],
      ['nx build', 6]
    ])
    const later = readWorkflow('w.yml', 'on: push\nenv: *e\njobs:\n  a:\n    env: &e\n      X: 1\n')
    expect(later.error).toEqual({ line: 2, message: 'the alias *e names no anchor before it' })
    expect(later.jobs).toEqual([])
  })

  it('a file of two YAML documents is unreadable (GitHub reads one), at the second', () => {
    const w = readWorkflow('w.yml', 'on: push\njobs: {}\n---\non: pull_request_target\njobs: {}\n')
    expect(w.error?.message).toMatch(/more than one YAML document/)
    expect(w.error?.line).toBe(4)
    expect(w.triggers).toEqual([])
  })

  it("a syntax error is unreadable at its line, with the parser's reason and no snippet", () => {
    const w = readWorkflow('w.yml', 'on: push\njobs:\n  a:\n    steps:\n  - run: x\n     bad: [\n')
    expect(w.error?.line).toBeGreaterThanOrEqual(5)
    expect(w.error?.message).not.toContain('\n')
    expect(w.error?.message.length).toBeGreaterThan(5)
  })

  it('hostile files: deep nesting is unreadable, an alias bomb reads without expanding, a self-merge ends', () => {
    expect(readWorkflow('w.yml', `on: push\nenv: ${'['.repeat(5000)}${']'.repeat(5000)}\n`).error?.line).toBe(2)
    const bomb = ['on: push', 'env: &a0 {X: "lol"}']
    for (let i = 1; i <= 30; i++)
      bomb.push(
        `l${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(', ')}]`
      )
    bomb.push('jobs:', '  j:', '    env: *a0', '    steps: *a30')
    const w = readWorkflow('w.yml', bomb.join('\n'))
    expect(w.error).toBeNull()
    expect(w.jobs[0].env.map(e => e.value)).toEqual(['lol'])
    const self = readWorkflow('w.yml', 'on: push\njobs:\n  j:\n    env: &m\n      A: "1"\n      <<: *m\n')
    expect(self.jobs[0].env.map(e => [e.name, e.value])).toEqual([['A', '1']])
  })

  it('line numbers count CRLF, CR-only and LF line ends alike, for keys and for errors', () => {
    const lines = ['on: push', 'jobs:', '  a:', '    env:', '      NX_CLOUD_ACCESS_TOKEN: x', '    steps:', '      - uses: ./a']
    for (const eol of ['\n', '\r\n', '\r']) {
      const w = readWorkflow('w.yml', lines.join(eol))
      expect([w.jobs[0].loc.line, w.jobs[0].env[0].loc.line, w.jobs[0].steps[0].usesLoc?.line]).toEqual([3, 5, 7])
      const bad = readWorkflow('w.yml', [...lines, '    bad: [', ''].join(eol))
      expect(bad.error?.line).toBeGreaterThanOrEqual(8)
    }
  })

  it("a local action's steps, and its errors, read as a workflow's do", () => {
    expect(
      readAction('a/action.yml', 'runs:\n  using: composite\n  steps:\n    - run: nx build\n      shell: bash\n').steps.map(s => s.run)
    ).toEqual(['nx build'])
    expect(readAction('a/action.yml', 'runs: [\n').error?.line).toBe(2)
  })
})
