// Times `nx-cloud-access audit` on a generated monorepo with 200 workflow files (the audit's promise: "well
// under a second"). Runs the bundled CLI (dist/cli/index.js, as `npx nx-cloud-access` does) as a
// child process, so the figure includes Node's start-up; prints the median of several runs and the
// peak memory (max RSS) of the audit process.
// Usage: node scripts/bench-audit.mjs [--workflows N] [--runs N] [--keep DIR] [--compare OLD_CLI]
//   (run `npm run bundle` first). Memory should not grow with the number of files: compare
//   `--workflows 200` with `--workflows 5000 --runs 1`. --compare times another bundle (say a copy of
//   an older dist/cli/index.js) in the same runs, alternating with this one, so load affects both alike.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    workflows: { type: 'string', default: '200' },
    runs: { type: 'string', default: '9' },
    keep: { type: 'string' },
    compare: { type: 'string' }
  }
})
const WORKFLOWS = Number(values.workflows)
const RUNS = Number(values.runs)
const CLI = resolve(import.meta.dirname, '..', 'dist', 'cli', 'index.js')
if (!existsSync(CLI)) {
  console.error(`${CLI} is missing: run 'npm run bundle' first.`)
  process.exit(2)
}

const SHA = 'de0fac2e4500dabe0009e67214ff5f5447ce83dd'
const RO = Buffer.from('5f1e2d3c-4b5a-4697-8877-665544332211|read-only').toString('base64')

/** A workflow of a typical monorepo: several jobs, an anchored kit step, env blocks, a deploy. */
function workflow(i) {
  const triggers = ['[push, pull_request]', 'pull_request_target', '[push, merge_group]', 'workflow_dispatch'][i % 4]
  const setup = i % 3 === 0 ? 'ci-read-write' : 'main-only'
  const ref = i % 10 === 0 ? 'v1' : i % 17 === 0 ? 'main' : SHA
  const jobs = []
  for (let j = 0; j < 6; j++) {
    jobs.push(`  job-${j}:
    runs-on: ubuntu-latest
    ${j === 5 ? 'environment: production' : ''}
    env:
      NX_BRANCH: \${{ github.head_ref }}
      ${i % 7 === 0 && j === 1 ? 'NX_CLOUD_ACCESS_TOKEN: ${{ secrets.NX_CLOUD_READ_WRITE }}' : 'NODE_OPTIONS: --max-old-space-size=4096'}
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      - uses: actions/setup-node@v4
        with:
          node-version: 24
          cache: npm
      - run: npm ci
      ${j === 0 ? '- &kit' : '- *kit'}
      ${
        j === 0
          ? `  uses: acme/nx-cloud-access@${ref}
        with:
          setup: ${setup}
          read-write-token: \${{ secrets.NX_CLOUD_READ_WRITE }}
          encryption-key: \${{ secrets.NX_CLOUD_ENCRYPTION_KEY }}`
          : ''
      }
      - uses: nrwl/nx-set-shas@v4
      - name: ${j === 5 ? 'Deploy' : 'Build'} part ${j}
        run: |
          npx nx affected -t lint test build --parallel=3 --configuration=ci
          npx nx-cloud record -- node tools/report.js ${j}
        ${i % 11 === 0 && j === 2 ? 'env:\n          NX_CLOUD_AUTH_TOKEN: ${{ secrets.NX_CLOUD_READ_WRITE }}' : ''}
`)
  }
  return `name: Workflow ${i}\non: ${triggers}\nenv:\n  CI: true\njobs:\n${jobs.join('')}`
}

// --keep DIR writes the generated repository there and leaves it (to profile or inspect).
const root = values.keep ? resolve(values.keep) : mkdtempSync(join(tmpdir(), 'nca-bench-'))
try {
  mkdirSync(join(root, '.github', 'workflows'), { recursive: true })
  writeFileSync(join(root, 'nx.json'), JSON.stringify({ nxCloudAccessToken: RO }, null, 2))
  for (let i = 0; i < WORKFLOWS; i++) writeFileSync(join(root, '.github', 'workflows', `wf-${String(i).padStart(3, '0')}.yml`), workflow(i))

  // The child reports its own peak RSS on exit (the time includes this one-line preload).
  const PEAK = `data:text/javascript,process.on('exit',()=>process.stderr.write('\\nmaxrss '+process.resourceUsage().maxRSS+' cpu '+(process.cpuUsage().user+process.cpuUsage().system)+'\\n'))`
  const once = cli => {
    const start = process.hrtime.bigint()
    const r = spawnSync(process.execPath, ['--import', PEAK, cli, 'audit', root, '--format', 'json'], {
      encoding: 'utf8',
      maxBuffer: 256 << 20
    })
    const ms = Number(process.hrtime.bigint() - start) / 1e6
    if (r.status !== 0 && r.status !== 1) throw new Error(`audit exited ${r.status}: ${r.stderr}`)
    return {
      ms,
      findings: JSON.parse(r.stdout).findings.length,
      rssMiB: Number(/maxrss (\d+)/.exec(r.stderr)?.[1] ?? NaN) / 1024,
      cpuMs: Number(/ cpu (\d+)/.exec(r.stderr)?.[1] ?? NaN) / 1000
    }
  }
  const clis = values.compare ? [CLI, resolve(values.compare)] : [CLI]
  for (const cli of clis) once(cli) // warm the file cache
  const stats = clis.map(() => ({ times: [], cpu: [], rss: 0, findings: 0 }))
  for (let k = 0; k < RUNS; k++) {
    clis.forEach((cli, c) => {
      const r = once(cli)
      stats[c].times.push(r.ms)
      stats[c].cpu.push(r.cpuMs)
      stats[c].rss = Math.max(stats[c].rss, r.rssMiB)
      stats[c].findings = r.findings
    })
  }
  for (const s of stats) for (const list of [s.times, s.cpu]) list.sort((a, b) => a - b)
  const mid = list => list[Math.floor(list.length / 2)].toFixed(0)
  const { times, findings } = stats[0]
  const median = times[Math.floor(times.length / 2)]
  const nodeStart = (() => {
    const t = []
    for (let k = 0; k < RUNS; k++) {
      const s = process.hrtime.bigint()
      execFileSync(process.execPath, ['-e', '0'])
      t.push(Number(process.hrtime.bigint() - s) / 1e6)
    }
    return t.sort((a, b) => a - b)[Math.floor(t.length / 2)]
  })()
  console.log(
    `audit: ${WORKFLOWS} workflow files, ${findings} findings: median ${median.toFixed(0)} ms over ${RUNS} runs ` +
      `(min ${times[0].toFixed(0)}, max ${times[times.length - 1].toFixed(0)}; bare node start-up ${nodeStart.toFixed(0)} ms; ` +
      `${availableParallelism()} CPUs, load average ${loadavg()[0].toFixed(1)}); CPU time median ${mid(stats[0].cpu)} ms; peak RSS ${stats[0].rss.toFixed(0)} MiB`
  )
  if (values.compare) {
    const o = stats[1]
    console.log(
      `  vs ${values.compare}: ${o.findings} findings: median ${o.times[Math.floor(o.times.length / 2)].toFixed(0)} ms ` +
        `(min ${o.times[0].toFixed(0)}, max ${o.times[o.times.length - 1].toFixed(0)}); CPU time median ${mid(o.cpu)} ms; peak RSS ${o.rss.toFixed(0)} MiB`
    )
  }
} finally {
  if (!values.keep) rmSync(root, { recursive: true, force: true })
}
