// unpinned-action: the kit used at a branch or a tag (docs/audit-rules.md#unpinned-action).

import { describe, expect, it } from '@jest/globals'
import { W, auditOne, firesOnlyThere } from './helpers.js'

describe('unpinned-action', () => {
  firesOnlyThere('unpinned-action', [
    ['unpinned-action', 'high', `${W}/ci.yml`, 6],
    // The aliased step in job c is the same key: one finding, at the anchor.
    ['unpinned-action', 'low', `${W}/ci.yml`, 12],
    ['unpinned-action', 'low', `${W}/ci.yml`, 13]
  ])

  // The cache action takes no Nx Cloud token: a moved tag gets the Actions cache's runtime token.
  it('names what a moved ref would receive: the read-write token for the token step, the runtime token for the cache action', () => {
    const workflow = (uses: string): string =>
      `on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: ${uses}\n      - run: npx nx build\n`
    const message = (uses: string): string =>
      String(auditOne(workflow(uses), { nxCloudId: 'x' }).find(f => f.rule === 'unpinned-action')?.message)
    expect(message('nx-cloud-access/nx-cloud-access@v1')).toContain('your read-write token')
    expect(message('nx-cloud-access/nx-cloud-access/cache@v1')).toContain('the runtime token that writes your Actions cache')
    expect(message('nx-cloud-access/nx-cloud-access/cache@v1')).not.toContain('read-write token')
  })
})
