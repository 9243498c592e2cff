#!/usr/bin/env node
// npm run bench: every figure as a ratio against its anchor, each measured side by side in one run
// (alternating, so machine noise hits both alike):
//   start-up of the token step, the rebuild check and the cache action's main vs `node -e 0`;
//   post saving 100 and 500 entries vs one saveCache of a tar of the same bytes (bench-save.mjs);
//   nx with the cache server vs without: cold, hits from disk, restores from the Actions cache
//   (bench-cache.mjs, BENCH_PROJECTS=100 here); the audit (bench-audit.mjs).
// The save and restore figures run the real bundles against the loopback Actions cache service
// with BENCH_LATENCY_MS (50) injected on every request. On a shared machine, keep it short:
//   BENCH_RUNS=20 BENCH_SAVE_RUNS=1 BENCH_CACHE_RUNS=3 npm run bench
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const entry = join(root, 'dist', 'index.js')
const runs = Number(process.env.BENCH_RUNS ?? 60)
const rebuildEntry = join(root, 'dist', 'rebuild', 'index.js')
const mainEntry = join(root, 'cache', 'dist', 'main', 'index.js')

const dir = mkdtempSync(join(tmpdir(), 'nca-bench-'))
const files = Object.fromEntries(['GITHUB_ENV', 'GITHUB_OUTPUT', 'GITHUB_STEP_SUMMARY'].map(n => [n, join(dir, n)]))
writeFileSync(
  join(dir, 'event.json'),
  JSON.stringify({ ref: 'refs/heads/main', repository: { full_name: 'acme/monorepo', default_branch: 'main' } })
)
const env = {
  PATH: process.env.PATH,
  GITHUB_EVENT_NAME: 'push',
  GITHUB_REF: 'refs/heads/main',
  GITHUB_REPOSITORY: 'acme/monorepo',
  GITHUB_EVENT_PATH: join(dir, 'event.json'),
  GITHUB_WORKSPACE: dir,
  ...files,
  'INPUT_READ-WRITE-TOKEN': 'rw-bench-token',
  'INPUT_READ-ONLY-TOKEN': 'ro-bench-token',
  'INPUT_ENCRYPTION-KEY': 'bench-key'
}
writeFileSync(join(dir, 'rebuild.log'), '> nx run app:build\n\nSuccessfully ran target build for project app\n')
// The rebuild check reads the captured log; the cache action's main with setup off decides and
// exits without a server, so what is timed is its start-up and decision.
const rebuildEnv = { ...env, NCA_REBUILD_LOG: join(dir, 'rebuild.log') }
const mainEnv = { ...env, INPUT_SETUP: 'off', RUNNER_TEMP: dir }

function time(args, e) {
  for (const f of Object.values(files)) writeFileSync(f, '')
  const t = process.hrtime.bigint()
  const r = spawnSync(process.execPath, args, { env: e, stdio: 'ignore' })
  if (r.status !== 0 && !args[0].includes('rebuild')) throw new Error(`${args.join(' ')} exited ${r.status}`)
  return Number(process.hrtime.bigint() - t) / 1e6
}
const median = xs => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

// The floor any @actions/core action pays: a bundle of @actions/core alone, built the same way.
const coreDir = join(root, 'node_modules', '.cache', 'nca-bench')
mkdirSync(coreDir, { recursive: true })
writeFileSync(join(coreDir, 'core-only.mjs'), "import * as core from '@actions/core'\ncore.info('x')\n")
spawnSync('npx', ['ncc', 'build', join(coreDir, 'core-only.mjs'), '-o', join(coreDir, 'dist'), '--minify', '--quiet'], {
  cwd: root,
  stdio: 'inherit'
})
const coreOnly = join(coreDir, 'dist', 'index.mjs')

const programs = [
  ['token step (dist/index.js)', [entry], env],
  ['rebuild check (dist/rebuild)', [rebuildEntry], rebuildEnv],
  ['cache main (cache/dist/main)', [mainEntry], mainEnv],
  ['@actions/core alone', [coreOnly], env]
]
// Warm the file cache first.
for (let i = 0; i < 3; i++) {
  time(['-e', '0'], env)
  for (const [, args, e] of programs) time(args, e)
}
const bare = []
const times = programs.map(() => [])
const ratios = programs.map(() => [])
for (let i = 0; i < runs; i++) {
  const a = time(['-e', '0'], env)
  bare.push(a)
  programs.forEach(([, args, e], j) => {
    const b = time(args, e)
    times[j].push(b)
    ratios[j].push(b / a)
  })
}
const kb = f => `${(statSync(join(root, f)).size / 1024).toFixed(0)} KB`
const sizes = [kb('dist/index.js'), kb('dist/rebuild/index.js'), kb('cache/dist/main/index.js'), '']
const q = xs => {
  const s = [...xs].sort((a, b) => a - b)
  return `${s[Math.floor(s.length / 4)].toFixed(2)}–${s[Math.floor((3 * s.length) / 4)].toFixed(2)}`
}
console.log(`start-up vs node -e 0 (${runs} alternating rounds, node ${process.version}; target <= 2.0x)`)
console.log(`  node -e 0                      median ${median(bare).toFixed(1)} ms`)
programs.forEach(([name], j) => {
  console.log(
    `  ${name.padEnd(30)} median ${median(times[j]).toFixed(1).padStart(5)} ms  ratio ${median(ratios[j]).toFixed(2)}x  [IQR ${q(ratios[j])}]  ${sizes[j]}`
  )
})

console.log('')
const { benchSave } = await import('./bench-save.mjs')
await benchSave()

for (const extra of ['bench-cache.mjs', 'bench-audit.mjs']) {
  const path = join(root, 'scripts', extra)
  if (existsSync(path)) {
    console.log('')
    const e = { ...process.env, BENCH_PROJECTS: process.env.BENCH_PROJECTS ?? '100', BENCH_RUNS: process.env.BENCH_CACHE_RUNS ?? '3' }
    const r = spawnSync(process.execPath, [path], { stdio: 'inherit', env: e })
    if (r.status !== 0) process.exitCode = 1
  }
}
