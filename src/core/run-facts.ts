// GitHub's environment and event payload → RunFacts: the event, whether the run is trusted,
// and the run's branch. Decided from GITHUB_EVENT_NAME, the refs and the payload — never from
// a branch name alone (docs/POLICY.md#trust and #branch).

import type { PullRequestFacts, RunFacts } from './types.js'

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Payload = Record<string, any>

export interface RunInput {
  event: string
  ref: string
  actor: string
  repository: string
  payload: Payload
}

/** Events whose run is a pull request's, judged by its head (pull_request_target is not one). */
export const PR_EVENTS = ['pull_request', 'pull_request_review', 'pull_request_review_comment']
const UNTRUSTED_EVENTS: Record<string, string> = {
  pull_request_target: 'a pull_request_target run (it runs with secrets next to code from the PR)',
  workflow_run: "a workflow_run run (it may act on a fork's artifacts with secrets)",
  issue_comment: 'an issue_comment run (anyone who can comment can trigger it)',
  discussion: 'a discussion run (anyone who can post can trigger it)',
  discussion_comment: 'a discussion_comment run (anyone who can post can trigger it)'
}
const TRUSTED_EVENTS = ['push', 'workflow_dispatch', 'schedule', 'merge_group', 'repository_dispatch', 'release', 'create', 'delete']
const BRANCH_FROM_REF_EVENTS = ['push', 'workflow_dispatch', 'schedule', 'repository_dispatch']
const DEPENDABOT = 'dependabot[bot]'

/** Who says the run is Dependabot's: GITHUB_ACTOR, the payload's sender, or nobody. */
function dependabotBy(run: RunInput): string | null {
  if (run.actor.toLowerCase() === DEPENDABOT) return 'GITHUB_ACTOR'
  const sender = run.payload.sender?.login
  if (typeof sender === 'string' && sender.toLowerCase() === DEPENDABOT) return "the payload's sender"
  return null
}

export function classifyTrust(run: RunInput): { trusted: boolean; reason: string } {
  const { event, payload } = run
  const bot = dependabotBy(run)
  if (PR_EVENTS.includes(event)) {
    const pr = payload.pull_request
    if (!pr) return { trusted: false, reason: `a ${event} run whose payload has no pull_request` }
    const head = String(pr.head?.repo?.full_name ?? '').toLowerCase()
    const base = String(pr.base?.repo?.full_name ?? payload.repository?.full_name ?? run.repository).toLowerCase()
    if (head === '' || head !== base) {
      return { trusted: false, reason: `a pull request from the fork ${head || '(deleted repository)'}` }
    }
    if (String(pr.user?.login ?? '').toLowerCase() === DEPENDABOT || bot !== null) {
      return { trusted: false, reason: 'a pull request opened by dependabot[bot]' }
    }
    return { trusted: true, reason: 'a pull request from a branch of this repository' }
  }
  if (event in UNTRUSTED_EVENTS) return { trusted: false, reason: UNTRUSTED_EVENTS[event] }
  // Dependabot's code is untrusted on every event, a push to its own branch included.
  if (bot !== null) return { trusted: false, reason: `a ${event || '(no event)'} run by dependabot[bot] (${bot})` }
  if (TRUSTED_EVENTS.includes(event)) return { trusted: true, reason: `a ${event} run` }
  return { trusted: false, reason: `an unlisted event '${event || '(none)'}' (unknown events fail closed)` }
}

/**
 * Why GitHub gives this run none of the repository's Actions secrets, or null when it gives them:
 * a pull request event from a fork gets none; a Dependabot run (by actor, sender or a Dependabot
 * pull request) gets only Dependabot secrets. pull_request_target and workflow_run get them all.
 */
export function secretsWithheld(run: RunInput): string | null {
  const { event, payload } = run
  const bot = dependabotBy(run) !== null
  if (PR_EVENTS.includes(event)) {
    const pr = payload.pull_request
    const head = String(pr?.head?.repo?.full_name ?? '').toLowerCase()
    const base = String(pr?.base?.repo?.full_name ?? payload.repository?.full_name ?? run.repository).toLowerCase()
    if (pr && (head === '' || head !== base)) return 'GitHub gives a pull request from a fork no secrets'
    if (bot || String(pr?.user?.login ?? '').toLowerCase() === DEPENDABOT) {
      return "GitHub gives Dependabot's pull requests only Dependabot secrets"
    }
    return null
  }
  if (bot && !(event in UNTRUSTED_EVENTS)) return "GitHub gives Dependabot's runs only Dependabot secrets"
  return null
}

function runBranch(run: RunInput): { branch: string | null; reason: string } {
  const { event, ref, payload } = run
  if (event === 'merge_group') {
    const base = String(payload.merge_group?.base_ref ?? '')
    if (base.startsWith('refs/heads/')) return { branch: base.slice('refs/heads/'.length), reason: '' }
    return { branch: null, reason: 'the merge_group payload names no base branch' }
  }
  if (PR_EVENTS.includes(event) || event === 'pull_request_target') {
    return { branch: null, reason: 'a pull request has no branch of its own to write' }
  }
  if (!BRANCH_FROM_REF_EVENTS.includes(event)) {
    return { branch: null, reason: `a ${event || '(no event)'} run has no write branch` }
  }
  if (ref.startsWith('refs/heads/')) return { branch: ref.slice('refs/heads/'.length), reason: '' }
  if (ref.startsWith('refs/tags/')) return { branch: null, reason: `the tag ${ref} has no branch` }
  return { branch: null, reason: `the ref '${ref || '(none)'}' is not a branch` }
}

function payloadDefaultBranch(payload: Payload): string | null {
  const b = payload.repository?.default_branch
  return typeof b === 'string' && b !== '' ? b : null
}

/** The pull request of a pull request's run (its events and pull_request_target), from the payload. */
function pullRequestOf(run: RunInput): PullRequestFacts | null {
  const pr = run.payload.pull_request
  if ((!PR_EVENTS.includes(run.event) && run.event !== 'pull_request_target') || !pr) return null
  const headRepo = String(pr.head?.repo?.full_name ?? '')
  const baseRepo = String(pr.base?.repo?.full_name ?? run.payload.repository?.full_name ?? run.repository)
  const number = pr.number ?? run.payload.number
  return {
    number: typeof number === 'number' ? number : null,
    head: String(pr.head?.ref ?? ''),
    base: String(pr.base?.ref ?? ''),
    headRepo,
    fork: headRepo === '' || headRepo.toLowerCase() !== baseRepo.toLowerCase()
  }
}

/** What a default-branch look-up is told of the run, judged once, to decide whether to ask. */
export interface JudgedRun {
  event: string
  trusted: boolean
  branch: string | null
}

/**
 * Asks for the default branch, or returns null when the answer could not change the decision.
 * Called only when the payload lacks the default branch (schedule, workflow_dispatch payloads may).
 */
type DefaultBranchLookup = (run: JudgedRun) => Promise<string | null> | null

/** The facts decide() needs: trust and branch judged once, the default branch from the payload or the look-up. */
export async function resolveRunFacts(run: RunInput, lookupDefaultBranch?: DefaultBranchLookup): Promise<RunFacts> {
  const trust = classifyTrust(run)
  const branch = runBranch(run)
  let defaultBranch = payloadDefaultBranch(run.payload)
  let defaultBranchSource: RunFacts['defaultBranchSource'] = 'payload'
  const asked =
    defaultBranch === null ? (lookupDefaultBranch?.({ event: run.event, trusted: trust.trusted, branch: branch.branch }) ?? null) : null
  if (asked !== null) {
    defaultBranch = await asked
    defaultBranchSource = 'api'
  }
  if (defaultBranch === null) {
    defaultBranch = 'main'
    defaultBranchSource = 'fallback'
  }
  const priv = run.payload.repository?.private
  return {
    event: run.event,
    ref: run.ref,
    trusted: trust.trusted,
    trustReason: trust.reason,
    branch: branch.branch,
    noBranchReason: branch.reason,
    defaultBranch,
    defaultBranchSource,
    repositoryPrivate: typeof priv === 'boolean' ? priv : null,
    pullRequest: pullRequestOf(run),
    secretsWithheld: secretsWithheld(run)
  }
}
