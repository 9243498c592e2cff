// Shared by the rule tests: the bundled CLI on a fixture repository (__tests__/fixtures/audit/<name>),
// and the engine in-process on one workflow text.

import { expect, it } from '@jest/globals'
import { join } from 'node:path'
import { type Finding, auditRepo } from '../../../src/cli/audit/engine.js'
import { readWorkflow } from '../../../src/cli/audit/workflow.js'
import { parseNxJson } from '../../../src/core/nx-config.js'
import { REPO_ROOT } from '../../helpers/run-action.js'
import { runCli } from '../../helpers/run-cli.js'

export const FIXTURES = join(REPO_ROOT, '__tests__', 'fixtures', 'audit')
export const W = '.github/workflows'

export type Row = [rule: string, severity: string, file: string, line: number]

export function audit(
  name: string,
  ...args: string[]
): { status: number; rows: Row[]; findings: Record<string, string | number>[]; stderr: string; stdout: string } {
  const r = runCli(['audit', name.startsWith('/') ? name : join(FIXTURES, name), '--format', 'json', ...args])
  const findings = r.stdout === '' || r.status > 1 ? [] : JSON.parse(r.stdout).findings
  return {
    status: r.status,
    stderr: r.stderr,
    stdout: r.stdout,
    findings,
    rows: findings.map((f: Record<string, string | number>) => [f.rule, f.severity, f.file, f.line])
  }
}

/** The rule's fixture gives exactly these findings, exit 1, and every message and fix is a sentence. */
export function firesOnlyThere(name: string, expected: Row[]): void {
  it(`fires where it must in fixtures/audit/${name}, and only there`, () => {
    const r = audit(name, '--fail-on', 'info')
    // This rule's findings, exactly (other rules' findings on the same fixture are theirs to test).
    const rule = expected[0]?.[0] ?? name
    expect(r.rows.filter(row => row[0] === rule)).toEqual(expected)
    expect(r.status).toBe(1)
    for (const f of r.findings) {
      expect(String(f.message)).toMatch(/\S.*\.$/)
      expect(String(f.fix)).toMatch(/\S.*\.$/)
    }
  })
}

/** The engine on one workflow (.github/workflows/ci.yml) and an nx.json, in-process. */
export function auditOne(
  workflow: string,
  nxJson: Record<string, unknown>,
  setup: Parameters<typeof auditRepo>[1]['setup'] = null
): Finding[] {
  const file = '.github/workflows/ci.yml'
  const text = JSON.stringify(nxJson)
  return auditRepo(
    { workflows: new Map([[file, readWorkflow(file, workflow)]]), nxJson: { file: 'nx.json', text, config: parseNxJson(text) } },
    { setup, public: false }
  )
}
