// The documentation a reader navigates: every relative link of every markdown file of the repository
// reaches a file that exists, and a #anchor into a markdown file names one of its headings (as
// GitHub slugs them); CONTRIBUTING.md names only paths that exist.

import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join, normalize, posix } from 'node:path'
import picomatch from 'picomatch'
import { RULES } from '../../src/cli/audit/registry.js'
import { anchors, codeSpans, linkTargets, markdownFiles, readRepoFile, repoFiles } from '../helpers/markdown.js'
import { REPO_ROOT } from '../helpers/run-action.js'

/** What is wrong with one link of `file`, or null when it resolves. */
function brokenLink(file: string, href: string): string | null {
  if (/^[a-z][a-z+.-]*:/i.test(href) || href.startsWith('//')) return null // https:, mailto:: not ours to check offline
  const [rawPath, anchor] = href.split('#', 2)
  const path = decodeURIComponent(rawPath)
  if (path.startsWith('/')) return `${file}: ${href} is absolute; GitHub resolves it against its own host, not the repository`
  const target = path === '' ? file : posix.normalize(posix.join(posix.dirname(file), path))
  if (target.startsWith('..')) return `${file}: ${href} leaves the repository`
  if (!existsSync(join(REPO_ROOT, target))) return `${file}: ${href} names ${target}, which does not exist`
  if (anchor === undefined) return null
  if (!target.endsWith('.md'))
    return /^L\d+(-L\d+)?$/.test(anchor) ? null : `${file}: ${href} has an anchor into a file that is not markdown`
  return anchors(readRepoFile(target)).has(anchor) ? null : `${file}: ${href}: ${target} has no heading with the anchor #${anchor}`
}

const files = markdownFiles()

test('the repository has its documentation pages, and every one is reached from the front page or the docs index', () => {
  for (const f of ['README.md', 'CONTRIBUTING.md', 'docs/README.md', 'cache/README.md', 'docs/cli.md', 'docs/audit-rules.md']) {
    expect(files).toContain(f)
  }
  const reached = new Set(
    ['README.md', 'docs/README.md'].flatMap(f =>
      linkTargets(readRepoFile(f)).map(h => posix.normalize(posix.join(posix.dirname(f), h.split('#')[0])))
    )
  )
  const pages = files.filter(f => /^(docs\/[^/]+|cache\/README)\.md$/.test(f) && f !== 'docs/README.md')
  expect(pages.filter(p => !reached.has(p))).toEqual([])
})

test('every relative link and #anchor of every markdown file resolves', () => {
  let checked = 0
  const broken: string[] = []
  for (const file of files) {
    for (const href of linkTargets(readRepoFile(file))) {
      checked++
      const why = brokenLink(file, href)
      if (why) broken.push(why)
    }
  }
  expect(broken).toEqual([])
  expect(checked).toBeGreaterThan(50)
})

test('the link check finds a missing file, a missing anchor, an absolute path and a link out of the repository', () => {
  expect(brokenLink('README.md', 'docs/no-such-page.md')).toMatch('does not exist')
  expect(brokenLink('README.md', 'docs/audit-rules.md#no-such-rule')).toMatch('no heading with the anchor #no-such-rule')
  expect(brokenLink('docs/cli.md', '#no-such-heading')).toMatch('no heading')
  expect(brokenLink('README.md', '/docs/cli.md')).toMatch('absolute')
  expect(brokenLink('docs/cli.md', '../../elsewhere.md')).toMatch('leaves the repository')
  expect(brokenLink('docs/cli.md', 'audit-rules.md#step-env-token')).toBeNull()
  expect(brokenLink('README.md', 'https://nx.dev/ci/recipes/security/encryption')).toBeNull()
})

test("anchors are GitHub's: code and punctuation dropped, dashes kept, duplicates numbered", () => {
  const a = anchors('# Setup 2 — every run\n\n## `audit [DIR]`: is it safe?\n\n## Notes\n\n## Notes\n\n```md\n## not a heading\n```\n')
  expect([...a]).toEqual(['setup-2--every-run', 'audit-dir-is-it-safe', 'notes', 'notes-1'])
})

test('every audit rule has its section in docs/audit-rules.md, whose anchor is the rule id', () => {
  const ids = RULES.map(r => r.id)
  expect(ids.length).toBeGreaterThanOrEqual(9)
  const page = anchors(readRepoFile('docs/audit-rules.md'))
  expect(ids.filter(id => !page.has(id))).toEqual([])
})

// A name in backticks that looks like a path of this repository: a folder/file, or a file name with
// one of the repository's extensions. Commands (spaces), packages (@scope/name), absolute paths and
// placeholders (<pid>) are not.
const EXT = /\.(ts|js|mjs|cjs|json|md|ya?ml|sh|tsv)$/
function looksLikePath(s: string): boolean {
  if (/[\s<>$=]/.test(s) || s.startsWith('@') || s.startsWith('/') || /^[a-z]+:/.test(s)) return false
  return s.includes('/') || EXT.test(s)
}

/** Why a path CONTRIBUTING.md names does not exist, or null: a glob (* or …) must match a file, a bare file name some file of that name. */
function missingPath(name: string, all: string[]): string | null {
  const path = name.replace(/…/g, '**').replace(/\/$/, '')
  if (/[*?]/.test(path)) {
    const isMatch = picomatch(path, { dot: true })
    return all.some(f => isMatch(f)) ? null : `${name} matches no file`
  }
  if (!name.includes('/')) return all.some(f => posix.basename(f) === path) ? null : `${name}: no file of that name`
  if (existsSync(join(REPO_ROOT, normalize(path)))) return null
  try {
    execFileSync('git', ['check-ignore', '-q', name], { cwd: REPO_ROOT })
    return null // generated and ignored (.corpus/): named on purpose
  } catch {
    return `${name} does not exist`
  }
}

test('every path CONTRIBUTING.md names in backticks exists', () => {
  const all = repoFiles()
  const contributing = readRepoFile('CONTRIBUTING.md')
  const fenced = [...contributing.matchAll(/^```\w*\n([\s\S]*?)^```/gm)].flatMap(m => m[1].split(/\s+/))
  const names = [...new Set([...codeSpans(contributing), ...fenced].filter(looksLikePath))]
  expect(names.length).toBeGreaterThan(20)
  expect(names.map(n => missingPath(n, all)).filter(Boolean)).toEqual([])
  expect(missingPath('__tests__/*.e2e.test.ts', all)).toMatch('matches no file')
  expect(missingPath('rebuild-output.test.ts', all)).toMatch('no file of that name')
  expect(missingPath('src/core/no-such.ts', all)).toMatch('does not exist')
})

// The Nx Cloud and GitHub concepts a reader may not know, and the page that explains each.
const CONCEPTS: [RegExp, string][] = [
  [/Nx Cloud's security guide|Nx Cloud\s+security guide/, 'https://nx.dev/ci/concepts/cache-security'],
  [/\b(CI access tokens?|Nx Cloud tokens?|read-write token|read-only token)\b/, 'https://nx.dev/ci/recipes/security/access-tokens'],
  [/\b[Pp]ersonal access tokens?\b|\b[Ww]orkspace ID access level\b/, 'https://nx.dev/ci/recipes/security/personal-access-tokens'],
  [/\bencryption key\b/, 'https://nx.dev/ci/recipes/security/encryption'],
  [/\b[Dd]istributed (task )?execution\b/, 'https://nx.dev/ci/features/distribute-task-execution'],
  [/\bsecrets?\b/, 'https://docs.github.com/en/actions/security-for-github-actions/security-guides/using-secrets-in-github-actions'],
  [/\bjob summar(y|ies)\b/, 'https://docs.github.com/en/actions/using-workflows/workflow-commands-for-github-actions#adding-a-job-summary'],
  [/\bActions cache\b/, 'https://docs.github.com/en/actions/reference/workflows-and-actions/dependency-caching'],
  [/\bself-hosted (Nx )?remote cache\b/, 'https://nx.dev/docs/kb/self-hosted-caching'],
  [
    /\bcode scanning\b/,
    'https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/uploading-a-sarif-file-to-github'
  ]
]

/** The concepts a page mentions in its prose (not in code) without linking their page. */
function unlinkedConcepts(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '')
  const targets = new Set(linkTargets(markdown))
  return CONCEPTS.filter(([re, url]) => re.test(prose) && !targets.has(url)).map(([re]) => String(re))
}

test('every user page links the Nx Cloud and GitHub concepts it mentions to their pages', () => {
  const userPages = files.filter(f => f === 'README.md' || f === 'cache/README.md' || /^docs\/(?!POLICY|ARCHITECTURE)[^/]+\.md$/.test(f))
  expect(userPages.length).toBeGreaterThanOrEqual(10)
  const missing = userPages.map(f => ({ f, unlinked: unlinkedConcepts(readRepoFile(f)) })).filter(p => p.unlinked.length > 0)
  expect(missing).toEqual([])
  expect(unlinkedConcepts('Keep the token in a secret.')).toEqual([String(CONCEPTS[5][0])])
  expect(unlinkedConcepts('Keep it in `secrets.X`.')).toEqual([])
})
