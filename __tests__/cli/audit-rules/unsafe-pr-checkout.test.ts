// unsafe-pr-checkout (docs/audit-rules.md#unsafe-pr-checkout). More cases in ../audit-classes.test.ts (class 7).

import { describe, expect, it } from '@jest/globals'
import { auditOne } from './helpers.js'

const job = (trigger: string, checkout: string, env = 'NX_CLOUD_ACCESS_TOKEN: ${{ secrets.NX }}'): string =>
  `on: ${trigger}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    env:\n      ${env}\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          ${checkout}\n      - run: npm test\n`
const rows = (w: string): [string, number][] =>
  auditOne(w, {})
    .filter(f => f.rule === 'unsafe-pr-checkout')
    .map(f => [f.severity, f.line])

describe('unsafe-pr-checkout', () => {
  it("the pull request's head checked out under pull_request_target or workflow_run, with a token in the job: high, at the checkout", () => {
    expect(rows(job('pull_request_target', 'allow-unsafe-pr-checkout: true'))).toEqual([['high', 8]])
    expect(rows(job('pull_request_target', 'ref: ${{ github.event.pull_request.head.sha }}'))).toEqual([['high', 8]])
    expect(rows(job('workflow_run', 'ref: ${{ github.event.workflow_run.head_sha }}'))).toEqual([['high', 8]])
  })
  it('not under pull_request, not without a token or the kit, not when the base is checked out', () => {
    expect(rows(job('pull_request', 'allow-unsafe-pr-checkout: true'))).toEqual([])
    expect(rows(job('pull_request_target', 'allow-unsafe-pr-checkout: true', 'CI: true'))).toEqual([])
    expect(rows(job('pull_request_target', 'fetch-depth: 0'))).toEqual([])
  })
})
