// The rebuild bar, over real output: every capture in __tests__/fixtures/nx-output/ (Nx 24 run
// under a hosted runner's environment, in every output style, run-one and run-many, with forwarded
// arguments, configurations and --quiet, with and without colour, fresh and served from the local
// and the remote cache) is read by the parser and by the bundled check as the runner runs it.
// A rebuild that built every task passes with `rebuilt` naming all of them; a cached task fails
// the step, named. The captures and how to re-take them: the folder's README.md.

import { describe, expect, it } from '@jest/globals'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { analyseRebuildOutput, cacheUseError, freshCount } from '../../src/rebuild/output.js'
import { Lexer, type Tokens } from 'marked'
import { REBUILD_TITLE, rebuildSummary } from '../../src/rebuild/summary.js'
import { parseSummary, plain } from '../helpers/step-summary.js'
import { REPO_ROOT, runAction } from '../helpers/run-action.js'

const DIR = join(REPO_ROOT, '__tests__', 'fixtures', 'nx-output')

interface Capture {
  file: string
  command: string
  state: 'fresh' | 'local' | 'remote' | 'mixed'
  ran: string[]
  cached: string[]
  marker: string | null
  named: boolean
}
const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as { nx: string; captures: Capture[] }
const captures = manifest.captures.filter(c => c.file.endsWith('.log'))
const text = (c: Capture): string => readFileSync(join(DIR, c.file), 'utf8')
const check = (log: string, env: Record<string, string> = {}) =>
  runAction({ entry: 'dist/rebuild/index.js', event: 'push', ref: 'refs/heads/main', env: { NCA_REBUILD_LOG: log, ...env } })
/** Every heading of a markdown summary, as GitHub renders it, with its level. */
const headings = (markdown: string): { level: number; text: string }[] =>
  new Lexer()
    .lex(markdown)
    .filter((t): t is Tokens.Heading => t.type === 'heading')
    .map(h => ({ level: h.depth, text: plain(h.tokens) }))
const kitPart = (markdown: string) => parseSummary(markdown, REBUILD_TITLE)

describe('the captures', () => {
  it('are real Nx 24 output, cover every output style, and hold the runner-only forms', () => {
    expect(manifest.nx).toMatch(/^24\./)
    const forms = new Set(captures.map(c => c.file.split('.')[0]))
    for (const style of [
      'static',
      'static-failures-only',
      'stream',
      'stream-without-prefixes',
      'dynamic',
      'dynamic-legacy',
      'tui',
      'summary'
    ]) {
      expect(forms).toContain(style)
    }
    for (const form of ['quiet', 'run-many-configuration', 'run-one-configuration', 'run-one-forwarded']) expect(forms).toContain(form)
    const all = captures.map(text).join('\n')
    expect(all).toContain('::group::✅ > nx run lib-a:build\n')
    expect(all).toContain('::group::🔁 \u001b[2m> \u001b[22m\u001b[2mnx run\u001b[22m app:build --sourcemap  \u001b[2m[remote cache]')
    expect(all).toContain('✔  nx run lib-a:build --quiet\n')
    expect(all).toContain('> nx run app:build:production')
  })
})

describe.each(captures.map(c => [c.file, c] as const))('%s', (_file, c) => {
  it(c.state === 'fresh' ? 'passes, naming every task built' : 'fails, naming the cached tasks', () => {
    const r = analyseRebuildOutput(text(c))
    const error = cacheUseError(r)
    if (c.named) expect(r.ran).toEqual(c.ran)
    else {
      expect(r.ran).toEqual([])
      expect(r.unnamed).toBe(c.ran.length)
    }
    expect(freshCount(r)).toBe(c.ran.length)
    if (c.cached.length === 0) {
      expect(r.cached).toEqual([])
      expect(error).toBeNull()
      expect(kitPart(rebuildSummary(r, error)).verdict).toBe(`✅ Passed: ${c.ran.length} tasks built fresh, none from a cache`)
    } else {
      expect(error).not.toBeNull()
      if (c.named) {
        expect(r.cached.map(x => x.task)).toEqual(c.cached)
        for (const t of c.cached) expect(error).toContain(`${t} [${c.marker}]`)
      } else expect(error).toMatch(new RegExp(`counts ${c.cached.length} task\\(s\\) from the cache`))
      expect(kitPart(rebuildSummary(r, error)).verdict).toBe(`❌ Failed: ${c.cached.length} tasks served from a cache, deploy nothing`)
    }
  })
})

// The bundle, as the runner runs it, over one capture of each form and state (both colours are
// covered by the parser's table above; the bundle reads the same text).
describe('the bundled check (dist/rebuild/index.js) over the captures', () => {
  const some = captures.filter(c => !c.file.endsWith('.no-color.log'))
  it.each(some.map(c => [c.file, c] as const))('%s', async (_file, c) => {
    const run = await check(join(DIR, c.file))
    expect(run.outputs.rebuilt).toBe(c.named ? c.ran.join(' ') : '')
    if (c.cached.length === 0) {
      expect(run.status).toBe(0)
      expect(run.errors).toEqual([])
      expect(run.warnings).toEqual([])
      if (c.named) expect(kitPart(run.summary).sections).toEqual([{ heading: 'Built fresh', rows: {}, items: c.ran }])
      if (!c.named) expect(run.notices.join('\n')).toMatch(/counted 3 task\(s\) built fresh without naming them/)
    } else {
      expect(run.status).toBe(1)
      expect(run.errors).toHaveLength(1)
      if (c.named) for (const t of c.cached) expect(run.errors[0]).toContain(`${t} [${c.marker}]`)
    }
  })
})

describe("the rebuild's job summary, after Nx's own report", () => {
  /** Nx's real report, as Nx 24 wrote it into GITHUB_STEP_SUMMARY under the runner environment. */
  const nxReport = readFileSync(join(DIR, 'nx-run-report.step-summary.md'), 'utf8')
  const summaryAfterNx = async (capture: string): Promise<{ run: Awaited<ReturnType<typeof check>>; all: string; kit: string }> => {
    const file = join(mkdtempSync(join(tmpdir(), 'nca-summary-')), 'step_summary')
    writeFileSync(file, nxReport)
    const run = await check(join(DIR, capture), { GITHUB_STEP_SUMMARY: file })
    const all = readFileSync(file, 'utf8')
    return { run, all, kit: all.slice(nxReport.length) }
  }

  it("Nx's report says all tasks succeeded, whatever the cache did", () => {
    expect(headings(nxReport)).toEqual([
      { level: 2, text: 'Nx Run Report — run-many -t build' },
      { level: 3, text: '✅ All tasks succeeded' },
      { level: 3, text: 'Performance' }
    ])
  })

  it("a failed rebuild: the kit's part, under its own h2 after Nx's report, opens with ❌ and never reads as a success", async () => {
    const { run, all, kit } = await summaryAfterNx('static.local.colour.log')
    expect(run.status).toBe(1)
    expect(all.startsWith(nxReport)).toBe(true) // appended, Nx's report untouched
    expect(headings(kit)).toEqual([
      { level: 2, text: REBUILD_TITLE },
      { level: 3, text: 'Served from a cache' }
    ])
    expect(kit.trimStart().startsWith(`## ${REBUILD_TITLE}\n\n**❌`)).toBe(true)
    const summary = kitPart(all)
    expect(summary.verdict).toBe('❌ Failed: 3 tasks served from a cache, deploy nothing')
    expect(kit).not.toMatch(/✅|passed|built fresh, none/)
    expect(summary.cause).toBe("Nx's own run report may say its tasks succeeded: they did, from a cache, not built by this job.")
    expect(summary.fix).toMatch(/^Find what overrides NX_SKIP_NX_CACHE=true/)
    expect(summary.sections[0].items).toEqual(['lib-a:build [local cache]', 'lib-b:build [local cache]', 'app:build [local cache]'])
    expect(summary.other).toEqual([])
  })

  it('a passed rebuild: ✅ and the count, as the first heading of the kit part', async () => {
    const { run, all, kit } = await summaryAfterNx('static.fresh.colour.log')
    expect(run.status).toBe(0)
    expect(all.startsWith(nxReport)).toBe(true)
    expect(headings(kit)[0]).toEqual({ level: 2, text: REBUILD_TITLE })
    expect(kitPart(all).verdict).toBe('✅ Passed: 3 tasks built fresh, none from a cache')
    expect(kit.trimStart().startsWith(`## ${REBUILD_TITLE}\n\n**✅`)).toBe(true)
    expect(kit).not.toMatch(/❌|failed/i)
  })

  it('a mixed rebuild fails, naming what was served and what was built', async () => {
    const { run, kit } = await summaryAfterNx('static.mixed.colour.log')
    expect(run.status).toBe(1)
    expect(run.outputs.rebuilt).toBe('app:build')
    const summary = kitPart(kit)
    expect(summary.verdict).toBe('❌ Failed: 2 tasks served from a cache, deploy nothing')
    expect(summary.sections.find(s => s.heading === 'Built fresh')?.items).toEqual(['app:build'])
  })

  it('a command that printed no Nx task: ⚠️, not a pass', () => {
    const r = analyseRebuildOutput('compiled 12 files\n')
    const summary = kitPart(rebuildSummary(r, null))
    expect(summary.verdict).toBe('⚠️ Nothing verified: the output names no Nx task')
    expect(summary.fix).toMatch(/^Make rebuild-command an Nx command/)
  })
})
