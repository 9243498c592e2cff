// deprecated-bucket-cache (docs/audit-rules.md#deprecated-bucket-cache).

import { describe, expect, it } from '@jest/globals'
import { auditOne } from './helpers.js'

const rows = (nx: Record<string, unknown>): [string, string, number][] =>
  auditOne('on: push\njobs: {}\n', nx)
    .filter(f => f.rule === 'deprecated-bucket-cache')
    .map(f => [f.severity, f.file, f.line])

describe('deprecated-bucket-cache', () => {
  it.each(['@nx/s3-cache', '@nx/gcs-cache', '@nx/azure-cache', '@nx/shared-fs-cache'])('%s in nx.json is high', name => {
    expect(rows({ plugins: [name] })).toEqual([['high', 'nx.json', 1]])
  })
  it('another plugin is not', () => {
    expect(rows({ plugins: ['@nx/js/typescript'] })).toEqual([])
  })
})
