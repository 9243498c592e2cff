// A command line that refuses typos: an unknown --event or --input, and an nx.json the action would
// refuse, are bad usage (exit 2) with one message naming the flag and what is accepted, and
// nothing else printed. The inputs `explain` accepts are action.yml's, from one list.

import { describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ACTION_INPUTS } from '../../src/core/inputs.js'
import { readActionYml } from '../helpers/composite-step.js'
import { runCli } from '../helpers/run-cli.js'

const tmp = mkdtempSync(join(tmpdir(), 'nca-explain-typos-'))
const HINT = "Run 'nx-cloud-access explain --help' for its options.\n"

const EVENTS =
  'branch_protection_rule, check_run, check_suite, create, delete, deployment, deployment_status, discussion, ' +
  'discussion_comment, fork, gollum, image_version, issue_comment, issues, label, merge_group, milestone, page_build, ' +
  'project, project_card, project_column, public, pull_request, pull_request_comment, pull_request_review, ' +
  'pull_request_review_comment, pull_request_target, push, registry_package, release, repository_dispatch, schedule, ' +
  'status, watch, workflow_call, workflow_dispatch, workflow_run'

/** Exit 2, stdout empty, stderr exactly the one message and the --help hint. */
function refused(args: string[], message: string, cwd = tmp): void {
  const r = runCli(['explain', ...args], { cwd })
  expect(r.stdout).toBe('')
  expect(r.stderr).toBe(`nx-cloud-access: ${message}\n${HINT}`)
  expect(r.status).toBe(2)
}

describe('--event: a GitHub Actions workflow trigger, or refused', () => {
  it.each([
    ['pul_request', 'pull_request'],
    ['Push', 'push'],
    ['pull-request', 'pull_request'],
    ['workflow-dispatch', 'workflow_dispatch']
  ])('%s is refused, naming the closest event (%s)', (event, near) => {
    refused(['--event', event], `--event '${event}' is not a GitHub Actions event: did you mean ${near}?`)
  })

  it('an event near none is refused, listing the accepted events', () => {
    refused(['--event', 'dynamic'], `--event 'dynamic' is not a GitHub Actions event. Accepted: ${EVENTS}.`)
  })

  it('with --payload too', () => {
    const file = join(tmp, 'payload.json')
    writeFileSync(file, JSON.stringify({ ref: 'refs/heads/main' }))
    refused(['--event', 'pussh', '--payload', file], `--event 'pussh' is not a GitHub Actions event: did you mean push?`)
  })

  it.each([['push'], ['image_version'], ['workflow_call'], ['check_run'], ['gollum']])('%s is accepted', event => {
    const r = runCli(['explain', '--event', event, '--json'], { cwd: tmp })
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(JSON.parse(r.stdout).event).toBe(event)
  })
})

describe('--input: an input of action.yml, or refused', () => {
  const ACCEPTED = ACTION_INPUTS.join(', ')

  it.each([
    ['write-brnches', 'write-branches'],
    ['read_write_token', 'read-write-token'],
    ['workspace-id', 'workspace-id-access']
  ])('%s is refused, naming the closest input (%s)', (name, near) => {
    refused(
      ['--event', 'push', '--input', `${name}=x`],
      `--input '${name}' is not an input of the action (action.yml): did you mean ${near}?`
    )
  })

  it('an input near none (the cache action has max-entries, the token step not) is refused, listing the inputs', () => {
    refused(
      ['--event', 'push', '--input', 'max-entries=x'],
      `--input 'max-entries' is not an input of the action (action.yml). Accepted: ${ACCEPTED}.`
    )
  })

  it('under --all too, and before anything is printed', () => {
    refused(['--all', '--input', 'setpu=2'], `--input 'setpu' is not an input of the action (action.yml): did you mean setup?`)
  })

  it("the accepted inputs are exactly action.yml's inputs, in its order", () => {
    expect([...ACTION_INPUTS]).toEqual(Object.keys(readActionYml().inputs))
  })

  it('every input of action.yml is accepted', () => {
    const args = ACTION_INPUTS.flatMap(name => ['--input', `${name}=`])
    const r = runCli(['explain', '--event', 'push', ...args, '--json'], { cwd: tmp })
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
  })
})

describe('an nx.json the action would refuse is bad usage: exit 2, naming the flag, line and column', () => {
  const bad = mkdtempSync(join(tmp, 'bad-'))
  writeFileSync(join(bad, 'nx.json'), '{\n  "nxCloudId": "x"\n  "nxCloudEncryptionKey": "k"\n}\n')
  const path = join(bad, 'nx.json')
  // In words, not jsonc-parser's code (CommaExpected); never the action's input 'working-directory'.
  const malformed = `${path} is malformed (a comma is missing at line 3, column 3). Accepted: a JSON object, comments and trailing commas allowed, as Nx reads it.`

  it('--dir', () => {
    refused(['--event', 'push', '--dir', bad], malformed)
    refused(['--all', '--dir', bad], malformed)
  })

  it('the current folder (no --dir)', () => {
    refused(['--event', 'push'], malformed, bad)
  })

  it('--nx-json', () => {
    refused(['--event', 'push', '--nx-json', path], `--nx-json: ${malformed}`)
  })

  it('a --dir that does not exist, or is a file, is named by the flag', () => {
    refused(
      ['--event', 'push', '--dir', join(tmp, 'nowhere')],
      `--dir ${join(tmp, 'nowhere')} names ${join(tmp, 'nowhere')}, which does not exist. Accepted: the folder of an Nx workspace (where nx.json is).`
    )
    refused(
      ['--event', 'push', '--dir', path],
      `--dir ${path} names ${path}, which is not a folder. Accepted: the folder of an Nx workspace (where nx.json is).`
    )
  })

  it("--dir with input 'working-directory'", () => {
    const root = mkdtempSync(join(tmp, 'root-'))
    mkdirSync(join(root, 'apps'))
    writeFileSync(join(root, 'apps', 'nx.json'), '[1, 2]')
    refused(
      ['--event', 'push', '--dir', root, '--input', 'working-directory=apps'],
      `${join(root, 'apps', 'nx.json')} is malformed. Accepted: a JSON object, comments and trailing commas allowed, as Nx reads it.`
    )
  })
})

describe('names and files that are not what they seem (found by an attack)', () => {
  it('--input __proto__=x is refused like any unknown input', () => {
    const r = runCli(['explain', '--event', 'push', '--input', '__proto__=x'], { cwd: tmp })
    expect(r.status).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain("'__proto__'")
  })

  it('--nx-json and --payload naming a FIFO are refused at once instead of hanging', () => {
    const fifo = join(tmp, 'fifo')
    execFileSync('mkfifo', [fifo])
    const a = runCli(['explain', '--event', 'push', '--nx-json', fifo], { cwd: tmp, timeout: 15000 })
    expect([a.status, a.stdout]).toEqual([2, ''])
    expect(a.stderr).toContain('not a regular file')
    const b = runCli(['explain', '--event', 'push', '--payload', fifo], { cwd: tmp, timeout: 15000 })
    expect([b.status, b.stdout]).toEqual([2, ''])
    expect(b.stderr).toContain('not a regular file')
  })
})
