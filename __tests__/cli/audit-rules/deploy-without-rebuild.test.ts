// deploy-without-rebuild: a deploy job that ships what Nx built from the shared cache (docs/audit-rules.md#deploy-without-rebuild).

import { describe, expect, it } from '@jest/globals'
import { W, audit, firesOnlyThere } from './helpers.js'

describe('deploy-without-rebuild', () => {
  firesOnlyThere('deploy-without-rebuild', [
    ['deploy-without-rebuild', 'high', `${W}/release.yml`, 13],
    ['deploy-without-rebuild', 'high', `${W}/release.yml`, 22]
    // Not job 'continued': its --skip-nx-cache is on a backslash-continued line.
  ])

  it('deploy-without-rebuild applies under ci-read-write only', () => {
    expect(audit('deploy-without-rebuild', '--setup', 'main-only').rows).toEqual([])
    expect(audit('deploy-without-rebuild', '--setup', '2').rows.map(r => r[3])).toEqual([13, 22])
  })

  it('a deployment is judged by what a job runs, and a publish job is traced to the job that built its artifact', () => {
    const r = audit('deploy-by-what-runs', '--fail-on', 'info')
    // Not 'release-test' (tests, uploads coverage), not 'migrate' (nx migrate only in a commit message,
    // an environment: that is empty on pull requests), not 'build' (builds, publishes nothing).
    expect(r.rows).toEqual([
      ['deploy-without-rebuild', 'high', `${W}/release.yml`, 34],
      ['deploy-without-rebuild', 'high', `${W}/release.yml`, 42]
    ])
    expect(r.findings[0].message).toContain("Job 'publish' publishes to a registry: what job 'build' built with the cache")
    expect(r.findings[0].fix).toContain("in job 'build'")
    expect(r.findings[1].message).toContain('(through the package.json script test:ci)')
  })
})
