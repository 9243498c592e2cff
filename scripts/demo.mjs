#!/usr/bin/env node
// npm run demo: runs the bundled token step (dist/index.js), as the runner would (GITHUB_ACTIONS,
// CI, RUNNER_*, the file commands), against sample events for two kinds of workspace, and prints
// what each run gets and why. No GitHub, no Nx Cloud.
//
// As on GitHub, a pull request from a fork and a Dependabot pull request get no secrets: their
// `${{ secrets.* }}` inputs are empty.
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const entry = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'index.js')
const repo = { full_name: 'acme/monorepo', default_branch: 'main', private: true }
const pr = (head, author = 'octocat') => ({
  pull_request: { user: { login: author }, head: { ref: 'feature', repo: { full_name: head } }, base: { ref: 'main', repo } },
  repository: repo,
  sender: { login: author }
})
/** [label, event, ref, payload, actor, GitHub withholds secrets] */
const SAMPLES = [
  ['push to main', 'push', 'refs/heads/main', { ref: 'refs/heads/main', repository: repo }],
  ['push to feature/x', 'push', 'refs/heads/feature/x', { ref: 'refs/heads/feature/x', repository: repo }],
  ['tag v1.2.0', 'push', 'refs/tags/v1.2.0', { ref: 'refs/tags/v1.2.0', repository: repo }],
  ['PR, same repository', 'pull_request', 'refs/pull/7/merge', pr('acme/monorepo')],
  ['PR from a fork', 'pull_request', 'refs/pull/8/merge', pr('mallory/monorepo'), 'mallory', true],
  ['Dependabot PR', 'pull_request', 'refs/pull/9/merge', pr('acme/monorepo', 'dependabot[bot]'), 'dependabot[bot]', true],
  ['pull_request_target', 'pull_request_target', 'refs/heads/main', pr('mallory/monorepo'), 'mallory'],
  [
    'merge queue for main',
    'merge_group',
    'refs/heads/gh-readonly-queue/main/pr-7-abc',
    { merge_group: { base_ref: 'refs/heads/main' }, repository: repo }
  ],
  ['nightly schedule', 'schedule', 'refs/heads/main', { schedule: '0 3 * * *' }],
  ['workflow_run', 'workflow_run', 'refs/heads/main', { workflow_run: {}, repository: repo }]
]
const RW = Buffer.from('0b7c3c4e-1d2a-4a5b-9c8d-7e6f5a4b3c2d|read-write').toString('base64')
const RO = Buffer.from('5f1e2d3c-4b5a-4697-8877-665544332211|read-only').toString('base64')
const CI_RW = Buffer.from('9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d|read-write').toString('base64')
const CI_RO = Buffer.from('1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d|read-only').toString('base64')

/**
 * The workspaces and the action's `with:` for each. `secrets` are inputs GitHub fills from secrets
 * (empty on runs it gives none); `inputs` are plain values.
 */
const WORKSPACES = [
  {
    title: "the security guide's workspace: read-only token and key in nx.json, read-write token in a secret",
    nx: setup => (setup === 'shared-read-write' ? { nxCloudAccessToken: RW } : { nxCloudAccessToken: RO }),
    key: { nxCloudEncryptionKey: 'demo-encryption-key' },
    runs: ['main-only', 'ci-read-write', 'shared-read-write', 'off'].map(setup => ({
      heading: `setup: ${setup}`,
      inputs: { SETUP: setup },
      secrets: setup === 'shared-read-write' ? {} : { 'READ-WRITE-TOKEN': RW }
    }))
  },
  {
    title: 'an nxCloudId workspace: nxCloudId in nx.json, no token; CI access tokens and the key in secrets',
    nx: () => ({ nxCloudId: '64f0c0ffee00000000000000' }),
    key: {},
    runs: ['none', 'read-only'].map(level => ({
      heading: `setup: main-only, workspace-id-access: ${level}`,
      inputs: { SETUP: 'main-only', 'WORKSPACE-ID-ACCESS': level },
      secrets: { 'READ-WRITE-TOKEN': CI_RW, 'READ-ONLY-TOKEN': CI_RO, 'ENCRYPTION-KEY': 'demo-encryption-key' }
    }))
  },
  {
    title: 'an nxCloudId workspace with its key committed: nxCloudId and key in nx.json; only the read-write CI token in a secret',
    nx: () => ({ nxCloudId: '64f0c0ffee00000000000000' }),
    key: { nxCloudEncryptionKey: 'demo-encryption-key' },
    runs: ['none', 'read-only'].map(level => ({
      heading: `setup: main-only, workspace-id-access: ${level}`,
      inputs: { SETUP: 'main-only', 'WORKSPACE-ID-ACCESS': level },
      secrets: { 'READ-WRITE-TOKEN': CI_RW }
    }))
  }
]

function runOnce(workspace, run, [, event, ref, payload, actor = 'octocat', withheld = false]) {
  const dir = mkdtempSync(join(tmpdir(), 'nca-demo-'))
  const temp = join(dir, 'runner-temp')
  mkdirSync(temp)
  const files = Object.fromEntries(['GITHUB_ENV', 'GITHUB_OUTPUT', 'GITHUB_STEP_SUMMARY', 'GITHUB_STATE'].map(n => [n, join(dir, n)]))
  for (const f of Object.values(files)) writeFileSync(f, '')
  writeFileSync(join(dir, 'event.json'), JSON.stringify(payload))
  writeFileSync(join(dir, 'nx.json'), JSON.stringify({ ...workspace.nx(run.inputs.SETUP), ...workspace.key }))
  const secrets = Object.fromEntries(Object.entries(run.secrets).map(([k, v]) => [k, withheld ? '' : v]))
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_ENVIRONMENT: 'github-hosted',
    RUNNER_TEMP: temp,
    GITHUB_EVENT_NAME: event,
    GITHUB_REF: ref,
    GITHUB_ACTOR: actor,
    GITHUB_REPOSITORY: 'acme/monorepo',
    GITHUB_EVENT_PATH: join(dir, 'event.json'),
    GITHUB_WORKSPACE: dir,
    ...files,
    ...Object.fromEntries(Object.entries({ ...run.inputs, ...secrets }).map(([k, v]) => [`INPUT_${k}`, v]))
  }
  const r = spawnSync(process.execPath, [entry], { env, encoding: 'utf8' })
  const outputs = {}
  const lines = readFileSync(files.GITHUB_OUTPUT, 'utf8').split('\n')
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<]+)<<(.+)$/.exec(lines[i])
    if (m) outputs[m[1]] = lines[++i]
  }
  const error = /^::error::(.*)$/m.exec(r.stdout)?.[1]
  return { status: r.status, error, ...outputs }
}

const tty = process.stdout.isTTY
const bold = s => (tty ? `\x1b[1m${s}\x1b[0m` : s)
const colour = a =>
  !tty ? a : a.startsWith('read-write') ? `\x1b[31m${a}\x1b[0m` : a.startsWith('read-only') ? `\x1b[32m${a}\x1b[0m` : `\x1b[2m${a}\x1b[0m`
console.log('Fork and Dependabot pull requests get no secrets here, as on GitHub.')
for (const workspace of WORKSPACES) {
  console.log(`\n${bold(`== ${workspace.title}`)}`)
  for (const run of workspace.runs) {
    console.log(`\n${bold(run.heading)}`)
    for (const sample of SAMPLES) {
      const r = runOnce(workspace, run, sample)
      const access = r.status === 0 ? r.access : 'FAILED'
      const why = r.status === 0 ? (r.reason ?? '') : (r.error ?? '')
      console.log(`  ${sample[0].padEnd(22)} ${colour(access.padEnd(10))} ${(r['token-source'] ?? '').padEnd(16)} ${why}`)
    }
  }
}
