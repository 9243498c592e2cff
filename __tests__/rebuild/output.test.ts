// The rebuild check's reading of Nx output: what ran, what a cache served. The texts below are
// Nx 24.0.6's own output (colours included), captured from the test workspace; the real-Nx
// end-to-end test (e2e.test.ts) checks the same against live runs.

import { describe, expect, it } from '@jest/globals'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { analyseRebuildOutput, cacheUseError, cloudUseError, stripAnsi } from '../../src/rebuild/output.js'
import { REBUILD_TITLE } from '../../src/rebuild/summary.js'
import { runAction } from '../helpers/run-action.js'
import { parseSummary } from '../helpers/step-summary.js'

const E = '\u001b'
const line = (task: string, marker?: string): string =>
  `${E}[32m✔${E}[39m  ${E}[2mnx run${E}[22m ${task}` + (marker ? `  ${E}[2m[${marker}]${E}[22m` : '')
const summary = (hits: number, total: number): string =>
  `\n  Run duration:      10ms\n  Cache:             ${hits}/${total} hit (${Math.round((100 * hits) / total)}%)\n  Critical path:     4ms (3 tasks)\n`

const HEADER = `\n${E}[7m${E}[1m${E}[36m NX ${E}[39m${E}[22m${E}[27m  ${E}[36mRunning target ${E}[1mbuild${E}[22m for 3 projects:${E}[39m\n\n${E}[2m-${E}[22m lib-a\n${E}[2m-${E}[22m lib-b\n${E}[2m-${E}[22m app\n\n`
const FRESH =
  HEADER +
  [line('lib-a:build'), line('lib-b:build'), line('app:build')].join('\n') +
  `\n\n  Run duration:      241ms\n  Cache:             0/3 hit (0%)\n`
const ALL_CACHED =
  HEADER +
  [line('lib-a:build', 'local cache'), line('lib-b:build', 'local cache'), line('app:build', 'local cache')].join('\n') +
  `\n\n${E}[2mNx read the output from the cache instead of running the command for 3 out of 3 tasks.${E}[22m\n` +
  summary(3, 3)
const SKIPPED =
  HEADER + [line('lib-a:build'), line('lib-b:build'), line('app:build')].join('\n') + '\n  Cache:             Skipped (--skip-nx-cache)\n'
/** Nx 24.0.6 when a command reaches Nx Cloud and no client can be had (NX_NO_CLOUD=false, offline): it runs the tasks here. */
const CLOUD_FALLBACK =
  `\n${E}[7m${E}[1m${E}[33m NX ${E}[39m${E}[22m${E}[27m  ${E}[33mNo existing Nx Cloud client and failed to download new version.${E}[39m\n\n` +
  'Nx will continue running, but nothing will be written or read from the remote cache.\n\n' +
  [line('lib-a:build'), line('lib-b:build'), line('app:build')].join('\n') +
  `\n\n${E}[7m${E}[1m${E}[33m NX ${E}[39m${E}[22m${E}[27m  ${E}[33mNo existing Nx Cloud client and failed to download new version${E}[39m\n\n` +
  'Nx Cloud was not used for this command.\nYou might be offline. Nx Cloud will be re-enabled when you are back online.\n\n  Cache:             Skipped (--skip-nx-cache)\n'
/** --output-style=static: each task's own output follows its header line. */
const STATIC = `\n> nx run lib-a:build\n\n> node build.cjs lib-a\n\nbuilt lib-a\n\n> nx run app:build:production  [remote cache]\n\n> node build.cjs app\n\nbuilt app\n${summary(1, 2)}`

describe('stripAnsi', () => {
  it('removes colours, hyperlinks and cursor moves, keeps the text', () => {
    expect(stripAnsi(line('lib-a:build', 'local cache'))).toBe('✔  nx run lib-a:build  [local cache]')
    expect(stripAnsi(`${E}]8;;https://nx.dev${E}\\docs${E}]8;;${E}\\ ${E}[2K${E}[1Gok`)).toBe('docs ok')
  })
})

describe('analyseRebuildOutput', () => {
  it('lists every task of a fresh run and finds no cache', () => {
    for (const text of [FRESH, SKIPPED]) {
      const r = analyseRebuildOutput(text)
      expect(r.ran).toEqual(['lib-a:build', 'lib-b:build', 'app:build'])
      expect(r.cached).toEqual([])
      expect(r.summaryHits).toBe(0)
      expect(cacheUseError(r)).toBeNull()
    }
  })

  it('names each task a local cache served, and counts the summary', () => {
    const r = analyseRebuildOutput(ALL_CACHED)
    expect(r.ran).toEqual([])
    expect(r.cached.map(c => [c.task, c.marker])).toEqual([
      ['lib-a:build', 'local cache'],
      ['lib-b:build', 'local cache'],
      ['app:build', 'local cache']
    ])
    expect(r.summaryHits).toBe(3)
    expect(cacheUseError(r)).toMatch(
      /served from a cache: lib-a:build \[local cache\], lib-b:build \[local cache\], app:build \[local cache\]\./
    )
  })

  it('catches a remote hit in static output and a mixed run', () => {
    const r = analyseRebuildOutput(STATIC)
    expect(r.ran).toEqual(['lib-a:build'])
    expect(r.cached).toEqual([{ task: 'app:build:production', marker: 'remote cache', line: 8 }])
    expect(cacheUseError(r)).toMatch(/app:build:production \[remote cache\]/)
  })

  it('catches outputs left as is', () => {
    const r = analyseRebuildOutput('> nx run lib-b:build  [existing outputs match the cache, left as is]\n')
    expect(cacheUseError(r)).toMatch(/lib-b:build \[existing outputs match the cache, left as is\]/)
  })

  it('fails on a summary hit count even when no task line shows a marker', () => {
    const r = analyseRebuildOutput(HEADER + line('lib-a:build') + summary(2, 3))
    expect(r.cached).toEqual([])
    expect(r.summaryHits).toBe(2)
    expect(cacheUseError(r)).toMatch(/run summary counts 2 task\(s\) from the cache \(Cache: +2\/3 hit \(67%\)\)/)
  })

  it('counts --output-style=summary, which prints no task lines', () => {
    const headline = `\n${E}[7m${E}[1m${E}[32m NX ${E}[39m${E}[22m${E}[27m  3 tasks: 3 succeeded, 2 cached\nRe-run with --output-style=static to inline logs.\n`
    const r = analyseRebuildOutput(headline)
    expect(r.summaryHits).toBe(2)
    expect(cacheUseError(r)).toMatch(/counts 2 task\(s\) from the cache \(NX +3 tasks: 3 succeeded, 2 cached\)/)
    const fresh = analyseRebuildOutput(`\n NX   3 tasks: 3 succeeded\n  Cache:             Skipped (--skip-nx-cache)\n`)
    expect(cacheUseError(fresh)).toBeNull()
  })

  it('does not let a carriage return hide a marker', () => {
    const r = analyseRebuildOutput('> nx run lib-a:build\r✔  nx run lib-a:build  [local cache]\n')
    expect(r.cached.map(c => c.task)).toEqual(['lib-a:build'])
    expect(r.ran).toEqual([])
  })

  it('names an unattributed marker by its line', () => {
    const r = analyseRebuildOutput('one\ntwo [remote cache]\n')
    expect(cacheUseError(r)).toMatch(/\(line 2\) \[remote cache\]/)
  })

  it('finds nothing in output without Nx tasks', () => {
    const r = analyseRebuildOutput('compiled 12 files\n')
    expect(r).toEqual({ ran: [], unnamed: 0, cached: [], summaryHits: 0, summaryLines: [], cloud: [] })
  })
})

describe('signs of Nx Cloud', () => {
  it("refuses Nx's own lines of a command handed to Nx Cloud, though every task ran here", () => {
    const r = analyseRebuildOutput(CLOUD_FALLBACK)
    expect(r.ran).toEqual(['lib-a:build', 'lib-b:build', 'app:build'])
    expect(cacheUseError(r)).toBeNull()
    expect(r.cloud.map(c => c.line)).toEqual([2, 10, 12])
    expect(cloudUseError(r)).toMatch(
      /^The pre-deploy rebuild cannot be verified.*Nx Cloud took part \(line 2: "NX +No existing Nx Cloud client and failed to download new version\."; line 10: .*; line 12: "Nx Cloud was not used for this command\."\)/
    )
  })

  it.each([
    ['a distributing main job', 'Starting distributed command execution'],
    ['skip-cache under distribution', '--skip-nx-cache is ignored when using distributed tasks execution (DTE).'],
    ['a run page', 'View logs and investigate cache misses at https://cloud.nx.app/runs/Ab12Cd34'],
    ['run details', 'See run details at https://nx.example.com/runs/1'],
    ['an outdated enterprise client', 'Nx Cloud will not be used for this command.']
  ])("refuses a client's line: %s", (_what, text) => {
    const r = analyseRebuildOutput(`${line('app:build')}\n${text}\n`)
    expect(r.cloud).toEqual([{ line: 2, text }])
    expect(cloudUseError(r)).toMatch(/cannot be verified/)
  })

  it('does not read the Nx Cloud offer of a run without it, or a start-ci-run turned away, as Nx Cloud taking part', () => {
    const text = [
      line('app:build'),
      ' NX   Nx Cloud is not enabled',
      'This command requires a connection to the full Nx platform.',
      'Set up remote caching: https://cloud.nx.app/get-started?utm_source=nx-cli',
      // Nx 24's run report recommendations (performance-report), printed with Nx Cloud off too.
      'Distribute across machines with Nx Agents (https://nx.dev/ci/features/distribute-task-execution?utm_source=nx-cli).',
      'Add more Nx Agents to recover up to 2m 10s.'
    ].join('\n')
    expect(cloudUseError(analyseRebuildOutput(text))).toBeNull()
  })

  it('cuts a long line short in the error, and names at most three', () => {
    const long = `Starting distributed command execution ${'x'.repeat(200)}`
    const r = analyseRebuildOutput([long, long, long, long].join('\n'))
    expect(r.cloud).toHaveLength(4)
    const error = cloudUseError(r) ?? ''
    expect(error.match(/line \d+:/g)).toHaveLength(3)
    expect(error).toContain(`"${long.slice(0, 117)}..."`)
  })
})

describe('the rebuild check bundle (dist/rebuild/index.js)', () => {
  const logOf = (text: string): string => {
    const p = join(mkdtempSync(join(tmpdir(), 'nca-log-')), 'rebuild.log')
    writeFileSync(p, text)
    return p
  }
  const check = (env: Record<string, string>) => runAction({ entry: 'dist/rebuild/index.js', event: 'push', env })

  it('passes a fresh run: output rebuilt and the job summary list the tasks', async () => {
    const run = await check({ NCA_REBUILD_LOG: logOf(FRESH) })
    expect(run.status).toBe(0)
    expect(run.errors).toEqual([])
    expect(run.outputs.rebuilt).toBe('lib-a:build lib-b:build app:build')
    const summary = parseSummary(run.summary, REBUILD_TITLE)
    expect(summary.verdict).toBe('✅ Passed: 3 tasks built fresh, none from a cache')
    expect(summary.fix).toBeNull()
    expect(summary.sections).toEqual([{ heading: 'Built fresh', rows: {}, items: ['lib-a:build', 'lib-b:build', 'app:build'] }])
  })

  it('fails a cached run with one ::error:: line naming the tasks', async () => {
    const run = await check({ NCA_REBUILD_LOG: logOf(STATIC) })
    expect(run.status).toBe(1)
    expect(run.errors).toHaveLength(1)
    expect(run.errors[0]).toMatch(/^The pre-deploy rebuild was not built fresh.*app:build:production \[remote cache\]/)
    expect(run.outputs.rebuilt).toBe('lib-a:build')
    const summary = parseSummary(run.summary, REBUILD_TITLE)
    expect(summary.verdict).toBe('❌ Failed: 1 task served from a cache, deploy nothing')
    expect(summary.fix).toMatch(/^Find what overrides NX_SKIP_NX_CACHE=true/)
    expect(summary.sections).toEqual([
      { heading: 'Served from a cache', rows: {}, items: ['app:build:production [remote cache]'] },
      { heading: 'Built fresh', rows: {}, items: ['lib-a:build'] }
    ])
  })

  it('fails a run that shows Nx Cloud took part, with its own heading', async () => {
    const run = await check({ NCA_REBUILD_LOG: logOf(CLOUD_FALLBACK) })
    expect(run.status).toBe(1)
    expect(run.errors).toHaveLength(1)
    expect(run.errors[0]).toMatch(/cannot be verified/)
    expect(run.outputs.rebuilt).toBe('lib-a:build lib-b:build app:build')
    const summary = parseSummary(run.summary, REBUILD_TITLE)
    expect(summary.headings[0]).toEqual({ depth: 2, text: REBUILD_TITLE })
    expect(summary.verdict).toBe('❌ Not verified: Nx Cloud took part, deploy nothing')
    expect(summary.fix).toMatch(/^Remove whatever turns Nx Cloud back on in the command/)
    expect(summary.sections).toEqual([
      {
        heading: 'Signs of Nx Cloud in the output',
        rows: {},
        items: [
          'line 2: NX   No existing Nx Cloud client and failed to download new version.',
          'line 10: NX   No existing Nx Cloud client and failed to download new version',
          'line 12: Nx Cloud was not used for this command.'
        ]
      },
      { heading: 'Built fresh', rows: {}, items: ['lib-a:build', 'lib-b:build', 'app:build'] }
    ])
    // The sign shows as code: what Nx printed, not markup.
    expect(run.summary).toContain('line 12: `Nx Cloud was not used for this command.`')
  })

  it('fails when the captured output is missing', async () => {
    const run = await check({ NCA_REBUILD_LOG: '/nonexistent/rebuild.log' })
    expect(run.status).toBe(1)
    expect(run.errors[0]).toMatch(/could not be read.*cannot be verified/)
    // A failed check writes its summary too: what failed, and that nothing may be deployed.
    const summary = parseSummary(run.summary, REBUILD_TITLE)
    expect(summary.verdict).toBe('❌ Failed: the rebuild could not be verified, deploy nothing')
    expect(summary.cause).toBe(run.errors[0])
    expect(summary.fix).not.toBeNull()
    expect((await check({})).errors[0]).toMatch(/NCA_REBUILD_LOG is not set/)
  })

  it('warns, and passes, when the output shows no Nx task', async () => {
    const run = await check({ NCA_REBUILD_LOG: logOf('nothing to do\n') })
    expect(run.status).toBe(0)
    expect(run.warnings[0]).toMatch(/printed no Nx task/)
    expect(run.outputs.rebuilt).toBe('')
  })
})
