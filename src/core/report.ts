// A Decision → what a person sees: the step's outputs, the summary rows and the notes. One place
// for the token step's job summary and the command line's `explain`, so the two never drift.
// Never a secret: every value here is an output or a sentence of the policy.

import type { Decision } from './types.js'

/** docs/POLICY.md#outputs: say what becomes of a read-only run's uploads when explaining read-only. */
export const READ_ONLY_NOTE =
  'Read-only: what this run uploads, Nx Cloud keeps in a cache isolated to this branch; it never reaches the main branch, other pull requests or laptops.'

export function outputsOf(d: Decision): Record<string, string> {
  return {
    access: d.access,
    'token-source': d.tokenSource,
    reason: d.reason,
    encryption: d.encryption,
    setup: d.setup,
    'skip-cache': String(d.skipCache)
  }
}

/** The rows of the job summary and of the command line's explanation: never a secret. */
export function summaryRows(d: Decision): [string, string][] {
  const f = d.facts
  return [
    ['Setup', d.setup],
    ['Event', f.event || '(none)'],
    ['Branch', f.branch ?? `none (${f.noBranchReason})`],
    ['Trust', `${f.trusted ? 'trusted' : 'untrusted'}: ${f.trustReason}`],
    ['Access', d.access],
    ['Token source', d.tokenSource],
    ['Encryption', d.encryption],
    ['Skip cache', String(d.skipCache)],
    ['Exported', Object.keys(d.exports).join(', ') || '(nothing)']
  ]
}

/** What the summary and `explain` add to the policy's own notices: read-only's branch-isolated cache. */
export function readOnlyNotes(d: Decision): string[] {
  return d.access === 'read-only' && d.exports.NX_NO_CLOUD !== 'true' ? [READ_ONLY_NOTE] : []
}
