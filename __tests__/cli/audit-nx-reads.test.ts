// The audit reports a read-write token wherever Nx reads it (issue 20), as the token step refuses it:
// the env files loaded and expanded together, the file nx.json's `extends` names, and nx.json's
// other layout. Rule nx-json-read-write-token, on a real checkout, through the bundled CLI.

import { describe, expect, it } from '@jest/globals'
import { cpSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { REPO_ROOT } from '../helpers/run-action.js'
import { runCli } from '../helpers/run-cli.js'

const FIXTURES = join(REPO_ROOT, '__tests__', 'fixtures', 'audit')
const RW = Buffer.from('0b7c3c4e-1d2a-4a5b-9c8d-7e6f5a4b3c2d|read-write').toString('base64')
const RO = Buffer.from('5f1e2d3c-4b5a-4697-8877-665544332211|read-only').toString('base64')

/** clean-main-only (a kit workflow under main-only, a read-only token in nx.json) plus `files`. */
function checkout(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'nca-audit-reads-'))
  cpSync(join(FIXTURES, 'clean-main-only'), dir, { recursive: true })
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true })
    writeFileSync(join(dir, name), text)
  }
  return dir
}

function findings(dir: string, ...args: string[]): { rows: [string, string, number][]; messages: string[]; out: string } {
  const r = runCli(['audit', dir, '--format', 'json', '--fail-on', 'info', ...args])
  const list = JSON.parse(r.stdout).findings as { rule: string; file: string; line: number; message: string }[]
  const mine = list.filter(f => f.rule === 'nx-json-read-write-token')
  return { rows: mine.map(f => [f.rule, f.file, f.line]), messages: mine.map(f => f.message), out: r.stdout }
}

describe('env files, loaded and expanded together as Nx loads them', () => {
  it('NX_CLOUD_AUTH_TOKEN=${NX_RW} with NX_RW on the next line: one finding, at the token variable', () => {
    const r = findings(checkout({ '.env': `NX_CLOUD_AUTH_TOKEN=\${NX_RW}\nNX_RW=${RW}\n` }))
    expect(r.rows).toEqual([['nx-json-read-write-token', '.env', 1]])
    expect(r.messages[0]).toContain('.env sets NX_CLOUD_AUTH_TOKEN to a token that decodes as read-write, and Nx loads that file')
    expect(r.out).not.toContain(RW)
  })

  it('split across .env.local and .env: a finding in each file', () => {
    const r = findings(checkout({ '.env.local': `# the team's\nNX_RW=${RW}\n`, '.env': 'NX_CLOUD_AUTH_TOKEN=${NX_RW}\n' }))
    expect(r.rows).toEqual([
      ['nx-json-read-write-token', '.env', 1],
      ['nx-json-read-write-token', '.env.local', 2]
    ])
  })

  it('NX_CLOUD_ACCESS_TOKEN=${X} with X on the next line', () => {
    expect(findings(checkout({ '.env': `NX_CLOUD_ACCESS_TOKEN=\${X}\nX=${RW}\n` })).rows).toEqual([['nx-json-read-write-token', '.env', 1]])
  })

  it('a read-only token made the same way is no finding; nor is a read-write one under shared-read-write', () => {
    expect(findings(checkout({ '.env': `NX_CLOUD_AUTH_TOKEN=\${X}\nX=${RO}\n` })).rows).toEqual([])
    expect(findings(checkout({ '.env': `NX_CLOUD_AUTH_TOKEN=\${X}\nX=${RW}\n` }), '--setup', '3').rows).toEqual([])
  })
})

describe("nx.json's extends and its other layout", () => {
  it("a read-write token in the base nx.json extends: a finding at the base's line, saying Nx merges it", () => {
    const dir = checkout({
      'nx.json': JSON.stringify({ extends: './config/nx.base.json', nxCloudId: '65f1c2a9d4e8b70012345678' }, null, 2),
      'config/nx.base.json': `{\n  "namedInputs": {},\n  "nxCloudAccessToken": "${RW}"\n}\n`
    })
    const r = findings(dir)
    expect(r.rows).toEqual([['nx-json-read-write-token', 'config/nx.base.json', 3]])
    expect(r.messages[0]).toContain(
      "config/nx.base.json commits a token that decodes as read-write (nxCloudAccessToken), and nx.json extends it ('./config/nx.base.json'), so Nx merges it into every run"
    )
    expect(r.out).not.toContain(RW)
  })

  it('a read-write token in the layout Nx does not use is committed all the same', () => {
    const dir = checkout({
      'nx.json': JSON.stringify({
        tasksRunnerOptions: { default: { runner: 'nx-cloud', options: { accessToken: RO } } },
        nxCloudAccessToken: RW
      })
    })
    const r = findings(dir)
    expect(r.rows).toEqual([['nx-json-read-write-token', 'nx.json', 1]])
    expect(r.messages[0]).toContain('nx.json commits a token that decodes as read-write')
  })

  it('a base outside the checkout, or a symlink out of it, is not read (no finding, no crash)', () => {
    const outside = mkdtempSync(join(tmpdir(), 'nca-audit-outside-'))
    writeFileSync(join(outside, 'base.json'), JSON.stringify({ nxCloudAccessToken: RW }))
    const dir = checkout({ 'nx.json': JSON.stringify({ extends: join(outside, 'base.json') }) })
    expect(findings(dir).rows).toEqual([])
    const linked = checkout({ 'nx.json': JSON.stringify({ extends: './base.json' }) })
    symlinkSync(join(outside, 'base.json'), join(linked, 'base.json'))
    expect(findings(linked).rows).toEqual([])
  })
})
