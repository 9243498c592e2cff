// The release process: .github/workflows/release.yml's shape (nothing in it can run here), and
// scripts/release-check.mjs, which the workflow runs to refuse a tag that package.json, the
// CHANGELOG's newest entry or the bundled CLI disagree with, and to cut the release notes.

import { spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'
import { REPO_ROOT } from '../helpers/run-action.js'

interface Step {
  uses?: string
  run?: string
  with?: Record<string, unknown>
  env?: Record<string, string>
}
interface Job {
  needs?: string | string[]
  permissions?: Record<string, string>
  environment?: string
  steps: Step[]
}

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'))
const workflow = parse(readFileSync(join(REPO_ROOT, '.github/workflows/release.yml'), 'utf8')) as {
  on: { push: { tags: string[]; branches?: unknown } }
  permissions: Record<string, string>
  jobs: Record<string, Job>
}
const runs = (job: Job): string => job.steps.map(s => s.run ?? '').join('\n')

function releaseCheck(args: string[], root = REPO_ROOT): { status: number; out: string } {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts/release-check.mjs'), ...args, '--root', root], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH }
  })
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` }
}

/** A copy of what release-check reads: package.json, CHANGELOG.md and the bundled CLI. */
function copyRoot(edit: { version?: string; changelog?: (c: string) => string }): string {
  const root = mkdtempSync(join(tmpdir(), 'nca-release-'))
  writeFileSync(join(root, 'package.json'), JSON.stringify({ ...pkg, version: edit.version ?? pkg.version }))
  const changelog = readFileSync(join(REPO_ROOT, 'CHANGELOG.md'), 'utf8')
  writeFileSync(join(root, 'CHANGELOG.md'), edit.changelog ? edit.changelog(changelog) : changelog)
  cpSync(join(REPO_ROOT, 'dist/cli'), join(root, 'dist/cli'), { recursive: true })
  return root
}

describe('release.yml', () => {
  test('runs on vX.Y.Z tags only, and reads only unless a job says otherwise', () => {
    expect(workflow.on.push.tags).toEqual(['v*.*.*'])
    expect(workflow.on.push.branches).toBeUndefined()
    expect(workflow.permissions).toEqual({ contents: 'read' })
  })

  test('check: the tag agrees with package.json and the CHANGELOG, then the checks of CI', () => {
    const check = workflow.jobs.check
    expect(check.needs).toBeUndefined()
    expect(check.permissions).toBeUndefined()
    const script = runs(check)
    expect(script).toContain('node scripts/release-check.mjs "$GITHUB_REF_NAME"')
    // .ci/run: npm ci, typecheck, npm test, and dist/ is what the sources build.
    expect(script).toContain('bash .ci/run')
    expect(readFileSync(join(REPO_ROOT, '.ci/run'), 'utf8')).toMatch(/npm run bundle\n[\s\S]*git status --porcelain -- dist cache\/dist/)
    expect(script).toContain('npm run lint')
  })

  test('publish: after check, to npm with provenance, the only job with an OIDC token', () => {
    const publish = workflow.jobs.publish
    expect(publish.needs).toBe('check')
    expect(publish.permissions).toEqual({ contents: 'read', 'id-token': 'write' })
    expect(runs(publish)).toContain('npm publish --provenance --access public')
    for (const [name, job] of Object.entries(workflow.jobs)) if (name !== 'publish') expect(job.permissions?.['id-token']).toBeUndefined()
    // Nothing is installed or built between the checked commit and what npm gets.
    expect(runs(publish)).not.toMatch(/npm (ci|install)|npm run bundle/)
  })

  test('github-release: after publish, the release from the CHANGELOG entry, then the major tag', () => {
    const release = workflow.jobs['github-release']
    expect(release.needs).toBe('publish')
    expect(release.permissions).toEqual({ contents: 'write' })
    for (const [name, job] of Object.entries(workflow.jobs))
      if (name !== 'github-release') expect(job.permissions?.contents ?? 'read').toBe('read')
    const script = runs(release)
    expect(script).toContain('node scripts/release-check.mjs "$GITHUB_REF_NAME" --notes "$RUNNER_TEMP/notes.md"')
    expect(script).toMatch(/gh release create "\$TAG" --verify-tag --title "\$TAG" --notes-file "\$RUNNER_TEMP\/notes.md"/)
    expect(script).toContain('major="${TAG%%.*}"')
    expect(script).toContain('git tag --force "$major" "$GITHUB_SHA"')
    expect(script).toContain('git push --force origin "refs/tags/$major"')
    // The tags it compares must be there.
    expect(release.steps.find(s => s.uses?.startsWith('actions/checkout@'))?.with).toMatchObject({ 'fetch-depth': 0 })
  })

  test('every third-party action in a job that can mint an id-token is pinned by commit SHA, its tag in a comment', () => {
    const text = readFileSync(join(REPO_ROOT, '.github/workflows/release.yml'), 'utf8')
    const lines = text.split('\n')
    const oidcJobs = Object.entries(workflow.jobs).filter(([, job]) => job.permissions?.['id-token'] === 'write')
    expect(oidcJobs.map(([name]) => name)).toEqual(['publish'])
    for (const [name, job] of oidcJobs) {
      // The job's lines in the file: from its key to the next job's.
      const start = lines.findIndex(l => l === `  ${name}:`)
      const end = lines.findIndex((l, i) => i > start && /^ {2}[\w-]+:$/.test(l))
      const uses = lines.slice(start, end === -1 ? undefined : end).filter(l => /^\s*-?\s*uses:/.test(l))
      expect(uses).toHaveLength(job.steps.filter(s => s.uses !== undefined).length)
      expect(uses.length).toBeGreaterThan(0)
      for (const line of uses) expect(line).toMatch(/uses: [\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/)
    }
    // The other jobs run the same pinned actions: one place to update (Dependabot keeps the SHAs and comments).
    const pins = new Set(Object.values(workflow.jobs).flatMap(j => j.steps.flatMap(s => (s.uses ? [s.uses] : []))))
    expect([...pins].sort()).toEqual([
      'actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1',
      'actions/setup-node@820762786026740c76f36085b0efc47a31fe5020'
    ])
  })

  describe('a tag whose commit is not on the default branch is refused before publishing', () => {
    const gate = (job: Job): Step | undefined => job.steps.find(s => s.run?.includes('merge-base --is-ancestor'))

    test('check and publish both run the gate before anything else of theirs, with every branch fetched', () => {
      for (const name of ['check', 'publish']) {
        const job = workflow.jobs[name]
        const step = gate(job)
        expect(step?.env).toEqual({ DEFAULT_BRANCH: '${{ github.event.repository.default_branch }}' })
        const index = job.steps.indexOf(step!)
        expect(job.steps.slice(0, index).every(s => s.uses !== undefined)).toBe(true)
        expect(job.steps.find(s => s.uses?.startsWith('actions/checkout@'))?.with).toMatchObject({ 'fetch-depth': 0 })
      }
      expect(gate(workflow.jobs.check)?.run).toBe(gate(workflow.jobs.publish)?.run)
      const publish = workflow.jobs.publish.steps
      expect(publish.indexOf(gate(workflow.jobs.publish)!)).toBeLessThan(publish.findIndex(s => s.run?.includes('npm publish')))
    })

    /** A clone as actions/checkout leaves it with fetch-depth 0: origin's branches as refs/remotes/origin/*. */
    function cloneWith(): { dir: string; sha: (ref: string) => string } {
      const root = mkdtempSync(join(tmpdir(), 'nca-gate-'))
      const git = (cwd: string, ...args: string[]): string => {
        const r = spawnSync('git', args, { cwd, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: root, GIT_CONFIG_NOSYSTEM: '1' } })
        if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`)
        return r.stdout.trim()
      }
      const origin = join(root, 'origin')
      git(root, 'init', '-q', '-b', 'main', origin)
      const commit = (msg: string): void => {
        writeFileSync(join(origin, 'f.txt'), msg)
        git(origin, 'add', 'f.txt')
        git(origin, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', msg)
      }
      commit('one')
      commit('two')
      git(origin, 'checkout', '-q', '-b', 'side')
      commit('side')
      git(origin, 'checkout', '-q', 'main')
      commit('three')
      const dir = join(root, 'clone')
      git(root, 'clone', '-q', '--no-checkout', origin, dir)
      return { dir, sha: ref => git(origin, 'rev-parse', ref) }
    }

    function runGate(dir: string, sha: string, defaultBranch: string): { status: number; out: string } {
      const r = spawnSync('bash', ['-e', '-c', gate(workflow.jobs.publish)!.run!], {
        cwd: dir,
        encoding: 'utf8',
        env: { PATH: process.env.PATH, GITHUB_SHA: sha, GITHUB_REF_NAME: 'v9.9.9', DEFAULT_BRANCH: defaultBranch }
      })
      return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` }
    }

    test("a commit on main passes, an older one too; a side branch's commit is refused, naming the tag", () => {
      const { dir, sha } = cloneWith()
      expect(runGate(dir, sha('main'), 'main').status).toBe(0)
      expect(runGate(dir, sha('main~2'), 'main').status).toBe(0)
      const side = runGate(dir, sha('side'), 'main')
      expect(side.status).toBe(1)
      expect(side.out).toContain(`::error::v9.9.9 (${sha('side')}) is not on main: only a commit on the default branch is released.`)
    })

    test('a default branch the clone does not have, or none at all, fails closed', () => {
      const { dir, sha } = cloneWith()
      expect(runGate(dir, sha('main'), 'trunk').status).not.toBe(0)
      expect(runGate(dir, sha('main'), '').status).not.toBe(0)
    })
  })

  test('the jobs that need no push credentials do not keep them', () => {
    for (const name of ['check', 'publish']) {
      const checkout = workflow.jobs[name].steps.find(s => s.uses?.startsWith('actions/checkout@'))
      expect(checkout?.with?.['persist-credentials']).toBe(false)
    }
  })
})

describe('scripts/release-check.mjs', () => {
  test("this repository's tag for its version passes, and --notes writes the CHANGELOG entry", () => {
    const notes = join(mkdtempSync(join(tmpdir(), 'nca-notes-')), 'notes.md')
    const r = releaseCheck([`v${pkg.version}`, '--notes', notes])
    expect(r).toEqual({ status: 0, out: `v${pkg.version}: package.json, CHANGELOG.md and dist/cli agree on ${pkg.version}.\n` })
    const text = readFileSync(notes, 'utf8')
    const changelog = readFileSync(join(REPO_ROOT, 'CHANGELOG.md'), 'utf8')
    const entry = changelog.slice(changelog.indexOf(`## [${pkg.version}]`))
    expect(text.trim().length).toBeGreaterThan(200)
    expect(entry).toContain(text.trim())
    expect(text).not.toContain('## [')
  })

  test('a tag that is not vX.Y.Z is refused', () => {
    for (const tag of [pkg.version, `v${pkg.version}-rc.1`, 'v1.0', 'v01.0.0', 'latest']) {
      const r = releaseCheck([tag])
      expect(r.status).toBe(1)
      expect(r.out).toContain('is not vX.Y.Z')
    }
  })

  test('a tag package.json disagrees with is refused, and the bundled CLI must print the version too', () => {
    const r = releaseCheck(['v9.9.9'], copyRoot({ version: '9.9.9', changelog: c => c.replace(`## [${pkg.version}]`, '## [9.9.9]') }))
    expect(r.status).toBe(1)
    expect(r.out).toBe(`dist/cli/index.js --version prints ${pkg.version}, not 9.9.9: run npm run bundle and commit dist/.\n`)
    const wrongPkg = releaseCheck([`v${pkg.version}`], copyRoot({ version: '9.9.9' }))
    expect(wrongPkg.status).toBe(1)
    expect(wrongPkg.out).toContain(`package.json has version 9.9.9, the tag v${pkg.version} says ${pkg.version}.`)
  })

  test('a CHANGELOG whose newest entry is another version, undated or empty is refused', () => {
    const other = releaseCheck(
      [`v${pkg.version}`],
      copyRoot({ changelog: c => c.replace('## [Unreleased]\n', '## [Unreleased]\n\n## [9.9.9] - 2027-01-01\n\n- later\n') })
    )
    expect(other.status).toBe(1)
    expect(other.out).toContain(`CHANGELOG.md's newest entry is 9.9.9, the tag v${pkg.version} says ${pkg.version}.`)
    const undated = releaseCheck(
      [`v${pkg.version}`],
      copyRoot({ changelog: c => c.replace(/^## \[(\d+\.\d+\.\d+)\] - [\d-]+$/m, '## [$1]') })
    )
    expect(undated.status).toBe(1)
    expect(undated.out).toContain('has no date')
    const none = releaseCheck([`v${pkg.version}`], copyRoot({ changelog: () => '# Changelog\n\n## [Unreleased]\n' }))
    expect(none.status).toBe(1)
    expect(none.out).toContain('CHANGELOG.md has no released entry')
  })
})

describe('house files', () => {
  test('dependabot: npm and github-actions, weekly, grouped', () => {
    const config = parse(readFileSync(join(REPO_ROOT, '.github/dependabot.yml'), 'utf8'))
    expect(config.version).toBe(2)
    const ecosystems = config.updates.map((u: { 'package-ecosystem': string }) => u['package-ecosystem']).sort()
    expect(ecosystems).toEqual(['github-actions', 'npm'])
    for (const u of config.updates) {
      expect(u.directory).toBe('/')
      expect(u.schedule.interval).toBe('weekly')
      expect(Object.keys(u.groups).length).toBeGreaterThan(0)
    }
  })

  test('CodeQL analyses the TypeScript and the workflows, and may upload the results', () => {
    const codeql = parse(readFileSync(join(REPO_ROOT, '.github/workflows/codeql.yml'), 'utf8'))
    const job = codeql.jobs.analyze
    expect(job.permissions['security-events']).toBe('write')
    expect(job.strategy.matrix.language).toEqual(['javascript-typescript', 'actions'])
    const uses = job.steps.map((s: Step) => s.uses?.split('@')[0])
    expect(uses).toEqual(['actions/checkout', 'github/codeql-action/init', 'github/codeql-action/analyze'])
  })

  test('SECURITY.md says where to report privately and which versions are supported', () => {
    const text = readFileSync(join(REPO_ROOT, 'SECURITY.md'), 'utf8')
    expect(text).toContain('https://github.com/nx-cloud-access/nx-cloud-access/security/advisories/new')
    expect(text).toMatch(/\| 1\.x\s*\| yes/)
  })
})
