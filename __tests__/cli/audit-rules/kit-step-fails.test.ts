// kit-step-fails (docs/audit-rules.md#kit-step-fails): read with the kit's own input reader.

import { describe, expect, it } from '@jest/globals'
import { auditOne } from './helpers.js'

const kit = (inputs: string, uses = 'acme/nx-cloud-access@de0fac2e4500dabe0009e67214ff5f5447ce83dd'): string =>
  `on: push\njobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: ${uses}\n        with:\n${inputs}`
const found = (w: string): string[] =>
  auditOne(w, {})
    .filter(f => f.rule === 'kit-step-fails')
    .map(f => `${f.severity} ${f.line} ${f.message}`)

describe('kit-step-fails', () => {
  it.each([
    ['setup: main-ony', "Input 'setup' has an unknown value 'main-ony'"],
    ['skip-cache: yes', "Input 'skip-cache' has an unknown value 'yes'"],
    ['self-hosted-cache-url: ftp://cache', "Input 'self-hosted-cache-url'"]
  ])('%s: high, with the message the kit fails with', (input, words) => {
    const f = found(kit(`          ${input}\n`))
    expect(f).toHaveLength(1)
    expect(f[0]).toMatch(/^high 6 /)
    expect(f[0]).toContain(words)
  })
  it("valid inputs, inputs set by an expression, and the cache action are not judged by the token step's reader", () => {
    expect(found(kit('          setup: ci-read-write\n          skip-cache: true\n'))).toEqual([])
    expect(found(kit('          setup: ${{ inputs.setup }}\n'))).toEqual([])
    expect(found(kit('          key: x\n', 'acme/nx-cloud-access/cache@de0fac2e4500dabe0009e67214ff5f5447ce83dd'))).toEqual([])
  })
})
