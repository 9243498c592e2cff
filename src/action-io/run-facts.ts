// The run's facts as the runner gives them: the event payload and GITHUB_* variables, plus the
// one network call the kit may make — the default branch, asked of the API only when the payload
// lacks it and the answer can change the decision. Shared by the token step and the cache action.

import * as core from './core.js'
import type { Env } from '../core/inputs.js'
import { type JudgedRun, resolveRunFacts } from '../core/run-facts.js'
import { readRunFromEnv } from './event.js'
import type { PolicyConfig, RunFacts } from '../core/types.js'

export async function runFactsFromEnv(config: PolicyConfig, env: Env): Promise<RunFacts> {
  const runInput = readRunFromEnv(env)
  return resolveRunFacts(runInput, judged =>
    needsDefaultBranchLookup(config, judged) ? lookupDefaultBranch(config.githubToken, runInput.repository) : null
  )
}

/** The API is asked only when its answer can change the decision: a trusted main-only write to a branch. */
function needsDefaultBranchLookup(config: PolicyConfig, run: JudgedRun): boolean {
  return (
    config.setup === 'main-only' &&
    config.writeBranches === null &&
    config.githubToken !== '' &&
    config.writeEvents.includes(run.event) &&
    run.trusted &&
    run.branch !== null
  )
}

async function lookupDefaultBranch(token: string, repository: string): Promise<string | null> {
  const [owner, repo] = repository.split('/')
  try {
    // Loaded only here: @actions/github would triple the step's start-up on every run.
    const { getOctokit } = await import('@actions/github')
    const res = await getOctokit(token).rest.repos.get({ owner, repo })
    return res.data.default_branch || null
  } catch (e) {
    core.warning(
      `Could not look up the default branch of ${repository} with 'github-token' (${e instanceof Error ? e.message : String(e)}); write-branches falls back to main.`
    )
    return null
  }
}
