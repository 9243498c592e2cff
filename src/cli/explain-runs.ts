// The runs `explain` speaks of by name: `explain --all` shows every one, `explain --workflow` those
// a workflow's on: triggers. One list, so the two commands never name or shape a run differently.

import type { RunFlags } from './run-input.js'

export interface NamedRun {
  label: string
  flags: RunFlags
}

/** The common runs of a repository, as `explain --all` shows them. */
export const COMMON_RUNS: NamedRun[] = [
  { label: 'push to main', flags: { event: 'push', ref: 'refs/heads/main' } },
  { label: 'push to a feature branch', flags: { event: 'push', ref: 'refs/heads/feature' } },
  { label: 'push of a tag', flags: { event: 'push', ref: 'refs/tags/v1.0.0' } },
  { label: 'pull request, same repository', flags: { event: 'pull_request' } },
  { label: 'pull request from a fork', flags: { event: 'pull_request', headRepo: 'someone/fork' } },
  { label: 'pull request by Dependabot', flags: { event: 'pull_request', actor: 'dependabot[bot]' } },
  { label: 'pull_request_target', flags: { event: 'pull_request_target', headRepo: 'someone/fork' } },
  { label: 'merge queue into main', flags: { event: 'merge_group' } },
  { label: 'schedule (on main)', flags: { event: 'schedule', ref: 'refs/heads/main' } },
  { label: 'workflow_dispatch on main', flags: { event: 'workflow_dispatch', ref: 'refs/heads/main' } },
  { label: 'workflow_run', flags: { event: 'workflow_run' } },
  { label: 'issue_comment', flags: { event: 'issue_comment' } },
  { label: 'release', flags: { event: 'release', ref: 'refs/tags/v1.0.0' } }
]
