#!/usr/bin/env node
// Before a release is published: the tag, package.json's version, the CHANGELOG's newest entry and
// the version the bundled CLI prints must all agree. Used by .github/workflows/release.yml and by
// __tests__/release/release-workflow.test.ts.
//
//   node scripts/release-check.mjs <tag> [--notes FILE] [--root DIR]
//
// <tag> is vX.Y.Z. --notes writes that version's CHANGELOG entry (without its heading) to FILE, for
// the GitHub release. Prints one line per problem and exits 1 if any; exits 2 on bad usage.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const TAG = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/
// Keep a Changelog headings: `## [Unreleased]`, `## [1.0.0] - 2026-11-29`.
const HEADING = /^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?\s*$/

/** The CHANGELOG's entries in file order: version, date and body (up to the next `## `). */
export function changelogEntries(text) {
  const entries = []
  let current
  for (const line of text.split('\n')) {
    const m = HEADING.exec(line)
    if (m) {
      current = { version: m[1], date: m[2], body: [] }
      entries.push(current)
    } else if (/^## /.test(line)) {
      current = { version: undefined, date: undefined, body: [], malformed: line }
      entries.push(current)
    } else if (/^\[[^\]]+\]: /.test(line)) {
      current = undefined // link references at the end belong to no entry
    } else if (current) {
      current.body.push(line)
    }
  }
  return entries.map(e => ({ ...e, body: e.body.join('\n').trim() }))
}

/** Every way the tag, package.json, CHANGELOG.md and dist/cli/index.js disagree. */
export function releaseProblems(tag, root) {
  const problems = []
  const m = TAG.exec(tag ?? '')
  if (!m) return [`Tag '${tag}' is not vX.Y.Z (three numbers, no leading zeros, no suffix).`]
  const version = tag.slice(1)

  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  if (pkg.version !== version) problems.push(`package.json has version ${pkg.version}, the tag ${tag} says ${version}.`)
  if (pkg.private) problems.push('package.json is private: npm would refuse to publish it.')

  const changelog = existsSync(join(root, 'CHANGELOG.md')) ? readFileSync(join(root, 'CHANGELOG.md'), 'utf8') : ''
  const entries = changelogEntries(changelog).filter(e => e.version !== 'Unreleased')
  const top = entries[0]
  if (!top) problems.push('CHANGELOG.md has no released entry (## [X.Y.Z] - YYYY-MM-DD).')
  else if (top.malformed) problems.push(`CHANGELOG.md's newest entry heading is not '## [X.Y.Z] - YYYY-MM-DD': ${top.malformed}`)
  else {
    if (top.version !== version) problems.push(`CHANGELOG.md's newest entry is ${top.version}, the tag ${tag} says ${version}.`)
    if (!top.date) problems.push(`CHANGELOG.md's entry ${top.version} has no date (## [${top.version}] - YYYY-MM-DD).`)
    if (top.body === '') problems.push(`CHANGELOG.md's entry ${top.version} is empty.`)
  }

  const cli = join(root, 'dist', 'cli', 'index.js')
  if (!existsSync(cli)) problems.push('dist/cli/index.js is missing: run npm run bundle.')
  else {
    const printed = execFileSync(process.execPath, [cli, '--version'], { encoding: 'utf8' }).trim()
    if (printed !== version)
      problems.push(`dist/cli/index.js --version prints ${printed}, not ${version}: run npm run bundle and commit dist/.`)
  }
  return problems
}

function main() {
  let parsed
  try {
    parsed = parseArgs({ allowPositionals: true, options: { notes: { type: 'string' }, root: { type: 'string', default: '.' } } })
  } catch (e) {
    console.error(`release-check: ${e.message}`)
    process.exit(2)
  }
  const { values, positionals } = parsed
  if (positionals.length !== 1) {
    console.error('Usage: node scripts/release-check.mjs <vX.Y.Z> [--notes FILE] [--root DIR]')
    process.exit(2)
  }
  const [tag] = positionals
  const root = resolve(values.root)
  const problems = releaseProblems(tag, root)
  for (const p of problems) console.log(process.env.GITHUB_ACTIONS === 'true' ? `::error::${p}` : p)
  if (problems.length > 0) process.exit(1)
  const version = tag.slice(1)
  if (values.notes) {
    const entry = changelogEntries(readFileSync(join(root, 'CHANGELOG.md'), 'utf8')).find(e => e.version === version)
    writeFileSync(values.notes, `${entry.body}\n`)
  }
  console.log(`${tag}: package.json, CHANGELOG.md and dist/cli agree on ${version}.`)
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main()
