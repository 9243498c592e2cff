#!/usr/bin/env node
// npm run demo: runs the bundled token step (dist/index.js), as the runner would, against built-in
// sample events for each setup, and prints what each run gets and why. No GitHub, no Nx Cloud.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const entry = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'index.js')
const repo = { full_name: 'acme/monorepo', default_branch: 'main', private: true }
const pr = (head, author = 'octocat') => ({
  pull_request: { user: { login: author }, head: { ref: 'feature', repo: { full_name: head } }, base: { ref: 'main', repo } },
  repository: repo
})
const SAMPLES = [
  ['push to main', 'push', 'refs/heads/main', { ref: 'refs/heads/main', repository: repo }],
  ['push to feature/x', 'push', 'refs/heads/feature/x', { ref: 'refs/heads/feature/x', repository: repo }],
  ['tag v1.2.0', 'push', 'refs/tags/v1.2.0', { ref: 'refs/tags/v1.2.0', repository: repo }],
  ['PR, same repository', 'pull_request', 'refs/pull/7/merge', pr('acme/monorepo')],
  ['PR from a fork', 'pull_request', 'refs/pull/8/merge', pr('mallory/monorepo')],
  ['Dependabot PR', 'pull_request', 'refs/pull/9/merge', pr('acme/monorepo', 'dependabot[bot]')],
  ['pull_request_target', 'pull_request_target', 'refs/heads/main', pr('mallory/monorepo')],
  [
    'merge queue for main',
    'merge_group',
    'refs/heads/gh-readonly-queue/main/pr-7-abc',
    { merge_group: { base_ref: 'refs/heads/main' }, repository: repo }
  ],
  ['nightly schedule', 'schedule', 'refs/heads/main', { schedule: '0 3 * * *' }],
  ['workflow_run', 'workflow_run', 'refs/heads/main', { workflow_run: {}, repository: repo }]
]
const SETUPS = ['main-only', 'ci-read-write', 'shared-read-write', 'off']
const RW = Buffer.from('0b7c3c4e-1d2a-4a5b-9c8d-7e6f5a4b3c2d|read-write').toString('base64')
const RO = Buffer.from('5f1e2d3c-4b5a-4697-8877-665544332211|read-only').toString('base64')

function runOnce(setup, [, event, ref, payload]) {
  const dir = mkdtempSync(join(tmpdir(), 'nca-demo-'))
  const files = Object.fromEntries(['GITHUB_ENV', 'GITHUB_OUTPUT', 'GITHUB_STEP_SUMMARY'].map(n => [n, join(dir, n)]))
  for (const f of Object.values(files)) writeFileSync(f, '')
  writeFileSync(join(dir, 'event.json'), JSON.stringify(payload))
  // setup 3 keeps its read-write token in nx.json
  if (setup === 'shared-read-write') writeFileSync(join(dir, 'nx.json'), JSON.stringify({ nxCloudAccessToken: RW }))
  const inputs = {
    SETUP: setup,
    'ENCRYPTION-KEY': 'demo-key',
    ...(setup === 'shared-read-write' ? {} : { 'READ-WRITE-TOKEN': RW, 'READ-ONLY-TOKEN': RO })
  }
  const env = {
    PATH: process.env.PATH,
    GITHUB_EVENT_NAME: event,
    GITHUB_REF: ref,
    GITHUB_REPOSITORY: 'acme/monorepo',
    GITHUB_EVENT_PATH: join(dir, 'event.json'),
    GITHUB_WORKSPACE: dir,
    ...files,
    ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k}`, v]))
  }
  const r = spawnSync(process.execPath, [entry], { env, encoding: 'utf8' })
  const outputs = {}
  const lines = readFileSync(files.GITHUB_OUTPUT, 'utf8').split('\n')
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<]+)<<(.+)$/.exec(lines[i])
    if (m) outputs[m[1]] = lines[++i]
  }
  return { status: r.status, ...outputs }
}

const bold = s => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s)
const colour = a =>
  !process.stdout.isTTY ? a : a === 'read-write' ? `\x1b[31m${a}\x1b[0m` : a === 'read-only' ? `\x1b[32m${a}\x1b[0m` : `\x1b[2m${a}\x1b[0m`
for (const setup of SETUPS) {
  console.log(`\n${bold(`setup: ${setup}`)}`)
  for (const sample of SAMPLES) {
    const r = runOnce(setup, sample)
    const access = r.status === 0 ? r.access : 'FAILED'
    console.log(`  ${sample[0].padEnd(22)} ${colour(access.padEnd(10))} ${(r['token-source'] ?? '').padEnd(16)} ${r.reason ?? ''}`)
  }
}
