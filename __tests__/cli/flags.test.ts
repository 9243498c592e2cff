// Command-line errors a person can act on: a mistyped flag names the closest flag the command
// documents, a missing value shows the value the flag takes, a value that looks like a mistake
// (`--ref main`) says what it would be taken as and what was probably meant, and nothing prints
// Node's own parseArgs wording. Through the bundled command line, as `npx nx-cloud-access` runs it.

import { describe, expect, it } from '@jest/globals'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AUDIT_USAGE, EXPLAIN_USAGE } from '../../src/cli/run.js'
import { closest, documentedFlags } from '../../src/cli/flags.js'
import { runCli } from '../helpers/run-cli.js'

const tmp = mkdtempSync(join(tmpdir(), 'nca-flags-'))
writeFileSync(join(tmp, 'nx.json'), '{}')

/** Exit 2, nothing on stdout, and the first line of stderr: the one message. */
function refusal(args: string[]): string {
  const r = runCli(args, { cwd: tmp })
  expect(r.status).toBe(2)
  expect(r.stdout).toBe('')
  // Node's parseArgs wording, or its unbalanced quote, never reaches the user.
  expect(r.stderr).not.toMatch(/Unknown option|argument missing|does not take an argument|positional argument|<value>|'-- "/)
  return r.stderr.split('\n')[0]
}

describe('a flag a command does not have', () => {
  it.each([
    [['explain', '--evnt', 'push'], 'nx-cloud-access: explain has no flag --evnt: did you mean --event?'],
    [['explain', '--event', 'push', '--head-rep', 'a/b'], 'nx-cloud-access: explain has no flag --head-rep: did you mean --head-repo?'],
    [['explain', '--event', 'push', '--nxjson', 'nx.json'], 'nx-cloud-access: explain has no flag --nxjson: did you mean --nx-json?'],
    [['explain', '--event', 'push', '--Json'], 'nx-cloud-access: explain has no flag --Json: did you mean --json?'],
    [
      ['explain', '--event', 'push', '--ref=refs/heads/main', '--defualt-branch=main'],
      'nx-cloud-access: explain has no flag --defualt-branch: did you mean --default-branch?'
    ],
    [['audit', '--formt', 'json'], 'nx-cloud-access: audit has no flag --formt: did you mean --format?'],
    [['audit', '--fail', 'low'], 'nx-cloud-access: audit has no flag --fail: did you mean --fail-on?'],
    [['explian'], "nx-cloud-access: Unknown command 'explian': did you mean explain?"]
  ])('%j names the closest one', (args, message) => {
    expect(refusal(args)).toBe(message)
  })

  it('with nothing near, it lists the flags the command documents', () => {
    expect(refusal(['explain', '--verbose'])).toBe(
      `nx-cloud-access: explain has no flag --verbose. Accepted: ${[...documentedFlags(EXPLAIN_USAGE).keys()].join(', ')}.`
    )
    expect(refusal(['audit', '.', '-q'])).toMatch(
      /^nx-cloud-access: audit has no flag -q\. Accepted: --setup, --public, --format, --fail-on\.$/
    )
  })

  it('every flag of each --help is found again from a typo of it (the list is read from the usage text)', () => {
    for (const [command, usage] of [
      ['explain', EXPLAIN_USAGE],
      ['audit', AUDIT_USAGE]
    ] as const) {
      const flags = [...documentedFlags(usage).keys()]
      expect(flags.length).toBeGreaterThanOrEqual(command === 'explain' ? 16 : 4)
      // One letter dropped from the middle.
      for (const f of flags) expect([f, closest(f.slice(0, 4) + f.slice(5), flags)]).toEqual([f, f])
    }
  })
})

describe('a flag without its value, or with one it does not take, or a bare word', () => {
  it.each([
    [['explain', '--event', 'push', '--ref'], 'nx-cloud-access: --ref needs a value: --ref REF.'],
    [['explain', '--event'], 'nx-cloud-access: --event needs a value: --event NAME.'],
    [['explain', '--event', 'push', '--head-repo'], 'nx-cloud-access: --head-repo needs a value: --head-repo OWNER/NAME.'],
    [['audit', '--format'], 'nx-cloud-access: --format needs a value: --format FORMAT.'],
    [['explain', '--event', 'push', '--json=yes'], 'nx-cloud-access: --json takes no value: give --json alone.'],
    [['explain', 'push'], "nx-cloud-access: explain takes no argument 'push': each value follows its flag, as in --event push."]
  ])('%j', (args, message) => {
    expect(refusal(args)).toBe(message)
  })
})

describe('a value that looks like a mistake says what it would be taken as, and what was probably meant', () => {
  it('--ref main: a short name would be a ref that is no branch, so a run that could never write', () => {
    expect(refusal(['explain', '--event', 'push', '--ref', 'main'])).toBe(
      "nx-cloud-access: --ref 'main' is not a full ref: it would be taken as a ref that is no branch, so the run could never write. Did you mean --ref refs/heads/main (the branch main), or --ref refs/tags/main (a tag)?"
    )
    expect(refusal(['explain', '--event', 'push', '--ref', 'heads/release/1.x'])).toContain('Did you mean --ref refs/heads/release/1.x')
  })

  it('--ref refs/heads/main is the push to main it names: read-write', () => {
    const r = runCli(['explain', '--event', 'push', '--ref', 'refs/heads/main', '--json'], { cwd: tmp })
    expect(r.status).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ access: 'read-write', branch: 'main' })
  })

  it('--default-branch and a pull request --base-ref take a branch name, not a ref', () => {
    expect(refusal(['explain', '--event', 'push', '--default-branch', 'refs/heads/trunk'])).toBe(
      "nx-cloud-access: --default-branch takes a branch's name, not a ref: did you mean --default-branch trunk?"
    )
    expect(refusal(['explain', '--event', 'pull_request', '--base-ref', 'refs/heads/main'])).toBe(
      "nx-cloud-access: --base-ref takes a branch's name, not a ref: did you mean --base-ref main?"
    )
    // A merge queue's target may be given either way, as GitHub's payload gives it in full.
    const queue = runCli(['explain', '--event', 'merge_group', '--base-ref', 'refs/heads/main', '--json'], { cwd: tmp })
    expect(queue.status).toBe(0)
  })
})

describe('closest()', () => {
  it('finds a word within two edits, or a third of its length, or one the word begins; else nothing', () => {
    expect(closest('--wrokflow', ['--workflow', '--event'])).toBe('--workflow')
    expect(closest('--work', ['--workflow', '--event'])).toBe('--workflow')
    expect(closest('--verbose', ['--event', '--ref', '--json'])).toBeNull()
    expect(closest('PUSH', ['push', 'pull_request'])).toBe('push')
  })
})
