// `audit` on a corpus of real Nx repositories, judged by hand (__tests__/fixtures/corpus-expected.json).
// The corpus itself is not committed: `node scripts/corpus.mjs` builds it from local snapshots of the
// repositories (only workflows, local actions, nx.json and package.json files, committed tokens
// replaced by synthetic ones). It is read from .corpus/ when that exists, else from ../shared/corpus/
// (the copy CI has beside the checkout); with neither these tests are skipped, and the patterns the
// corpus taught are covered always by the synthetic fixtures of the rule tests.

import { describe, expect, it } from '@jest/globals'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from '../helpers/run-action.js'
import { runCli } from '../helpers/run-cli.js'

const CORPUS =
  [join(REPO_ROOT, '.corpus'), join(REPO_ROOT, '..', 'shared', 'corpus')].find(d => existsSync(d)) ?? join(REPO_ROOT, '.corpus')
const EXPECTED = JSON.parse(readFileSync(join(REPO_ROOT, '__tests__', 'fixtures', 'corpus-expected.json'), 'utf8')) as {
  repositories: {
    repo: string
    commit: string
    expected: Judged[]
    falsePositivesBefore: Judged[]
  }[]
}

interface Judged {
  rule: string
  severity: string
  file: string
  line: number
  why: string
  setup?: string
  messageIncludes?: string[]
}

interface Given {
  rule: string
  severity: string
  file: string
  line: number
  message: string
}

const key = (f: { rule: string; severity: string; file: string; line: number }): string => `${f.rule} ${f.severity} ${f.file}:${f.line}`

function present(repo: string, commit: string): string | null {
  const dir = join(CORPUS, repo.replace('/', '__'))
  try {
    const meta = JSON.parse(readFileSync(join(dir, '.corpus.json'), 'utf8'))
    return meta.commit === commit ? dir : null
  } catch {
    return null
  }
}

/**
 * What audit gives: the default run, plus deploy-without-rebuild under ci-read-write at lines where
 * the default run gives none (the one rule that setup adds findings of); as scripts/corpus.mjs scores.
 */
function findings(dir: string): Given[] {
  const run = (...args: string[]): Given[] => {
    const r = runCli(['audit', dir, '--format', 'json', ...args])
    if (r.status !== 0 && r.status !== 1) throw new Error(`audit ${dir} exited ${r.status}: ${r.stderr}`)
    return JSON.parse(r.stdout).findings
  }
  const plain = run()
  const at = new Set(plain.filter(f => f.rule === 'deploy-without-rebuild').map(f => `${f.file}:${f.line}`))
  return [...plain, ...run('--setup', 'ci-read-write').filter(f => f.rule === 'deploy-without-rebuild' && !at.has(`${f.file}:${f.line}`))]
}

const repos = EXPECTED.repositories.map(r => ({ ...r, dir: present(r.repo, r.commit) })).filter(r => r.dir !== null)
const maybe = repos.length > 0 ? describe : describe.skip

if (repos.length === 0) {
  console.warn(
    `corpus.test.ts: skipped, neither .corpus/ nor ../shared/corpus/ holds the judged commits; build it with 'node scripts/corpus.mjs' (needs the repositories' snapshots).`
  )
}

maybe(`audit on ${repos.length} real repositories (${CORPUS}, judged in corpus-expected.json)`, () => {
  const results = new Map<string, Given[]>()
  const given = (repo: (typeof repos)[number]): Given[] => {
    if (!results.has(repo.repo)) results.set(repo.repo, findings(repo.dir as string))
    return results.get(repo.repo) as Given[]
  }

  it('the judgement covers at least 15 repositories, each present at its judged commit', () => {
    expect(EXPECTED.repositories.length).toBeGreaterThanOrEqual(15)
    expect(repos.map(r => r.repo)).toEqual(EXPECTED.repositories.map(r => r.repo))
  })

  it.each(repos.map(r => [r.repo, r] as const))('%s: the findings judged right, no others', (_name, repo) => {
    const got = given(repo)
    expect(got.map(key).sort()).toEqual(repo.expected.map(key).sort())
    for (const e of repo.expected) {
      const f = got.find(g => key(g) === key(e))
      for (const words of e.messageIncludes ?? []) expect(f?.message).toContain(words)
    }
    for (const fp of repo.falsePositivesBefore) expect(got.map(key)).not.toContain(key(fp))
  })

  it('precision and recall are at least 95% for every rule', () => {
    const rules = new Map<string, { right: number; given: number; real: number }>()
    const row = (rule: string) => {
      if (!rules.has(rule)) rules.set(rule, { right: 0, given: 0, real: 0 })
      return rules.get(rule) as { right: number; given: number; real: number }
    }
    for (const repo of repos) {
      const want = new Set(repo.expected.map(key))
      for (const f of given(repo)) {
        row(f.rule).given++
        if (want.has(key(f))) row(f.rule).right++
      }
      for (const e of repo.expected) row(e.rule).real++
    }
    const table = [...rules].map(([rule, n]) => ({
      rule,
      ...n,
      precision: n.given === 0 ? 1 : n.right / n.given,
      recall: n.real === 0 ? 1 : n.right / n.real
    }))
    console.log(table.map(t => `${t.rule.padEnd(26)} precision ${t.right}/${t.given}  recall ${t.right}/${t.real}`).join('\n'))
    for (const t of table) {
      expect({ rule: t.rule, ok: t.precision >= 0.95 && t.recall >= 0.95 }).toEqual({ rule: t.rule, ok: true })
    }
  })
})
