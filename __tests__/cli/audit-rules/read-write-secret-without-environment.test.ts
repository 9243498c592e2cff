// read-write-secret-without-environment (docs/audit-rules.md#read-write-secret-without-environment). More in ../audit-classes.test.ts.

import { describe, expect, it } from '@jest/globals'
import { auditOne } from './helpers.js'

const kit = (on: string, jobExtra = '', token = '${{ secrets.NX_RW }}'): string =>
  `on: ${on}\njobs:\n  b:\n    runs-on: ubuntu-latest\n${jobExtra}    steps:\n      - uses: acme/nx-cloud-access@de0fac2e4500dabe0009e67214ff5f5447ce83dd\n        with:\n          read-write-token: ${token}\n      - run: npx nx build\n`
const rows = (w: string): [string, number][] =>
  auditOne(w, {})
    .filter(f => f.rule === 'read-write-secret-without-environment')
    .map(f => [f.severity, f.line])

describe('read-write-secret-without-environment', () => {
  it('pull requests: high; pushes to any branch: medium; at the input', () => {
    expect(rows(kit('pull_request'))).toEqual([['high', 8]])
    expect(rows(kit('push'))).toEqual([['medium', 8]])
  })
  it('no finding under an environment, on pushes to main only, or with setup 1 written inline', () => {
    expect(rows(kit('pull_request', '    environment: nx-cloud-write\n'))).toEqual([])
    expect(rows(kit('{push: {branches: [main]}}'))).toEqual([])
    expect(rows(kit('pull_request', '', "${{ github.ref == 'refs/heads/main' && secrets.NX_RW || secrets.NX_READ_ONLY }}"))).toEqual([])
  })
})
