// actions-cache-nx-cache (docs/audit-rules.md#actions-cache-nx-cache).

import { describe, expect, it } from '@jest/globals'
import { auditOne } from './helpers.js'

const cache = (path: string): string =>
  `on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/cache@v4\n        with:\n          path: ${path}\n          key: k\n`
const rows = (w: string): [string, number][] =>
  auditOne(w, {})
    .filter(f => f.rule === 'actions-cache-nx-cache')
    .map(f => [f.severity, f.line])

describe('actions-cache-nx-cache', () => {
  it('.nx/cache (alone or in a list) is a medium finding at the step', () => {
    expect(rows(cache('.nx/cache'))).toEqual([['medium', 6]])
    expect(rows(cache('|\n            node_modules\n            .nx/cache'))).toEqual([['medium', 6]])
  })
  it('dependency and tool caches are not', () => {
    expect(rows(cache('~/.npm'))).toEqual([])
    expect(rows(cache('node_modules'))).toEqual([])
  })
})
