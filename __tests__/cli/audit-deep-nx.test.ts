// `audit` through the bundled command line on an nx.json nested too deeply for a recursive parser:
// a malformed nx.json like any other (exit 2, one line naming it), never a stack trace.

import { describe, expect, it } from '@jest/globals'
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO_ROOT } from '../helpers/run-action.js'
import { runCli } from '../helpers/run-cli.js'

const FIXTURES = join(REPO_ROOT, '__tests__', 'fixtures', 'audit')

describe('audit: a deeply nested nx.json', () => {
  it.each([
    ['100k nested [', '['.repeat(100_000)],
    ['100k nested {"a":', '{"a":'.repeat(100_000)],
    ['a token next to 100k closed [ ]', `{"nxCloudAccessToken": "abc", "x": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`]
  ])('%s is a malformed nx.json: exit 2, no stack trace', (_name, text) => {
    const dir = mkdtempSync(join(tmpdir(), 'nca-audit-deep-'))
    cpSync(join(FIXTURES, 'clean-main-only'), dir, { recursive: true })
    writeFileSync(join(dir, 'nx.json'), text)
    const r = runCli(['audit', dir])
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('nx.json is malformed')
    expect(r.stderr).toContain('nx.json is malformed (nested deeper than 256 levels')
    // The command line has flags, not the action's inputs.
    expect(r.stderr).not.toContain('working-directory')
    expect(r.stderr).not.toMatch(/Maximum call stack|RangeError|\n\s+at /)
    expect(r.stderr.trim().split('\n')[0]).toMatch(/^nx-cloud-access: .*nx\.json is malformed/)
  })
})
