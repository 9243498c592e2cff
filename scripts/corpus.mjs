#!/usr/bin/env node
// Builds the audit's corpus of real repositories in .corpus/ (git-ignored, never committed):
// from a local git snapshot of each repository listed in __tests__/fixtures/corpus-expected.json,
// it copies only what `audit` reads — .github/workflows/*.y(a)ml, .github/actions/**/action.y(a)ml,
// every nx.json and every package.json — at the recorded commit, and records commit and date in
// .corpus/<owner>__<name>/.corpus.json. Any committed Nx Cloud token (base64 of
// `<uuid>|read-write` / `<uuid>|read-only` / `<uuid>|read`) is replaced by a synthetic token of
// the same level. It copies text only: nothing of theirs is built, installed or run.
//
// Usage: node scripts/corpus.mjs [--mirrors DIR] [--out DIR]
//        node scripts/corpus.mjs --score [--cli FILE]   precision and recall per rule of the bundled
//                                                        audit (or FILE) on the corpus already built
//   --mirrors DIR  where the snapshots are: DIR/<owner>+<name>/repo (a bare git dir) or
//                  DIR/<owner>/<name> (a clone); default /work/.mirror
//   --out DIR      default .corpus
//   --expected F   the judgement to build or score (default __tests__/fixtures/corpus-expected.json;
//                  __tests__/fixtures/corpus-unseen-expected.json holds the repositories judged after tuning)
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'

const ROOT = resolve(import.meta.dirname, '..')
const { values } = parseArgs({
  options: {
    mirrors: { type: 'string', default: '/work/.mirror' },
    out: { type: 'string', default: join(ROOT, '.corpus') },
    score: { type: 'boolean' },
    cli: { type: 'string', default: join(ROOT, 'dist', 'cli', 'index.js') },
    expected: { type: 'string', default: join(ROOT, '__tests__', 'fixtures', 'corpus-expected.json') }
  }
})
const expected = JSON.parse(readFileSync(values.expected, 'utf8'))

/** The files audit reads; nothing else is copied. */
export function wanted(path) {
  if (/(^|\/)node_modules\//.test(path)) return false
  if (/^\.github\/workflows\/[^/]+\.ya?ml$/.test(path)) return true
  if (/^\.github\/actions\/(.+\/)?action\.ya?ml$/.test(path)) return true
  return /(^|\/)(nx|package)\.json$/.test(path)
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\|(read-write|read-only|read)$/i
/** A legacy Nx Cloud token → a synthetic one of the same level (the same suffix), numbered. */
export function scrubTokens(text, counter) {
  return text.replace(/[A-Za-z0-9+/]{40,}={0,2}/g, candidate => {
    const m = UUID.exec(Buffer.from(candidate, 'base64').toString('utf8'))
    if (!m) return candidate
    counter.n += 1
    const id = `00000000-0000-4000-8000-${String(counter.n).padStart(12, '0')}`
    return Buffer.from(`${id}|${m[1]}`).toString('base64')
  })
}

function gitDir(repo) {
  const [owner, name] = repo.split('/')
  for (const d of [
    join(values.mirrors, `${owner}+${name}`, 'repo'),
    join(values.mirrors, owner, name, '.git'),
    join(values.mirrors, owner, name)
  ]) {
    if (existsSync(join(d, 'HEAD'))) return d
  }
  return null
}

const git = (dir, ...args) => execFileSync('git', ['--git-dir', dir, ...args], { encoding: 'utf8', maxBuffer: 256 << 20 })

if (values.score) {
  score()
  process.exit(0)
}

/**
 * What is scored: the default run, plus the deploy-without-rebuild findings of a run under
 * ci-read-write at lines where the default run gives none (ci-read-write is the one setup that adds
 * findings of that rule wherever a deploy builds from the cache).
 */
export function scored(plain, ciReadWrite) {
  const at = new Set(plain.filter(f => f.rule === 'deploy-without-rebuild').map(f => `${f.file}:${f.line}`))
  return [...plain, ...ciReadWrite.filter(f => f.rule === 'deploy-without-rebuild' && !at.has(`${f.file}:${f.line}`))]
}

/** Runs audit on each corpus repository as the corpus test does and prints precision and recall per rule. */
function score() {
  const key = f => `${f.rule} ${f.severity} ${f.file}:${f.line}`
  const rules = new Map()
  const row = r => rules.get(r) ?? rules.set(r, { right: 0, given: 0, real: 0 }).get(r)
  for (const entry of expected.repositories) {
    const dir = join(values.out, entry.repo.replace('/', '__'))
    if (!existsSync(join(dir, '.corpus.json'))) continue
    const run = (...args) =>
      JSON.parse(spawnSync(process.execPath, [values.cli, 'audit', dir, '--format', 'json', ...args], { encoding: 'utf8' }).stdout).findings
    const got = scored(run(), run('--setup', 'ci-read-write'))
    const want = new Set(entry.expected.map(key))
    for (const f of got) {
      row(f.rule).given++
      if (want.has(key(f))) row(f.rule).right++
      else console.log(`${entry.repo}: wrong  ${key(f)}`)
    }
    const have = new Set(got.map(key))
    for (const e of entry.expected) {
      row(e.rule).real++
      if (!have.has(key(e))) console.log(`${entry.repo}: missed ${key(e)}`)
    }
  }
  const pct = (a, b) => (b === 0 ? '   -' : `${((100 * a) / b).toFixed(0).padStart(3)}%`)
  const all = { right: 0, given: 0, real: 0 }
  for (const [rule, n] of [...rules].sort()) {
    console.log(
      `${rule.padEnd(26)} precision ${pct(n.right, n.given)} (${n.right}/${n.given})  recall ${pct(n.right, n.real)} (${n.right}/${n.real})`
    )
    for (const k of Object.keys(all)) all[k] += n[k]
  }
  console.log(
    `${'all rules'.padEnd(26)} precision ${pct(all.right, all.given)} (${all.right}/${all.given})  recall ${pct(all.right, all.real)} (${all.right}/${all.real})`
  )
}

let built = 0
for (const entry of expected.repositories) {
  const dir = gitDir(entry.repo)
  if (!dir) {
    console.error(`${entry.repo}: no snapshot under ${values.mirrors}, skipped`)
    continue
  }
  let commit = entry.commit
  try {
    git(dir, 'cat-file', '-e', `${commit}^{commit}`)
  } catch {
    console.error(`${entry.repo}: commit ${commit} is not in ${dir}, skipped (the judgement is of that commit)`)
    continue
  }
  const date = git(dir, 'show', '-s', '--format=%cI', commit).trim()
  const out = join(values.out, entry.repo.replace('/', '__'))
  rmSync(out, { recursive: true, force: true })
  const files = git(dir, 'ls-tree', '-r', '--name-only', commit).split('\n').filter(wanted)
  const counter = { n: 0 }
  for (const f of files) {
    const text = git(dir, 'show', `${commit}:${f}`)
    mkdirSync(dirname(join(out, f)), { recursive: true })
    writeFileSync(join(out, f), scrubTokens(text, counter))
  }
  writeFileSync(
    join(out, '.corpus.json'),
    JSON.stringify({ repo: entry.repo, commit, date, files: files.length, tokensReplaced: counter.n }, null, 2) + '\n'
  )
  console.log(`${entry.repo}@${commit.slice(0, 12)} (${date}): ${files.length} files, ${counter.n} token(s) replaced`)
  built++
}
console.log(`${built} of ${expected.repositories.length} repositories in ${values.out}`)
