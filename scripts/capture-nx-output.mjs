#!/usr/bin/env node
// node scripts/capture-nx-output.mjs: re-captures __tests__/fixtures/nx-output/, the real Nx output the rebuild
// check's table-driven test reads. Every capture is a real run of the installed nx, in the tests'
// workspace (__tests__/helpers/nx-workspace.ts: lib-a ← lib-b ← app), under the environment a
// hosted runner gives a step (GITHUB_ACTIONS=true, CI=true, RUNNER_*, GITHUB_*), with its output
// read through a pipe, as the composite's rebuild step reads it (`… 2>&1 | tee`).
//
// Each command runs in three states: fresh (NX_SKIP_NX_CACHE=true, as the rebuild step sets it),
// local (every task in the local cache), remote (an empty local cache, every task on the loopback
// self-hosted cache server), and mixed for one form (lib-a, lib-b cached, app changed); each with
// Nx's colours (the default under CI) and with NO_COLOR=1, and FORCE_COLOR=1 for the default form.
// manifest.json records, per file: the command, the state, the colour switch and what the rebuild
// check must find (the tasks that ran, the tasks a cache served). The nx version and the date are
// recorded once at its top.
//
// The helpers are TypeScript: this script transpiles the two it needs (they import only node:*).

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import ts from 'typescript'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const OUT = join(ROOT, '__tests__', 'fixtures', 'nx-output')

async function loadHelper(name) {
  const dir = mkdtempSync(join(tmpdir(), 'nca-capture-js-'))
  const src = readFileSync(join(ROOT, '__tests__', 'helpers', `${name}.ts`), 'utf8')
  const js = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } }).outputText
  // import.meta.dirname must still point at __tests__/helpers.
  const file = join(dir, `${name}.mjs`)
  writeFileSync(file, js.replaceAll('import.meta.dirname', JSON.stringify(join(ROOT, '__tests__', 'helpers'))))
  return import(pathToFileURL(file).href)
}

const { makeWorkspace } = await loadHelper('nx-workspace')
const { startCacheServer } = await loadHelper('cache-server')
const { runnerEnv } = await loadHelper('runner-env')

const NX_VERSION = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'nx', 'package.json'), 'utf8')).version
const TOKEN = 'capture-read-write-token'
const ALL = ['lib-a:build', 'lib-b:build', 'app:build']
const PROD = ['lib-a:build:production', 'lib-b:build:production', 'app:build:production']

/**
 * name → [nx arguments, the tasks the command runs]. Every output style nx run-many accepts
 * (`nx run-many --help`), the run-one forms, forwarded arguments, configurations and --quiet.
 */
const FORMS = {
  'run-many': [['run-many', '-t', 'build'], ALL],
  static: [['run-many', '-t', 'build', '--output-style=static'], ALL],
  'static-failures-only': [['run-many', '-t', 'build', '--output-style=static-failures-only'], ALL],
  stream: [['run-many', '-t', 'build', '--output-style=stream'], ALL],
  'stream-without-prefixes': [['run-many', '-t', 'build', '--output-style=stream-without-prefixes'], ALL],
  dynamic: [['run-many', '-t', 'build', '--output-style=dynamic'], ALL],
  'dynamic-legacy': [['run-many', '-t', 'build', '--output-style=dynamic-legacy'], ALL],
  tui: [['run-many', '-t', 'build', '--output-style=tui'], ALL],
  summary: [['run-many', '-t', 'build', '--output-style=summary'], ALL],
  quiet: [['run-many', '-t', 'build', '--quiet'], ALL],
  'run-many-configuration': [['run-many', '-t', 'build', '-c', 'production'], PROD],
  'run-one': [['run', 'app:build'], ALL],
  'run-one-configuration': [['run', 'app:build:production'], PROD],
  'run-one-forwarded': [['build', 'app', '--', '--sourcemap'], ALL],
  'run-one-static': [['run', 'app:build', '--output-style=static'], ALL],
  'run-one-stream': [['run', 'app:build', '--output-style=stream'], ALL]
}

const server = await startCacheServer({ [TOKEN]: 'read-write' })
const ws = makeWorkspace()
// A production configuration for every build, so `-c production` / `app:build:production` exist.
for (const p of ['lib-a', 'lib-b', 'app']) {
  const file = join(ws.dir, 'packages', p, 'package.json')
  const pkg = JSON.parse(readFileSync(file, 'utf8'))
  pkg.nx.targets.build.configurations = { production: { command: `node build.cjs ${p} production` } }
  writeFileSync(file, JSON.stringify(pkg, null, 2))
}

const base = runnerEnv({ workspace: ws.dir })
const nxEnv = {
  ...base.env,
  NX_DAEMON: 'false',
  NX_TUI: 'false',
  NX_NO_CLOUD: 'true',
  NX_CACHE_DIRECTORY: join(ws.dir, '.nx', 'cache'),
  NX_WORKSPACE_DATA_DIRECTORY: join(ws.dir, '.nx', 'workspace-data'),
  NX_SELF_HOSTED_REMOTE_CACHE_SERVER: server.url,
  NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: TOKEN
}

/** Runs nx through a pipe (stdout and stderr into one), as `2>&1 | tee` does in the rebuild step. */
async function nx(args, env) {
  const r = await ws.nx(args, env)
  if (r.status !== 0) throw new Error(`nx ${args.join(' ')} exited ${r.status}:\n${r.output}`)
  return r.output
}

const STATES = {
  fresh: { env: { NX_SKIP_NX_CACHE: 'true' } },
  local: { env: {} },
  remote: { env: {}, emptyLocal: true }
}
const COLOURS = { colour: {}, 'no-color': { NO_COLOR: '1' } }

rmSync(OUT, { recursive: true, force: true })
mkdirSync(OUT, { recursive: true })
const manifest = {
  nx: NX_VERSION,
  captured: new Date().toISOString().slice(0, 10),
  node: process.version,
  environment: Object.fromEntries(
    Object.entries(nxEnv).filter(([k]) =>
      /^(GITHUB_ACTIONS|CI|RUNNER_OS|RUNNER_ARCH|RUNNER_ENVIRONMENT|NX_DAEMON|NX_TUI|NX_NO_CLOUD)$/.test(k)
    )
  ),
  captures: []
}
const save = (file, output, entry) => {
  // The temporary workspace's path and the loopback port differ per capture run: normalise them.
  const text = output.replaceAll(ws.dir, '/home/runner/work/monorepo/monorepo').replaceAll(server.url, 'http://127.0.0.1:PORT')
  writeFileSync(join(OUT, file), text)
  manifest.captures.push({ file, ...entry })
  process.stdout.write(`${file}\n`)
}

// Warm both caches once per task set (as main's CI would have), with no capture.
let localSeq = 0
for (const args of [
  ['run-many', '-t', 'build'],
  ['run-many', '-t', 'build', '-c', 'production']
])
  await nx(args, nxEnv)

for (const [form, [args, tasks]] of Object.entries(FORMS)) {
  for (const [state, spec] of Object.entries(STATES)) {
    for (const [colour, colourEnv] of Object.entries(COLOURS)) {
      const env = { ...nxEnv, ...spec.env, ...colourEnv }
      if (spec.emptyLocal) env.NX_CACHE_DIRECTORY = join(ws.dir, '.nx', `empty-cache-${localSeq++}`)
      const out = await nx(args, env)
      save(`${form}.${state}.${colour}.log`, out, {
        command: `nx ${args.join(' ')}`,
        state,
        env: { ...spec.env, ...colourEnv, ...(spec.emptyLocal ? { NX_CACHE_DIRECTORY: '(a new empty folder)' } : {}) },
        ran: state === 'fresh' ? tasks : [],
        cached: state === 'fresh' ? [] : tasks,
        marker: state === 'fresh' ? null : `${state} cache`,
        // --output-style=summary prints counts, and no task that succeeded.
        named: form !== 'summary'
      })
      // A fresh run leaves new outputs the cache does not hold: put the cached ones back, so the
      // next local capture is a plain hit.
      if (state === 'fresh') await nx(args, nxEnv)
    }
  }
}

// FORCE_COLOR=1, the switch some workflows set, for the default form.
for (const [state, spec] of Object.entries(STATES)) {
  const env = { ...nxEnv, ...spec.env, FORCE_COLOR: '1' }
  if (spec.emptyLocal) env.NX_CACHE_DIRECTORY = join(ws.dir, '.nx', `empty-cache-${localSeq++}`)
  const out = await nx(FORMS['run-many'][0], env)
  save(`run-many.${state}.force-color.log`, out, {
    command: 'nx run-many -t build',
    state,
    env: { ...spec.env, FORCE_COLOR: '1', ...(spec.emptyLocal ? { NX_CACHE_DIRECTORY: '(a new empty folder)' } : {}) },
    ran: state === 'fresh' ? ALL : [],
    cached: state === 'fresh' ? [] : ALL,
    marker: state === 'fresh' ? null : `${state} cache`,
    named: true
  })
  if (state === 'fresh') await nx(FORMS['run-many'][0], nxEnv)
}

// Mixed: app's source changed, so lib-a and lib-b come from the local cache and app:build runs.
for (const [colour, colourEnv] of Object.entries(COLOURS)) {
  writeFileSync(join(ws.dir, 'packages', 'app', 'index.js'), `module.exports = 'app ${colour}'\n`)
  const out = await nx(['run-many', '-t', 'build', '--output-style=static'], { ...nxEnv, ...colourEnv })
  save(`static.mixed.${colour}.log`, out, {
    command: 'nx run-many -t build --output-style=static',
    state: 'mixed',
    env: { ...colourEnv, note: 'packages/app/index.js changed after the cache was warmed' },
    ran: ['app:build'],
    cached: ['lib-a:build', 'lib-b:build'],
    marker: 'local cache',
    named: true
  })
}

// What Nx itself writes into the job summary (GITHUB_STEP_SUMMARY) for a fresh run.
{
  const summary = join(ws.dir, 'step-summary.md')
  writeFileSync(summary, '')
  await nx(FORMS['run-many'][0], { ...nxEnv, NX_SKIP_NX_CACHE: 'true', GITHUB_STEP_SUMMARY: summary })
  save('nx-run-report.step-summary.md', readFileSync(summary, 'utf8'), {
    command: 'nx run-many -t build',
    state: 'fresh',
    env: { NX_SKIP_NX_CACHE: 'true' },
    note: 'the GITHUB_STEP_SUMMARY file after the run, not the log'
  })
}

writeFileSync(join(OUT, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`)
await server.close()
rmSync(ws.dir, { recursive: true, force: true })
process.stdout.write(`${readdirSync(OUT).length} files in ${OUT}\n`)
