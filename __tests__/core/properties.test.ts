// Property tests: over arbitrary runs, (1) a read-write token is exported only when the policy says
// read-write, and (2) no secret reaches stdout outside `::add-mask::`, nor the outputs or the summary.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { apply } from '../../src/token-step/apply.js'
import { readInputs } from '../../src/core/inputs.js'
import { decide } from '../../src/core/policy.js'
import { resolveRunFacts } from '../../src/core/run-facts.js'
import { type Decision, PolicyError } from '../../src/core/types.js'
import { mergeGroupPayload, prPayload, pushPayload, repository } from '../fixtures/payloads.js'

const secret = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'.split('')), minLength: 24, maxLength: 40 })

const runArb = fc.record({
  setup: fc.constantFrom('main-only', 'ci-read-write', 'shared-read-write', 'off', '1', '2', '3'),
  event: fc.constantFrom(
    'push',
    'pull_request',
    'pull_request_target',
    'merge_group',
    'schedule',
    'workflow_dispatch',
    'workflow_run',
    'issue_comment',
    'release',
    'whatever'
  ),
  branch: fc.constantFrom('main', 'master', 'feature/x', 'release/1.0', 'Main'),
  tag: fc.boolean(),
  origin: fc.constantFrom('same', 'fork', 'dependabot'),
  rw: fc.option(secret, { nil: '' }),
  ro: fc.option(secret, { nil: '' }),
  key: fc.option(secret, { nil: '' }),
  nxToken: fc.option(secret, { nil: '' }),
  nxKey: fc.boolean(),
  // An ambient variable may hold the read-write token itself (a job-level env: that every PR inherits).
  ambientAccess: fc.constantFrom<'rw' | 'other' | undefined>('rw', 'other', undefined),
  ambientAuth: fc.constantFrom<'rw' | 'other' | undefined>('rw', 'other', undefined),
  ambientSelfHosted: fc.constantFrom<'rw' | 'other' | undefined>('rw', 'other', undefined),
  selfHosted: fc.boolean(),
  skipCache: fc.boolean(),
  writeEvents: fc.constantFrom('', 'push', 'push, merge_group, schedule'),
  writeBranches: fc.constantFrom('', 'main', 'main, release/*')
})
type Run = typeof runArb extends fc.Arbitrary<infer T> ? T : never

const OTHER = 'ambient-token-not-the-read-write-one'
function ambientOf(r: Run): Record<string, string | undefined> {
  const v = (x: 'rw' | 'other' | undefined): string | undefined => (x === 'rw' ? r.rw : x === 'other' ? OTHER : undefined)
  return {
    NX_CLOUD_ACCESS_TOKEN: v(r.ambientAccess),
    NX_CLOUD_AUTH_TOKEN: v(r.ambientAuth),
    NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: v(r.ambientSelfHosted)
  }
}

/** Every secret value a run was given, from the generator rather than from the code under test. */
function secretsOf(r: Run): string[] {
  return [r.rw, r.ro, r.key, r.nxToken, OTHER].filter(s => s !== '')
}

async function decideRun(r: Run): Promise<Decision | PolicyError> {
  const env: Record<string, string> = {
    INPUT_SETUP: r.setup,
    'INPUT_READ-WRITE-TOKEN': r.rw,
    'INPUT_READ-ONLY-TOKEN': r.ro,
    'INPUT_ENCRYPTION-KEY': r.key,
    'INPUT_SKIP-CACHE': String(r.skipCache),
    'INPUT_WRITE-EVENTS': r.writeEvents,
    'INPUT_WRITE-BRANCHES': r.writeBranches,
    'INPUT_SELF-HOSTED-CACHE-URL': r.selfHosted && r.setup !== 'off' ? 'http://127.0.0.1:4000' : ''
  }
  const ref = r.tag ? 'refs/tags/v1' : `refs/heads/${r.branch}`
  const payload = r.event.startsWith('pull_request')
    ? prPayload({ fork: r.origin === 'fork' ? 'mallory/x' : undefined, author: r.origin === 'dependabot' ? 'dependabot[bot]' : undefined })
    : r.event === 'merge_group'
      ? mergeGroupPayload(`refs/heads/${r.branch}`)
      : r.event === 'push'
        ? pushPayload(ref)
        : { repository: repository() }
  const ambient = ambientOf(r)
  try {
    const facts = await resolveRunFacts({ event: r.event, ref, actor: 'octocat', repository: 'acme/monorepo', payload })
    // The nx.json token is a read-only stand-in (unknown format: not judged).
    const nx = { path: 'nx.json', accessToken: r.nxToken, encryptionKey: r.nxKey ? 'nx-json-key-0123456789' : '', url: '', cloudId: '' }
    return decide(readInputs(env), facts, nx, ambient)
  } catch (e) {
    if (e instanceof PolicyError) return e
    throw e
  }
}

test('a read-write token is exported only when the policy says read-write', async () => {
  await fc.assert(
    fc.asyncProperty(runArb, async r => {
      fc.pre(r.rw !== '' && ![r.ro, r.key, r.nxToken].includes(r.rw))
      const d = await decideRun(r)
      if (d instanceof PolicyError) return
      const exportsRw = Object.values(d.exports).includes(r.rw)
      expect(exportsRw).toBe(d.access === 'read-write' && d.tokenSource === 'read-write-token')
      // What every later step sees: the job's env: with the action's exports over it.
      const later = { ...ambientOf(r), ...d.exports }
      const holders = Object.entries(later)
        .filter(([, v]) => v === r.rw)
        .map(([k]) => k)
      if (d.access !== 'read-write') expect(holders).toEqual([])
    }),
    { numRuns: 1500 }
  )
})

test('no secret reaches stdout outside ::add-mask::, nor the outputs or the summary', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nca-prop-'))
  const files = { GITHUB_ENV: join(dir, 'env'), GITHUB_OUTPUT: join(dir, 'out'), GITHUB_STEP_SUMMARY: join(dir, 'sum') }
  const saved = { ...process.env }
  Object.assign(process.env, files)
  const write = process.stdout.write.bind(process.stdout)
  let stdout = ''
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += String(chunk)
    return true
  }) as typeof process.stdout.write
  try {
    await fc.assert(
      fc.asyncProperty(runArb, async r => {
        const d = await decideRun(r)
        if (d instanceof PolicyError) {
          for (const secret of secretsOf(r)) expect(d.message).not.toContain(secret)
          return
        }
        for (const f of Object.values(files)) writeFileSync(f, '')
        stdout = ''
        await apply(d)
        const outputs = readFileSync(files.GITHUB_OUTPUT, 'utf8')
        const summary = readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8')
        for (const s of secretsOf(r)) {
          expect(outputs).not.toContain(s)
          expect(summary).not.toContain(s)
          for (const line of stdout.split('\n')) if (line.includes(s)) expect(line.startsWith('::add-mask::')).toBe(true)
        }
      }),
      { numRuns: 300 }
    )
  } finally {
    process.stdout.write = write
    process.env = saved
  }
})
