// no-encryption-key: Nx Cloud in use with no encryption key anywhere (docs/audit-rules.md#no-encryption-key).

import { describe, expect, it } from '@jest/globals'
import { auditOne, firesOnlyThere } from './helpers.js'

describe('no-encryption-key', () => {
  firesOnlyThere('no-encryption-key', [['no-encryption-key', 'medium', 'nx.json', 1]])
})

describe('no-encryption-key', () => {
  it('its fix says what a key kept only in a secret means for fork and Dependabot pull requests', () => {
    const fs = auditOne('on: pull_request\njobs:\n  b:\n    steps:\n      - run: npx nx build\n', { nxCloudId: 'x' })
    const f = fs.find(x => x.rule === 'no-encryption-key')
    expect(f?.fix).toContain('withheld from pull requests from forks and from Dependabot')
    expect(f?.fix).toContain('commit it in nx.json')
  })
})
