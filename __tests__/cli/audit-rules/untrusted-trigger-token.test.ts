// untrusted-trigger-token: a secret token handed to pull_request_target, workflow_run or issue_comment jobs (docs/audit-rules.md#untrusted-trigger-token).

import { describe, expect, it } from '@jest/globals'
import { W, audit, firesOnlyThere } from './helpers.js'

describe('untrusted-trigger-token', () => {
  firesOnlyThere('untrusted-trigger-token', [
    ['untrusted-trigger-token', 'high', `${W}/comment.yml`, 5],
    ['untrusted-trigger-token', 'high', `${W}/comment.yml`, 9],
    // secrets: inherit to a remote reusable workflow: it cannot be followed offline.
    ['untrusted-trigger-token', 'high', `${W}/comment.yml`, 13],
    ['untrusted-trigger-token', 'high', `${W}/pr-target.yml`, 6],
    ['untrusted-trigger-token', 'high', `${W}/pr-target.yml`, 23]
  ])

  it('the untrusted-trigger rule wins over the inherited-env rule on the same key', () => {
    // Job 'legacy' runs Nx with no kit, so the key is an inherited-env finding too: one finding remains.
    const rules = audit('untrusted-trigger-token').findings.filter(x => x.file === `${W}/pr-target.yml` && x.line === 6)
    expect(rules.map(x => x.rule)).toEqual(['untrusted-trigger-token'])
    expect(rules[0].message).toContain("jobs 'build', 'safe' and 'legacy'")
  })

  it('secrets: inherit to a local reusable workflow is reported at the caller, naming where the token lands', () => {
    const f = audit('untrusted-trigger-token').findings.find(x => x.line === 5)
    expect(f?.message).toContain('issue_comment')
    expect(f?.message).toContain(`${W}/reusable-build.yml:10`)
  })
})
