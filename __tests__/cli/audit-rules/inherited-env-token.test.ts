// inherited-env-token: a token in workflow- or job-level env: of a job that runs Nx before the kit (docs/audit-rules.md#inherited-env-token).

import { describe, expect, it } from '@jest/globals'
import { W, audit, firesOnlyThere } from './helpers.js'

describe('inherited-env-token', () => {
  firesOnlyThere('inherited-env-token', [
    ['inherited-env-token', 'high', `${W}/ci.yml`, 3],
    ['inherited-env-token', 'high', `${W}/e2e.yaml`, 6],
    ['inherited-env-token', 'high', `${W}/e2e.yaml`, 19]
  ])

  it('an anchored env block is reported once, at the anchor, naming every job that inherits it', () => {
    const f = audit('inherited-env-token').findings.find(x => x.file === `${W}/e2e.yaml` && x.line === 6)
    expect(f?.message).toContain("jobs 'e2e-chrome', 'e2e-firefox' and 'e2e-webkit'")
  })

  it('a workflow-level env names only the jobs that run Nx before the kit', () => {
    const f = audit('inherited-env-token').findings.find(x => x.file === `${W}/ci.yml`)
    expect(f?.message).toContain("jobs 'build' and 'test'")
    expect(f?.message).not.toContain('lint')
  })

  it('a workflow-level token is rated by the triggers that reach it', () => {
    const r = audit('token-triggers', '--fail-on', 'info')
    expect(r.rows).toEqual([
      // push to any branch and the merge queue: medium.
      ['inherited-env-token', 'medium', `${W}/branches.yml`, 5],
      // A reusable workflow called with secrets: inherit from a pull_request workflow: its caller's runs.
      ['inherited-env-token', 'high', `${W}/build.yml`, 4],
      // nx.json has nxCloudId, and the secret token is empty on a fork's pull request (through pr.yml).
      ['workspace-id-access', 'medium', `${W}/build.yml`, 9],
      // schedule and workflow_dispatch: a manual run on any branch, by a writer.
      ['inherited-env-token', 'low', `${W}/nightly.yml`, 6],
      ['inherited-env-token', 'high', `${W}/pr.yml`, 6],
      ['inherited-env-token', 'low', `${W}/release.yml`, 5],
      // A reusable workflow no workflow here calls: called from other repositories, rated low.
      ['inherited-env-token', 'low', `${W}/shared.yml`, 4]
      // Not main.yml: push to main and schedule are the runs setup main-only itself lets write.
    ])
    const say = (file: string): string => String(r.findings.find(f => f.file === `${W}/${file}`)?.message)
    expect(say('pr.yml')).toContain('pull requests (pull_request) get this token')
    expect(say('nightly.yml')).toContain('manual runs on any branch (workflow_dispatch)')
    expect(say('nightly.yml')).not.toContain('pull requests')
    expect(say('release.yml')).toContain('releases get this token')
    expect(say('branches.yml')).toContain('pushes to any branch (push) and the merge queue (merge_group)')
  })

  it('setup 1 written inline gives pull requests the read-only token: no finding; written the wrong way round, a high one', () => {
    expect(audit('inline-setup-1', '--fail-on', 'info').rows).toEqual([
      // The read-only secret is empty on a fork's pull request, where nx.json's nxCloudId then decides.
      ['workspace-id-access', 'medium', `${W}/ci.yml`, 13],
      ['inherited-env-token', 'high', `${W}/inverted.yml`, 6]
    ])
  })
})
