// workspace-id-access: pull requests that run Nx with no token in a workspace with nxCloudId (docs/audit-rules.md#workspace-id-access).

import { describe, expect, it } from '@jest/globals'
import type { Finding } from '../../../src/cli/audit/engine.js'
import { W, audit, auditOne, firesOnlyThere } from './helpers.js'

describe('workspace-id-access', () => {
  firesOnlyThere('workspace-id-access', [
    // One finding for the workspace, at its first Nx step a fork's pull request runs with no token.
    ['workspace-id-access', 'medium', `${W}/ci.yml`, 17]
  ])

  it('workspace-id-access names the jobs pull requests run Nx in with no token, and only those', () => {
    const f = audit('workspace-id-access').findings[0]
    // Not docs (no Nx), offline (NX_NO_CLOUD), kit-first (the kit decides), size (--skip-nx-cache),
    // release (push only), projects (nx show and nx format run no task, so use no cache).
    expect(f.message).toContain(
      "jobs 'lint', 'test' and 'graph' (.github/workflows/label.yml) run Nx on pull requests (pull_request, pull_request_target)"
    )
    for (const job of ['docs', 'offline', 'kit-first', 'size', 'release', 'projects']) expect(f.message).not.toContain(`'${job}'`)
    expect(f.message).toContain('workspace ID access level')
    expect(f.fix).toContain('read-only or none')
    expect(f.fix).toContain('workspace-id-access: read-only')
    // The key lives only in a secret: fork and Dependabot pull requests cannot read with it.
    expect(f.fix).toContain('withholds from pull requests from forks and from Dependabot')
  })
})

describe('workspace-id-access: pull requests that run Nx with no token', () => {
  const ID = { nxCloudId: '65f0c0ffee0000000000beef' }
  const RO = Buffer.from('5f1e2d3c-4b5a-4697-8877-665544332211|read-only').toString('base64')
  const wf = (on: string, env: string, steps: string): string =>
    `on: ${on}\n${env ? `env:\n  ${env}\n` : ''}jobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n${steps}`
  const nxStep = '      - run: npm ci\n      - run: npx nx affected -t build\n'
  const rule = (fs: Finding[]): Finding[] => fs.filter(f => f.rule === 'workspace-id-access')

  it('a token from a secret is empty on a fork pull_request: one finding at the Nx step, and it is medium', () => {
    const fs = rule(auditOne(wf('pull_request', 'NX_CLOUD_ACCESS_TOKEN: ${{ secrets.NX_CLOUD }}', nxStep), ID))
    expect(fs.map(f => [f.severity, f.file, f.line])).toEqual([['medium', '.github/workflows/ci.yml', 9]])
    expect(fs[0].message).toContain("job 'build' runs Nx on pull requests (pull_request)")
  })

  it('no finding when a pull request has a token, or the workspace has no nxCloudId, or only pushes run Nx', () => {
    expect(rule(auditOne(wf('pull_request', '', nxStep), ID))).toHaveLength(1)
    // A token written out reaches every run; pull_request_target runs get secrets.
    expect(rule(auditOne(wf('pull_request', `NX_CLOUD_ACCESS_TOKEN: ${RO}`, nxStep), ID))).toEqual([])
    expect(rule(auditOne(wf('pull_request_target', 'NX_CLOUD_ACCESS_TOKEN: ${{ secrets.NX_CLOUD }}', nxStep), ID))).toEqual([])
    // nx.json's token is what Nx uses before nxCloudId.
    expect(rule(auditOne(wf('pull_request', '', nxStep), { ...ID, nxCloudAccessToken: RO }))).toEqual([])
    expect(rule(auditOne(wf('pull_request', '', nxStep), { nxCloudAccessToken: RO }))).toEqual([])
    expect(rule(auditOne(wf('[push, merge_group]', '', nxStep), ID))).toEqual([])
    expect(rule(auditOne(wf('pull_request', '', '      - run: npx nx build --skip-nx-cache\n'), ID))).toEqual([])
    expect(rule(auditOne(wf('pull_request', 'NX_NO_CLOUD: true', nxStep), ID))).toEqual([])
  })

  it('the kit run before Nx decides such runs; Nx before the kit is still a finding, whose fix names the input', () => {
    const kit = '      - uses: acme/nx-cloud-access@de0fac2e4500dabe0009e67214ff5f5447ce83dd\n'
    expect(rule(auditOne(wf('pull_request', '', kit + nxStep), ID))).toEqual([])
    const [f] = rule(auditOne(wf('pull_request', '', nxStep + kit), ID))
    expect(f.fix).toContain('set its workspace-id-access: read-only')
    const [bare] = rule(auditOne(wf('pull_request', '', nxStep), ID))
    expect(bare.fix).toContain('read-only or none')
    expect(bare.fix).not.toContain('set its workspace-id-access')
  })

  it('a key kept only in a secret: the fix says fork and Dependabot pull requests cannot read with it; a committed key: not', () => {
    const secretKey = wf('pull_request', 'NX_CLOUD_ENCRYPTION_KEY: ${{ secrets.NX_KEY }}', nxStep)
    expect(rule(auditOne(secretKey, ID))[0].fix).toContain('GitHub withholds from pull requests from forks and from Dependabot')
    expect(rule(auditOne(secretKey, { ...ID, nxCloudEncryptionKey: 'k' }))[0].fix).not.toContain('Dependabot')
  })
})
