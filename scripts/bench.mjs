#!/usr/bin/env node
// npm run bench: the token step's wall time against a bare `node -e 0`, measured side by side in
// one run (alternating, so machine noise hits both alike); prints medians and the median ratio.
// Then runs the other benchmarks of the kit that exist (scripts/bench-*.mjs).
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const entry = join(root, 'dist', 'index.js')
const runs = Number(process.env.BENCH_RUNS ?? 60)

const dir = mkdtempSync(join(tmpdir(), 'nca-bench-'))
const files = Object.fromEntries(['GITHUB_ENV', 'GITHUB_OUTPUT', 'GITHUB_STEP_SUMMARY'].map(n => [n, join(dir, n)]))
writeFileSync(join(dir, 'event.json'), JSON.stringify({ ref: 'refs/heads/main', repository: { full_name: 'acme/monorepo', default_branch: 'main' } }))
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

function time(args, e) {
  for (const f of Object.values(files)) writeFileSync(f, '')
  const t = process.hrtime.bigint()
  const r = spawnSync(process.execPath, args, { env: e, stdio: 'ignore' })
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`)
  return Number(process.hrtime.bigint() - t) / 1e6
}
const median = xs => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

// The floor any @actions/core action pays: a bundle of @actions/core alone, built the same way.
const coreDir = join(root, 'node_modules', '.cache', 'nca-bench')
mkdirSync(coreDir, { recursive: true })
writeFileSync(join(coreDir, 'core-only.mjs'), "import * as core from '@actions/core'\ncore.info('x')\n")
spawnSync('npx', ['ncc', 'build', join(coreDir, 'core-only.mjs'), '-o', join(coreDir, 'dist'), '--minify', '--quiet'], { cwd: root, stdio: 'inherit' })
const coreOnly = join(coreDir, 'dist', 'index.mjs')

// Warm the file cache first.
for (let i = 0; i < 3; i++) {
  time(['-e', '0'], env)
  time([entry], env)
  time([coreOnly], env)
}
const bare = []
const step = []
const core = []
const ratios = []
const coreRatios = []
for (let i = 0; i < runs; i++) {
  const a = time(['-e', '0'], env)
  const b = time([entry], env)
  const c = time([coreOnly], env)
  bare.push(a)
  step.push(b)
  core.push(c)
  ratios.push(b / a)
  coreRatios.push(c / a)
}
const size = readdirSync(join(root, 'dist'))
  .filter(f => f.endsWith('.js') && f === 'index.js')
  .map(f => statSync(join(root, 'dist', f)).size)[0]
console.log(`token step start-up (${runs} alternating pairs, node ${process.version})`)
console.log(`  node -e 0          median ${median(bare).toFixed(1)} ms`)
console.log(`  node dist/index.js median ${median(step).toFixed(1)} ms`)
console.log(`  @actions/core only median ${median(core).toFixed(1)} ms  (${median(coreRatios).toFixed(2)}x: the floor of any action built on it)`)
console.log(`  ratio              median ${median(ratios).toFixed(2)}x  (target <= 3.2x)`)
console.log(`  dist/index.js      ${(size / 1024).toFixed(0)} KB  (target < 600 KB)`)

for (const extra of ['bench-audit.mjs', 'bench-cache.mjs']) {
  const path = join(root, 'scripts', extra)
  if (existsSync(path)) {
    console.log('')
    const r = spawnSync(process.execPath, [path], { stdio: 'inherit' })
    if (r.status !== 0) process.exitCode = 1
  }
}
