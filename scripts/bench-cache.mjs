// What the cache action's local server adds to an nx run, side by side with the same run without
// it. Real nx CLI, the bundled server (cache/dist/server, run `npm run bundle` first), and a
// loopback stand-in of the Actions cache service that answers every lookup "not found" (so a
// miss pays the real @actions/cache lookup path). Runs alternate (without, with, without, …) so
// drift hits both sides alike; each figure is the median wall time of one `nx run-many -t build`.
//
//   node scripts/bench-cache.mjs            (BENCH_RUNS=7, BENCH_PROJECTS=12, BENCH_LATENCY_MS=50 by default)
//   BENCH_SCENARIOS=cold node scripts/bench-cache.mjs   (only the named scenarios, comma-separated)
//
// Scenarios:
//   warm        every task a local-cache hit;      without vs with the server configured
//   cold        every task runs (fresh local cache); without vs with (GET miss + PUT kept)
//   cold-floor  the same, with a stand-in server that answers every GET 404 and every PUT 200 at
//               once and keeps nothing: what Nx itself adds with any remote cache configured (its
//               own GET per task and its upload awaited per task), the floor under 'cold'
//   remote-hit  fresh local cache, all served by the server from its disk  vs  warm local cache without it
//   restore-before  the same with BENCH_BEFORE's server and post bundles (an earlier checkout), side by side
//   pr-storage  not timed: what one pull request run adds to the Actions cache storage (its own scope)
//   restore     fresh runner: fresh local cache and a fresh server, every entry restored from the
//               loopback Actions cache service (__tests__/helpers, BENCH_LATENCY_MS on every
//               request; filled by the real post bundle)  vs  warm local cache without it

import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const NX_BIN = join(ROOT, 'node_modules', 'nx', 'dist', 'bin', 'nx.js')
// BENCH_SERVER: another build of the server bundle (an earlier commit's, to compare).
const SERVER = process.env.BENCH_SERVER ?? join(ROOT, 'cache', 'dist', 'server', 'index.js')
const RUNS = Number(process.env.BENCH_RUNS) || 7
const PROJECTS = Number(process.env.BENCH_PROJECTS) || 12
const POST = join(ROOT, 'cache', 'dist', 'post', 'index.js')
const BEFORE = process.env.BENCH_BEFORE ?? null
const BEFORE_SERVER = BEFORE && join(BEFORE, 'cache', 'dist', 'server', 'index.js')
const BEFORE_POST = BEFORE && join(BEFORE, 'cache', 'dist', 'post', 'index.js')
const LATENCY = Number(process.env.BENCH_LATENCY_MS ?? 50)
const ONLY = process.env.BENCH_SCENARIOS ? new Set(process.env.BENCH_SCENARIOS.split(',').map(s => s.trim())) : null

if (!existsSync(SERVER)) {
  console.error(`${SERVER} is missing: run 'npm run bundle' first.`)
  process.exit(1)
}

// --- a workspace: PROJECTS projects, each depending on the one before it every third -----------
function makeWorkspace() {
  const dir = mkdtempSync(join(tmpdir(), 'nca-bench-ws-'))
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir')
  writeFileSync(
    join(dir, 'build.cjs'),
    `const fs=require('fs'),p=require('path');const n=process.argv[2];const o=p.join('dist',n);fs.mkdirSync(o,{recursive:true});` +
      `fs.writeFileSync(p.join(o,'out.txt'),n.repeat(2000));console.log('built '+n)`
  )
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'bench', private: true, workspaces: ['packages/*'] }))
  writeFileSync(
    join(dir, 'nx.json'),
    JSON.stringify({ targetDefaults: { build: { cache: true, dependsOn: ['^build'], outputs: ['{workspaceRoot}/dist/{projectName}'] } } })
  )
  for (let i = 0; i < PROJECTS; i++) {
    const name = `p${i}`
    const deps = i % 3 === 0 || i === 0 ? {} : { [`p${i - 1}`]: '*' }
    mkdirSync(join(dir, 'packages', name), { recursive: true })
    writeFileSync(join(dir, 'packages', name, 'index.js'), `module.exports = '${name}'\n`)
    writeFileSync(
      join(dir, 'packages', name, 'package.json'),
      JSON.stringify({
        name,
        version: '0.0.0',
        dependencies: deps,
        nx: { targets: { build: { command: `node build.cjs ${name}`, options: { cwd: '{workspaceRoot}' } } } }
      })
    )
  }
  execFileSync('git', ['init', '-q'], { cwd: dir })
  return dir
}

function nxEnv(dir, cacheDir, extra = {}) {
  const env = {}
  for (const [k, v] of Object.entries(process.env)) if (!/^(NX_|INPUT_|GITHUB_|ACTIONS_)/.test(k)) env[k] = v
  return {
    ...env,
    NX_DAEMON: 'false',
    NX_TUI: 'false',
    NX_NO_CLOUD: 'true',
    CI: 'true',
    NX_CACHE_DIRECTORY: cacheDir,
    NX_WORKSPACE_DATA_DIRECTORY: join(dir, '.nx', 'workspace-data'),
    ...extra
  }
}

function runNx(dir, env) {
  return new Promise((res, rej) => {
    const t0 = process.hrtime.bigint()
    const child = spawn(process.execPath, [NX_BIN, 'run-many', '-t', 'build', '--output-style=stream'], { cwd: dir, env })
    let out = ''
    child.stdout.on('data', d => (out += d))
    child.stderr.on('data', d => (out += d))
    child.on('error', rej)
    child.on('close', code => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6
      if (code !== 0) rej(new Error(`nx failed (${code}):\n${out}`))
      else res({ ms, out })
    })
  })
}

// --- the Actions cache service stand-in: every lookup is "not found" -----------------------------
function startService() {
  return new Promise(res => {
    const srv = createServer((req, rsp) => {
      req.resume()
      req.on('end', () => {
        rsp.writeHead(200, { 'content-type': 'application/json' })
        rsp.end(JSON.stringify({ ok: false }))
      })
    })
    srv.listen(0, '127.0.0.1', () => res({ srv, url: `http://127.0.0.1:${srv.address().port}/` }))
  })
}

// --- the floor: a remote cache that does nothing (GET 404, PUT 200, the body read and dropped) ---
function startFloorServer() {
  return new Promise(res => {
    const srv = createServer((req, rsp) => {
      req.resume()
      req.on('end', () => {
        const body = req.method === 'PUT' ? 'stored' : 'miss'
        rsp.writeHead(req.method === 'PUT' ? 200 : 404, { 'content-type': 'text/plain', 'content-length': body.length })
        rsp.end(body)
      })
    })
    srv.listen(0, '127.0.0.1', () =>
      res({
        env: {
          NX_SELF_HOSTED_REMOTE_CACHE_SERVER: `http://127.0.0.1:${srv.address().port}`,
          NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: 'f'.repeat(64)
        },
        stop: () => new Promise(done => srv.close(done))
      })
    )
  })
}

// --- the cache action's server, as main starts it ------------------------------------------------
function startServer(serviceUrl, write, actions = null, server = SERVER, scope = 'refs/heads/main') {
  const stage = mkdtempSync(join(tmpdir(), 'nca-bench-stage-'))
  const token = 'b'.repeat(64)
  const child = spawn(process.execPath, [server], {
    cwd: stage,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: { ...process.env, RUNNER_OS: 'Linux', RUNNER_TEMP: stage }
  })
  // As main hands them over: never in the server's environment (see src/cache/server-launch.ts).
  child.send({
    stage,
    token,
    write,
    maxEntries: 1000,
    maxEntrySize: 512 * 1024 * 1024,
    scope,
    readScopes: [...new Set([scope, 'refs/heads/main'])],
    actions: actions ?? { ACTIONS_RESULTS_URL: serviceUrl, ACTIONS_RUNTIME_TOKEN: 'bench', ACTIONS_CACHE_SERVICE_V2: 'true' }
  })
  return new Promise((res, rej) => {
    child.once('message', m => {
      if (!m.port) return rej(new Error(m.error))
      res({
        env: { NX_SELF_HOSTED_REMOTE_CACHE_SERVER: `http://127.0.0.1:${m.port}`, NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: token },
        stats: async () =>
          (
            await (
              await fetch(`http://127.0.0.1:${m.port}/v1/nx-cloud-access/stats`, { headers: { authorization: `Bearer ${token}` } })
            ).json()
          ).stats,
        stop: () =>
          new Promise(done => {
            child.once('exit', done)
            child.kill('SIGTERM')
          }),
        stage
      })
    })
    child.once('exit', code => rej(new Error(`server exited ${code}`)))
  })
}

/** Saves what a server kept into the loopback service with the real post bundle, as a job's post would. */
async function fillService(svc, stage, post = POST, scope = { ref: 'refs/heads/main' }) {
  const dir = mkdtempSync(join(tmpdir(), 'nca-bench-runner-'))
  const files = Object.fromEntries(['GITHUB_ENV', 'GITHUB_OUTPUT', 'GITHUB_STEP_SUMMARY', 'GITHUB_STATE'].map(n => [n, join(dir, n)]))
  for (const f of Object.values(files)) writeFileSync(f, '')
  const state = {
    started: 'true',
    stage,
    pid: '0',
    port: '0',
    write: 'true',
    access: 'read-write',
    reason: 'bench',
    'max-entries': '100000',
    scope: scope.ref,
    'scope-kind': scope.ref.startsWith('refs/pull/') ? 'pull-request' : 'branch'
  }
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    RUNNER_OS: 'Linux',
    RUNNER_TEMP: dir,
    GITHUB_RUN_ID: String(Date.now()),
    GITHUB_RUN_ATTEMPT: '1',
    ...files,
    ...svc.env(scope)
  }
  for (const [k, v] of Object.entries(state)) env[`STATE_nca-${k}`] = v
  await new Promise((res, rej) => {
    const child = spawn(process.execPath, [post], { env, cwd: stage, stdio: 'ignore' })
    child.on('error', rej)
    child.on('close', res)
  })
  rmSync(dir, { recursive: true, force: true })
}

const median = xs => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

async function main() {
  const service = await startService()
  const dir = makeWorkspace()
  const warmCache = join(dir, '.nx', 'cache-warm')
  const freshCache = () => mkdtempSync(join(tmpdir(), 'nca-bench-cache-'))
  const count = (out, re) => (out.match(re) ?? []).length

  // Warm the local cache and Nx's project graph once; not timed.
  await runNx(dir, nxEnv(dir, warmCache))
  const warmServer = await startServer(service.url, true)
  await runNx(dir, nxEnv(dir, warmCache, warmServer.env))
  const w0 = await warmServer.stats()
  const warmupRequests = w0.hits + w0.misses + w0.stored + w0.conflicts + w0.refused

  // A server holding every entry, for remote hits: fill it with one writing run on a fresh cache;
  // and the loopback Actions cache service, filled by the real post bundle from its stage. Only
  // when a scenario that reads them is run.
  const wanted = name => ONLY === null || ONLY.has(name)
  let fullServer = null
  let loopback = null
  let loopbackBefore = null
  let saved = 0
  let prStorage = null
  if (wanted('remote-hit') || wanted('restore') || wanted('restore-before') || wanted('pr-storage')) {
    fullServer = await startServer(service.url, true)
    await runNx(dir, nxEnv(dir, freshCache(), fullServer.env))
    const { loadService } = await import('./bench-save.mjs')
    const { startActionsCacheService, pullRequestScope } = await loadService()
    loopback = await startActionsCacheService()
    loopback.latencyMs = LATENCY
    await fillService(loopback, fullServer.stage)
    saved = loopback.entries.size
    if (BEFORE && wanted('restore-before')) {
      loopbackBefore = await startActionsCacheService()
      loopbackBefore.latencyMs = LATENCY
      await fillService(loopbackBefore, fullServer.stage, BEFORE_POST)
    }
    if (wanted('pr-storage')) {
      // One pull request run on a fresh runner: one project of PROJECTS changed (and what depends
      // on it rebuilt); what it saves lands in refs/pull/1/merge. Measured on the loopback service.
      const pr = pullRequestScope(1)
      const prEnv = loopback.env(pr)
      const changed = join(dir, 'packages', `p${PROJECTS - 2}`, 'index.js')
      writeFileSync(changed, `module.exports = 'changed in a PR'\n`)
      const s = await startServer(
        null,
        true,
        {
          ACTIONS_RESULTS_URL: prEnv.ACTIONS_RESULTS_URL,
          ACTIONS_RUNTIME_TOKEN: prEnv.ACTIONS_RUNTIME_TOKEN,
          ACTIONS_CACHE_SERVICE_V2: 'true'
        },
        SERVER,
        pr.ref
      )
      const out = await runNx(dir, nxEnv(dir, freshCache(), s.env))
      await s.stop()
      await fillService(loopback, s.stage, POST, pr)
      writeFileSync(changed, `module.exports = 'p${PROJECTS - 2}'\n`)
      const usage = loopback.usage()
      prStorage = { built: PROJECTS - count(out.out, /\[remote cache\]/g), pr: usage.get(pr.ref), main: usage.get('refs/heads/main') }
    }
  }

  const results = []
  const scenarios = [
    {
      name: 'warm',
      what: 'all local hits',
      without: () => runNx(dir, nxEnv(dir, warmCache)),
      with: () => runNx(dir, nxEnv(dir, warmCache, warmServer.env)),
      check: (out, side) =>
        count(out, /\[local cache\]|\[existing outputs match the cache, left as is\]/g) === PROJECTS || `${side}: not all local hits`
    },
    {
      name: 'cold',
      what: 'all tasks run',
      without: () => runNx(dir, nxEnv(dir, freshCache())),
      with: async () => {
        const s = await startServer(service.url, true)
        try {
          return await runNx(dir, nxEnv(dir, freshCache(), s.env))
        } finally {
          await s.stop()
        }
      },
      check: (out, side) => count(out, /\[(local|remote) cache\]/g) === 0 || `${side}: some tasks were cached`
    },
    {
      name: 'cold-floor',
      what: 'all tasks run, against a server that does nothing',
      without: () => runNx(dir, nxEnv(dir, freshCache())),
      with: async () => {
        const s = await startFloorServer()
        try {
          return await runNx(dir, nxEnv(dir, freshCache(), s.env))
        } finally {
          await s.stop()
        }
      },
      check: (out, side) => count(out, /\[(local|remote) cache\]/g) === 0 || `${side}: some tasks were cached`
    },
    {
      name: 'remote-hit',
      what: 'fresh local cache, all from the server, vs local hits',
      without: () => runNx(dir, nxEnv(dir, warmCache)),
      with: () => runNx(dir, nxEnv(dir, freshCache(), fullServer.env)),
      check: (out, side) => side === 'without' || count(out, /\[remote cache\]/g) === PROJECTS || `${side}: not all remote hits`
    },
    {
      name: 'restore',
      what: `fresh runner, all restored from the Actions cache (${LATENCY} ms latency), vs local hits`,
      without: () => runNx(dir, nxEnv(dir, warmCache)),
      with: async () => {
        const { ACTIONS_RESULTS_URL, ACTIONS_RUNTIME_TOKEN, ACTIONS_CACHE_SERVICE_V2 } = loopback.env()
        const s = await startServer(null, false, { ACTIONS_RESULTS_URL, ACTIONS_RUNTIME_TOKEN, ACTIONS_CACHE_SERVICE_V2 })
        try {
          return await runNx(dir, nxEnv(dir, freshCache(), s.env))
        } finally {
          await s.stop()
        }
      },
      check: (out, side) =>
        side === 'without' ||
        count(out, /\[remote cache\]/g) === PROJECTS ||
        `${side}: not all remote hits (${saved} entries in the service)`
    }
  ]

  if (loopbackBefore) {
    scenarios.push({
      name: 'restore-before',
      what: `the same with ${BEFORE}'s server, service filled by its post`,
      without: () => runNx(dir, nxEnv(dir, warmCache)),
      with: async () => {
        const { ACTIONS_RESULTS_URL, ACTIONS_RUNTIME_TOKEN, ACTIONS_CACHE_SERVICE_V2 } = loopbackBefore.env()
        const s = await startServer(null, false, { ACTIONS_RESULTS_URL, ACTIONS_RUNTIME_TOKEN, ACTIONS_CACHE_SERVICE_V2 }, BEFORE_SERVER)
        try {
          return await runNx(dir, nxEnv(dir, freshCache(), s.env))
        } finally {
          await s.stop()
        }
      },
      check: (out, side) => side === 'without' || count(out, /\[remote cache\]/g) === PROJECTS || `${side}: not all remote hits`
    })
  }
  for (const sc of scenarios) {
    if (!wanted(sc.name)) continue
    const a = []
    const b = []
    for (let i = 0; i < RUNS; i++) {
      // Alternate which side goes first, so neither always runs on a warmer machine.
      const order = i % 2 === 0 ? ['without', 'with'] : ['with', 'without']
      for (const side of order) {
        const { ms, out } = await sc[side]()
        const ok = sc.check(out, side)
        if (ok !== true) throw new Error(`${sc.name}: ${ok}\n${out}`)
        ;(side === 'with' ? b : a).push(ms)
      }
    }
    results.push({ ...sc, without: median(a), with: median(b) })
  }
  // On local hits Nx asks the server nothing: what 'warm' adds is Nx's own remote-cache set-up.
  const warmStats = await warmServer.stats()
  const warmRequests = warmStats.hits + warmStats.misses + warmStats.stored + warmStats.conflicts + warmStats.refused
  await warmServer.stop()
  await fullServer?.stop()
  service.srv.close()
  await loopback?.close()
  await loopbackBefore?.close()
  rmSync(dir, { recursive: true, force: true })

  console.log(
    `nx ${PROJECTS} projects, median of ${RUNS} alternating runs each (node ${process.version}; restore: ${LATENCY} ms injected per request)`
  )
  console.log('scenario     without server   with server   ratio   added')
  for (const r of results) {
    console.log(
      `${r.name.padEnd(12)} ${`${r.without.toFixed(0)} ms`.padStart(14)} ${`${r.with.toFixed(0)} ms`.padStart(13)} ${(r.with / r.without).toFixed(2).padStart(7)}x ${`${(r.with - r.without).toFixed(0)} ms`.padStart(8)}   (${r.what})`
    )
  }
  if (prStorage) {
    const f = u => (u ? `${u.entries} entries, ${(u.bytes / 1024).toFixed(1)} KiB` : 'nothing')
    console.log(
      `storage one pull request run adds (1 of ${PROJECTS} projects changed, ${prStorage.built} tasks rebuilt): refs/pull/1/merge ${f(prStorage.pr)}; main's scope ${f(prStorage.main)}`
    )
  }
  console.log(`requests the server saw during the ${RUNS} warm runs with it (beyond the untimed warm-up): ${warmRequests - warmupRequests}`)
}

main().catch(e => {
  console.error(e instanceof Error ? e.message : e)
  process.exit(1)
})
