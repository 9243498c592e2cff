// nx-json-read-write-token: a read-write Nx Cloud token committed in nx.json or an env file Nx loads (docs/audit-rules.md#nx-json-read-write-token).

import { describe, expect, it } from '@jest/globals'
import { cpSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli } from '../../helpers/run-cli.js'
import { FIXTURES, audit, firesOnlyThere } from './helpers.js'

describe('nx-json-read-write-token', () => {
  firesOnlyThere('nx-json-read-write-token', [['nx-json-read-write-token', 'high', 'nx.json', 4]])

  it('--setup judges every workflow under it: shared-read-write accepts the committed read-write token', () => {
    expect(audit('nx-json-read-write-token', '--setup', '3').rows).toEqual([])
    expect(audit('nx-json-read-write-token', '--setup', 'ci-read-write').rows).toEqual([['nx-json-read-write-token', 'high', 'nx.json', 4]])
  })

  it("a read-write token in the workspace's .env is a finding (Nx loads it into every run); a read-only one in nx-cloud.env is not", () => {
    const r = audit('env-file-token', '--fail-on', 'info')
    expect(r.rows).toEqual([['nx-json-read-write-token', 'high', '.env', 3]])
    expect(r.findings[0].message).toContain('.env sets NX_CLOUD_ACCESS_TOKEN to a token that decodes as read-write')
    expect(r.findings[0].fix).toContain('remove it from .env')
    expect(JSON.stringify(r.findings)).not.toContain('MGI3YzNjNGUtMWQyYS00YTViLTljOGQtN2U2ZjVhNGIzYzJkfHJlYWQtd3JpdGU=')
    expect(r.status).toBe(1)
    // shared-read-write commits its read-write token on purpose, as in nx.json.
    expect(audit('env-file-token', '--setup', '3').rows).toEqual([])
  })

  it('an env file is read as Nx reads it: through a symlink inside the repository, ${OTHER} expanded, at its last assignment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nca-audit-envfile-'))
    cpSync(join(FIXTURES, 'clean-main-only'), dir, { recursive: true })
    const rw = 'MGI3YzNjNGUtMWQyYS00YTViLTljOGQtN2U2ZjVhNGIzYzJkfHJlYWQtd3JpdGU='
    writeFileSync(
      join(dir, 'ci.env.txt'),
      `# NX_CLOUD_ACCESS_TOKEN=${rw} (an old note)\nCI_TOKEN=${rw}\nNX_CLOUD_ACCESS_TOKEN=\${CI_TOKEN}\n`
    )
    symlinkSync('ci.env.txt', join(dir, '.env'))
    const r = runCli(['audit', dir, '--format', 'json'])
    const rows = JSON.parse(r.stdout).findings.map((f: Record<string, string | number>) => [f.rule, f.file, f.line])
    expect(rows).toEqual([['nx-json-read-write-token', '.env', 3]])
  })

  it('--public: a read-write token in nx.json is a finding even under shared-read-write', () => {
    expect(audit('clean-shared-read-write', '--public').rows).toEqual([['nx-json-read-write-token', 'high', 'nx.json', 6]])
  })
})
