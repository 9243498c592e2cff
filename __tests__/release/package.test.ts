// The published package as a user gets it: `npm pack`, an offline install into an empty folder
// (so nothing but the tarball can be installed), then `npx nx-cloud-access` run from node_modules.
// The package is the command line only: the action and the cache action are used from GitHub
// (`uses: nx-cloud-access/nx-cloud-access@v1`), never from npm. And the package.json facts.

import { execFileSync, spawnSync } from 'node:child_process'
import { isBuiltin } from 'node:module'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'
import { REPO_ROOT } from '../helpers/run-action.js'

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'))

/**
 * Everything `npx nx-cloud-access` needs, and nothing else: the CLI's bundle (one file: it loads no
 * chunk), its `{"type":"module"}`, the licences of what it bundles, and the docs npm shows.
 */
const PACKAGE_FILES = [
  'CHANGELOG.md',
  'LICENSE',
  'README.md',
  'dist/cli/index.js',
  'dist/cli/licenses.txt',
  'dist/cli/package.json',
  'package.json'
]

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

  test('the tarball is the command line: dist/cli and the docs, no action bundle, no sources or tests', () => {
    expect(packed.files.map(f => f.path).sort()).toEqual(PACKAGE_FILES)
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

  test('npx nx-cloud-access explain runs, loading what it loads only on some runs (jsonc-parser, picomatch)', () => {
    // nx.json with a comment needs jsonc-parser; a write-branches glob needs picomatch.
    const nxJson = join(root, 'nx.json')
    writeFileSync(nxJson, '{\n  // the workspace\n  "nxCloudId": "65f0c0ffee0123456789abcd",\n}\n')
    const out = npm(
      [
        'exec',
        '--offline',
        '--',
        'nx-cloud-access',
        'explain',
        '--event',
        'push',
        '--ref',
        'refs/heads/release/1.x',
        '--input',
        'write-branches=release/*',
        '--nx-json',
        nxJson,
        '--json'
      ],
      app,
      cache
    )
    expect(JSON.parse(out).access).toBe('read-write')
  })

  test('the action is not in the package: it is used from GitHub (uses: nx-cloud-access/nx-cloud-access@v1)', () => {
    const installed = join(app, 'node_modules', 'nx-cloud-access')
    for (const f of ['action.yml', 'dist/index.js', 'dist/rebuild', 'cache']) expect(existsSync(join(installed, f))).toBe(false)
  })
})

test('npm pack --dry-run: the package is the command line, about 100 KB to download (2.2 MB when it carried the action bundles)', () => {
  const [dry] = JSON.parse(
    execFileSync('npm', ['pack', '--dry-run', '--json'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { ...process.env, npm_config_update_notifier: 'false' }
    })
  ) as { size: number; unpackedSize: number; files: { path: string }[] }[]
  expect(dry.files.map(f => f.path).sort()).toEqual(PACKAGE_FILES)
  // Limits with room for the CLI to grow, far below the 2,221,280 bytes (10,271,808 unpacked) of the
  // package that carried the token step's and the cache action's bundles.
  expect(dry.size).toBeLessThan(200_000)
  expect(dry.unpackedSize).toBeLessThan(600_000)
})

test('dist/cli/index.js is one file: it has no chunk loader (the token step and the cache bundles do)', () => {
  const loader = /__nccwpck_require__\.[eu]=/
  expect(readFileSync(join(REPO_ROOT, 'dist/cli/index.js'), 'utf8')).not.toMatch(loader)
  // The pattern finds a chunk loader where there is one, so its absence above means something.
  expect(readFileSync(join(REPO_ROOT, 'dist/index.js'), 'utf8')).toMatch(loader)
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
