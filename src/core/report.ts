// A Decision → what a person sees: the step's outputs, the summary rows and the notes. One place
// for the token step's job summary and the command line's `explain`, so the two never drift.
// Never a secret: every value here is an output or a sentence of the policy.

import type { Decision, RunFacts } from './types.js'

/** docs/POLICY.md#outputs: say what becomes of a read-only run's uploads when explaining read-only. */
const READ_ONLY_NOTE =
  'Read-only: what this run uploads, Nx Cloud keeps in a cache isolated to this branch; it never reaches the main branch, other pull requests or laptops.'

export function outputsOf(d: Decision): Record<string, string> {
  return {
    access: d.access,
    'token-source': d.tokenSource,
    // Short: the whole chain (d.detail) is in the job summary and in `explain --json`.
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
    ['Exported', exportedNames(d)]
  ]
}

/** The names exported, a blanked one marked so (an empty value is no token). Never the values. */
function exportedNames(d: Decision): string {
  return (
    Object.entries(d.exports)
      .map(([name, value]) => (value === '' ? `${name} (blanked)` : name))
      .join(', ') || '(nothing)'
  )
}

const WORKSPACE_ID_NOTE =
  "Read-only through nx.json's nxCloudId, with no token: what Nx Cloud does with this run's uploads is up to the workspace ID access level. Nx Cloud documents a cache isolated to the branch for read-only CI access tokens, not for this level: pass a read-only CI access token as 'read-only-token' where that isolation matters."

/**
 * What the summary and `explain` add to the policy's own notices: read-only's branch-isolated
 * cache, which Nx Cloud documents for read-only CI access tokens only, not for a tokenless read.
 */
export function readOnlyNotes(d: Decision): string[] {
  if (d.access !== 'read-only' || d.exports.NX_NO_CLOUD === 'true') return []
  const tokenless = d.tokenSource === 'nx.json' && d.exports.NX_CLOUD_ACCESS_TOKEN === ''
  return [tokenless ? WORKSPACE_ID_NOTE : READ_ONLY_NOTE]
}

/** Where the encryption key of the run came from, as the policy chose it; never the key. */
function encryptionKeySource(d: Decision, nxJsonHasKey: boolean): string {
  if (d.encryption === 'disabled') {
    // docs/POLICY.md#encryption: a run that uses the remote cache with no key says so here.
    return d.access === 'none' || d.exports.NX_NO_CLOUD === 'true'
      ? 'none (this run uses no Nx Cloud cache)'
      : "none: this run's cache entries are not end-to-end encrypted (no key in 'encryption-key', NX_CLOUD_ENCRYPTION_KEY or nx.json; make one with openssl rand -hex 16)"
  }
  if (nxJsonHasKey) return 'nx.json (nxCloudEncryptionKey)'
  if ((d.exports.NX_CLOUD_ENCRYPTION_KEY ?? '') !== '') return "input 'encryption-key', exported as NX_CLOUD_ENCRYPTION_KEY"
  return "the job's environment (NX_CLOUD_ENCRYPTION_KEY)"
}

/** The run as a reviewer names it: the pull request (`#7 feature → main, from the fork a/b`), or the event and ref. */
function runLine(f: RunFacts): [string, string] {
  const pr = f.pullRequest
  if (pr) {
    const from = pr.fork ? `from the fork ${pr.headRepo || '(deleted repository)'}` : 'from a branch of this repository'
    const label = f.event === 'pull_request' ? 'Pull request' : `Pull request (${f.event})`
    return [label, `${pr.number === null ? '' : `#${pr.number} `}${pr.head || '(unknown)'} → ${pr.base || '(unknown)'}, ${from}`]
  }
  return ['Run', `${f.event || '(no event)'} on ${f.ref || '(no ref)'}`]
}

/**
 * The token step's job summary, as data (apply.ts renders it): the verdict, the reason (short), the
 * one thing to fix if any, the warnings, then the details a reviewer needs that the reason does not
 * already say: the run or pull request, the rule's whole chain when it says more than the reason,
 * where the encryption key came from (on runs that use a remote cache), what was exported (names
 * only). The notices and notes follow.
 */
export interface StepSummary {
  verdict: string
  reason: string
  fix: string | null
  warnings: string[]
  rows: [string, string][]
  notes: string[]
}

export function stepSummary(d: Decision, nxJsonHasKey: boolean): StepSummary {
  const rows: [string, string][] = [runLine(d.facts)]
  if (d.detail !== d.reason) rows.push(['Rule', d.detail])
  // A run with no remote cache has no key to speak of.
  if (d.access !== 'none') rows.push(['Encryption key', encryptionKeySource(d, nxJsonHasKey)])
  rows.push(['Exported', exportedNames(d)])
  return {
    verdict: `Nx Cloud access: ${d.access}${d.skipCache ? ', cache skipped' : ''}`,
    reason: d.reason,
    fix: d.fix,
    warnings: d.warnings,
    rows,
    notes: [...d.notices, ...readOnlyNotes(d)]
  }
}

/**
 * The summary of a step the kit failed (a PolicyError, an unreadable event): what failed, and
 * what is accepted, which the kit's errors say after `Accepted:`. Nothing was exported.
 */
export function failedStepSummary(message: string): StepSummary {
  const at = message.indexOf(' Accepted: ')
  return {
    verdict: '❌ Failed: nothing was exported',
    reason: at < 0 ? message : message.slice(0, at),
    fix: at < 0 ? null : `Use what is accepted: ${message.slice(at + ' Accepted: '.length)}`,
    warnings: [],
    rows: [],
    notes: [
      'Later steps get nothing from this step (no token, no key, no NX_NO_CLOUD); the job stops here unless the step has continue-on-error.'
    ]
  }
}
