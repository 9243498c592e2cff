// The published package as a user gets it: `npm pack`, an offline install into an empty folder
// (so nothing but the tarball can be installed), then `npx nx-cloud-access` and the action bundles
// run from node_modules. And the package.json facts that make that true.

import { execFileSync, spawnSync } from 'node:child_process'
import { isBuiltin } from 'node:module'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { parse } from 'yaml'
import { pushPayload } from '../fixtures/payloads.js'
import { REPO_ROOT, runAction } from '../helpers/run-action.js'

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'))

/** npm with no registry it could reach and a cache of its own: anything not in the tarball fails. */
function npm(args: string[], cwd: string, cache: string): string {
  return execFileSync('npm', args, {
    cwd,
    encoding: 'utf8',
    stdio: 'pipe',
    env: {
      PATH: process.env.PATH,
      HOME: cwd,
      npm_config_cache: cache,
      npm_config_registry: 'http://127.0.0.1:9/',
      npm_config_update_notifier: 'false',
      npm_config_fund: 'false',
      npm_config_audit: 'false'
    }
  })
}

describe('npm pack, then an offline install into an empty folder', () => {
  const root = mkdtempSync(join(tmpdir(), 'nca-pack-'))
  const cache = join(root, 'npm-cache')
  const app = join(root, 'app')
  let packed: { filename: string; size: number; unpackedSize: number; files: { path: string }[] }

  beforeAll(() => {
    mkdirSync(app)
    packed = JSON.parse(npm(['pack', '--json', '--pack-destination', root], REPO_ROOT, cache))[0]
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '0.0.0', private: true }))
    npm(['install', '--offline', '--no-audit', '--no-fund', join(root, packed.filename)], app, cache)
  }, 180_000)

  test('the tarball holds the bundles, the action.yml files and the docs, and no sources or tests', () => {
    const files = packed.files.map(f => f.path).sort()
    for (const f of [
      'action.yml',
      'cache/action.yml',
      'README.md',
      'LICENSE',
      'CHANGELOG.md',
      'package.json',
      'dist/index.js',
      'dist/cli/index.js',
      'dist/rebuild/index.js',
      'cache/dist/main/index.js',
      'cache/dist/server/index.js',
      'cache/dist/post/index.js'
    ]) {
      expect(files).toContain(f)
    }
    expect(files.filter(f => !/^(dist|cache\/dist)\//.test(f)).sort()).toEqual(
      // npm packs a README beside any file it packs, whatever `files` says: cache/README.md comes with cache/action.yml
      ['CHANGELOG.md', 'LICENSE', 'README.md', 'action.yml', 'cache/README.md', 'cache/action.yml', 'package.json'].sort()
    )
    expect(files.filter(f => /^(src|__tests__|scripts)\/|\.ts$/.test(f))).toEqual([])
  })

  test('node_modules holds this one package and nothing else', () => {
    const installed = readdirSync(join(app, 'node_modules')).filter(n => !n.startsWith('.'))
    expect(installed).toEqual(['nx-cloud-access'])
    const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8'))
    expect(Object.keys(lock.packages).filter(k => k !== '')).toEqual(['node_modules/nx-cloud-access'])
  })

  test('npx nx-cloud-access --version prints the version, --help the commands', () => {
    expect(npm(['exec', '--offline', '--', 'nx-cloud-access', '--version'], app, cache)).toBe(`${pkg.version}\n`)
    expect(npm(['exec', '--offline', '--', 'nx-cloud-access', '--help'], app, cache)).toMatch(
      /Usage: nx-cloud-access <command>[\s\S]*--version/
    )
  })

  test('npx nx-cloud-access audit runs on a repository', () => {
    const repo = join(REPO_ROOT, '__tests__', 'fixtures', 'audit', 'clean-main-only')
    const out = npm(['exec', '--offline', '--', 'nx-cloud-access', 'audit', repo], app, cache)
    expect(out).toContain('No findings in nx.json and 1 workflow file.')
    const json = spawnSync(
      'npm',
      [
        'exec',
        '--offline',
        '--',
        'nx-cloud-access',
        'audit',
        join(REPO_ROOT, '__tests__/fixtures/audit/step-env-token'),
        '--format',
        'json'
      ],
      {
        cwd: app,
        encoding: 'utf8',
        env: { PATH: process.env.PATH, HOME: app, npm_config_cache: cache, npm_config_registry: 'http://127.0.0.1:9/' }
      }
    )
    expect(json.status).toBe(1)
    expect(JSON.parse(json.stdout).findings.map((f: { rule: string }) => f.rule)).toContain('step-env-token')
  })

  test('the token step bundle runs from the installed package', async () => {
    const installed = join(app, 'node_modules', 'nx-cloud-access')
    const run = await runAction({
      entry: relative(REPO_ROOT, join(installed, 'dist', 'index.js')),
      event: 'push',
      ref: 'refs/heads/main',
      payload: pushPayload('refs/heads/main'),
      inputs: { 'read-write-token': 'rw-token', 'read-only-token': 'ro-token', 'require-encryption': 'false' }
    })
    expect(run.errors).toEqual([])
    expect(run.outputs.access).toBe('read-write')
  })
})

test('package.json: publishable, no runtime dependencies, the one name everywhere', () => {
  expect(pkg.name).toBe('nx-cloud-access')
  expect(pkg.private).toBeUndefined()
  expect(pkg.dependencies ?? {}).toEqual({})
  expect(pkg.bin).toEqual({ 'nx-cloud-access': 'dist/cli/index.js' })
  expect(pkg.repository.url).toBe('git+https://github.com/nx-cloud-access/nx-cloud-access.git')
  expect(pkg.homepage).toMatch(/^https:\/\/github\.com\/nx-cloud-access\/nx-cloud-access\b/)
  expect(pkg.bugs.url).toBe('https://github.com/nx-cloud-access/nx-cloud-access/issues')
})

test("engines.node is the same floor the token step's node check enforces", () => {
  const floor = /^>=(\d+)$/.exec(pkg.engines.node)?.[1]
  expect(floor).toBe('20')
  const script: string = parse(readFileSync(join(REPO_ROOT, 'action.yml'), 'utf8')).runs.steps.find(
    (s: { id?: string }) => s.id === 'policy'
  ).run
  expect(script).toContain(`-lt ${floor} ]`)
  expect(script).toContain(`needs Node.js ${floor} or newer`)
})

test('the bundles load nothing from node_modules: every module they require is built into Node', () => {
  const bundles = ['dist', 'cache/dist'].flatMap(d =>
    readdirSync(join(REPO_ROOT, d), { recursive: true, encoding: 'utf8' })
      .filter(f => f.endsWith('.js'))
      .map(f => join(d, f))
  )
  expect(bundles.length).toBeGreaterThanOrEqual(6)
  const external: string[] = []
  let seen = 0
  for (const b of bundles) {
    // Comment lines (JSDoc examples of the bundled libraries) are not code.
    const code = readFileSync(join(REPO_ROOT, b), 'utf8')
      .split('\n')
      .filter(l => !/^\s*(\*|\/\/)/.test(l))
      .join('\n')
    // ncc leaves only these: createRequire(import.meta.url)("x"), import … from "x", import("x").
    const specifiers = [
      ...code.matchAll(/\(import\.meta\.url\)\("([^"]+)"\)/g),
      ...code.matchAll(/(?<!["'\w.$])import\s*(?:[\w*{}\s,$]+from\s*)?"([^"]+)"/g),
      ...code.matchAll(/(?<!["'\w.$])import\("([^"]+)"\)/g)
    ].map(m => m[1])
    seen += specifiers.length
    for (const s of specifiers) if (!isBuiltin(s) && !s.startsWith('./')) external.push(`${b}: ${s}`)
  }
  expect(seen).toBeGreaterThan(50)
  expect(external).toEqual([])
})
