// What the cache action's `post` costs to save a run's entries, against its anchor: one
// @actions/cache saveCache of a tar of the same files (what actions/cache does with one archive),
// measured side by side in one run against the loopback Actions cache service
// (__tests__/helpers/actions-cache-service.ts), which answers every request after an injected
// latency as a remote service would. `post` is the real bundle (cache/dist/post, `npm run bundle`
// first), run as the runner runs it, with the state main would hand over.
//
//   node scripts/bench-save.mjs
//     BENCH_BEFORE=/tmp/before    also time that checkout's post bundle (an earlier commit), side by side
//     BENCH_LATENCY_MS=50         latency of every Twirp and blob request
//     BENCH_SAVE_COUNTS=100,500   entries per scenario
//     BENCH_SAVE_RUNS=3           alternating runs per scenario (medians)
//     BENCH_MIN_KB=50 BENCH_MAX_KB=2048   entry sizes: random bytes, log-uniform in this range

import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import ts from 'typescript'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const POST = join(ROOT, 'cache', 'dist', 'post', 'index.js')
const LATENCY = Number(process.env.BENCH_LATENCY_MS ?? 50)
const COUNTS = (process.env.BENCH_SAVE_COUNTS ?? '100,500')
  .split(',')
  .map(Number)
  .filter(n => n > 0)
const RUNS = Number(process.env.BENCH_SAVE_RUNS) || 3
const MIN = (Number(process.env.BENCH_MIN_KB) || 50) * 1024
const MAX = (Number(process.env.BENCH_MAX_KB) || 2048) * 1024
const WORK = join(ROOT, 'node_modules', '.cache', 'nca-bench')
const BEFORE = process.env.BENCH_BEFORE ? join(process.env.BENCH_BEFORE, 'cache', 'dist', 'post', 'index.js') : null
/** The rate-limited row: this many entries against a service that allows 200 created a minute. */
const LIMITED = Number(process.env.BENCH_LIMITED_COUNT ?? 1000)

/** The loopback service, from the tests' TypeScript helper (Node 20 cannot import .ts). */
export async function loadService() {
  mkdirSync(WORK, { recursive: true })
  const src = readFileSync(join(ROOT, '__tests__', 'helpers', 'actions-cache-service.ts'), 'utf8')
  const js = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText
  const out = join(WORK, 'actions-cache-service.mjs')
  writeFileSync(out, js)
  return import(pathToFileURL(out).href)
}

function makeStageSized(count, min, max) {
  const stage = mkdtempSync(join(tmpdir(), 'nca-bench-save-'))
  mkdirSync(join(stage, 'nx-cache'))
  const hashes = []
  for (let i = 0; i < count; i++) {
    const hash = String(20_000_000 + i)
    writeFileSync(join(stage, 'nx-cache', hash), randomBytes(Math.round(min * Math.pow(max / min, Math.random()))))
    hashes.push(hash)
  }
  writeFileSync(join(stage, 'uploads.txt'), hashes.join('\n') + '\n')
  return { stage }
}

function makeStage(count) {
  const stage = mkdtempSync(join(tmpdir(), 'nca-bench-save-'))
  mkdirSync(join(stage, 'nx-cache'))
  let bytes = 0
  const hashes = []
  for (let i = 0; i < count; i++) {
    const size = Math.round(MIN * Math.pow(MAX / MIN, Math.random()))
    const hash = String(10_000_000 + i)
    writeFileSync(join(stage, 'nx-cache', hash), randomBytes(size))
    hashes.push(hash)
    bytes += size
  }
  writeFileSync(join(stage, 'uploads.txt'), hashes.join('\n') + '\n')
  return { stage, bytes }
}

function spawnTimed(args, env, cwd) {
  return new Promise((res, rej) => {
    const t0 = process.hrtime.bigint()
    const child = spawn(process.execPath, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', d => (out += d))
    child.stderr.on('data', d => (out += d))
    child.on('error', rej)
    child.on('close', code => res({ ms: Number(process.hrtime.bigint() - t0) / 1e6, code, out }))
  })
}

function runnerEnv(svc, stage) {
  const dir = mkdtempSync(join(tmpdir(), 'nca-bench-runner-'))
  const files = Object.fromEntries(['GITHUB_ENV', 'GITHUB_OUTPUT', 'GITHUB_STEP_SUMMARY', 'GITHUB_STATE'].map(n => [n, join(dir, n)]))
  for (const f of Object.values(files)) writeFileSync(f, '')
  return {
    dir,
    files,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GITHUB_ACTIONS: 'true',
      CI: 'true',
      RUNNER_OS: 'Linux',
      RUNNER_TEMP: dir,
      GITHUB_WORKSPACE: stage,
      ...files,
      ...svc.env()
    }
  }
}

async function timePost(svc, stage, count, post = POST, expectAll = true) {
  const r = runnerEnv(svc, stage)
  const state = {
    'nca-started': 'true',
    'nca-stage': stage,
    'nca-pid': '0',
    'nca-port': '0',
    'nca-write': 'true',
    'nca-access': 'read-write',
    'nca-reason': 'bench',
    'nca-max-entries': String(count + 1),
    'nca-scope': 'refs/heads/main',
    'nca-scope-kind': 'branch'
  }
  const env = { ...r.env, GITHUB_RUN_ID: String(Date.now()), GITHUB_RUN_ATTEMPT: '1' }
  for (const [k, v] of Object.entries(state)) env[`STATE_${k}`] = v
  const run = await spawnTimed([post], env, stage)
  const outputs = readFileSync(r.files.GITHUB_OUTPUT, 'utf8')
  const saved = /saved<<.*\n(\d+)/.exec(outputs)?.[1] ?? /^saved=(\d+)/m.exec(outputs)?.[1]
  rmSync(r.dir, { recursive: true, force: true })
  if (run.code !== 0 || (expectAll && Number(saved) !== count))
    throw new Error(`post saved ${saved} of ${count} (exit ${run.code}):\n${run.out.slice(-2000)}`)
  return expectAll ? run.ms : { ms: run.ms, saved: Number(saved) }
}

async function timeTar(svc, stage) {
  const r = runnerEnv(svc, stage)
  mkdirSync(WORK, { recursive: true })
  const script = join(WORK, 'anchor-save.mjs')
  writeFileSync(
    script,
    "import { saveCache } from '@actions/cache'\n" +
      "const id = await saveCache(['nx-cache'], 'bench-tar-' + process.pid)\n" +
      'if (id === -1) { console.error("anchor save failed"); process.exit(1) }\n'
  )
  const run = await spawnTimed([script], r.env, stage)
  rmSync(r.dir, { recursive: true, force: true })
  if (run.code !== 0) throw new Error(`anchor save failed:\n${run.out.slice(-2000)}`)
  return run.ms
}

const median = xs => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
const spread = xs => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`

export async function benchSave() {
  const { startActionsCacheService } = await loadService()
  const svc = await startActionsCacheService()
  svc.latencyMs = LATENCY
  // The timed rows measure the saves themselves: no rate limit (the rate-limited row sets GitHub's).
  svc.createsPerWindow = Infinity
  const rows = []
  const limited = []
  try {
    for (const count of COUNTS) {
      const { stage, bytes } = makeStage(count)
      const post = []
      const tar = []
      const ratios = []
      const before = []
      const beforeRatios = []
      for (let i = 0; i < RUNS; i++) {
        const sides = BEFORE ? ['post', 'tar', 'before'] : ['post', 'tar']
        const order = i % 2 === 0 ? sides : [...sides].reverse()
        const pair = {}
        for (const side of order) {
          svc.entries.clear()
          pair[side] =
            side === 'post'
              ? await timePost(svc, stage, count)
              : side === 'before'
                ? await timePost(svc, stage, count, BEFORE)
                : await timeTar(svc, stage)
        }
        post.push(pair.post)
        tar.push(pair.tar)
        ratios.push(pair.post / pair.tar)
        if (BEFORE) {
          before.push(pair.before)
          beforeRatios.push(pair.before / pair.tar)
        }
      }
      rmSync(stage, { recursive: true, force: true })
      rows.push({ count, bytes, post, tar, ratios, before, beforeRatios })
    }
    // The rate limit: LIMITED small entries against 200 created a minute (GitHub's), one run each side.
    if (LIMITED > 0) {
      const { stage } = makeStageSized(LIMITED, 1024, 8 * 1024)
      let skew = 0
      for (const [name, post] of [['after', POST], ...(BEFORE ? [['before', BEFORE]] : [])]) {
        // Each side starts on a fresh minute (the service's clock moved on, not the machine's).
        skew += 61_000
        const at = skew
        svc.now = () => Date.now() + at
        svc.requests.length = 0
        svc.entries.clear()
        svc.createsPerWindow = 200
        svc.windowMs = 60_000
        const r = await timePost(svc, stage, LIMITED, post, false)
        limited.push({ name, ...r, creates: svc.requests.filter(q => q.call === 'CreateCacheEntry' && q.status === 200).length })
        svc.requests.length = 0
        await new Promise(res => setTimeout(res, 0))
      }
      rmSync(stage, { recursive: true, force: true })
    }
  } finally {
    await svc.close()
  }
  console.log(
    `post saving entries vs one saveCache of a tar of the same files (${LATENCY} ms injected on every request, median of ${RUNS} alternating runs, node ${process.version})`
  )
  for (const r of rows) {
    console.log(
      `  ${String(r.count).padStart(4)} entries (${(r.bytes / 1048576).toFixed(0)} MiB)  post ${(median(r.post) / 1000).toFixed(2)} s [${spread(r.post)} ms]  tar ${(median(r.tar) / 1000).toFixed(2)} s [${spread(r.tar)} ms]  ratio ${median(r.ratios).toFixed(2)}x [${Math.min(...r.ratios).toFixed(2)}–${Math.max(...r.ratios).toFixed(2)}]` +
        (r.before.length
          ? `   | before: post ${(median(r.before) / 1000).toFixed(2)} s  ratio ${median(r.beforeRatios).toFixed(2)}x [${Math.min(...r.beforeRatios).toFixed(2)}–${Math.max(...r.beforeRatios).toFixed(2)}]`
          : '')
    )
  }
  if (limited.length) {
    console.log(`post saving ${LIMITED} entries (1–8 KiB) against a service allowing 200 entries created a minute (${LATENCY} ms latency)`)
    for (const l of limited) {
      console.log(
        `  ${l.name.padEnd(6)}  saved ${String(l.saved).padStart(5)} of ${LIMITED}  entries created ${String(l.creates).padStart(4)}  ${(l.ms / 1000).toFixed(2)} s`
      )
    }
  }
  return rows
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchSave().catch(e => {
    console.error(e instanceof Error ? e.message : e)
    process.exit(1)
  })
}
