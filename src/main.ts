// The token step: read → decide → apply. The one place that wires I/O together.

import * as core from '@actions/core'
import { resolve } from 'node:path'
import { apply, mask } from './apply.js'
import { type Env, getInput, readInputs } from './inputs.js'
import { readNxConfig } from './nx-config.js'
import { decide } from './policy.js'
import { classifyTrust, payloadDefaultBranch, readRunFromEnv, resolveRunFacts, runBranch, type RunInput } from './run-context.js'
import type { Config } from './types.js'

const SECRET_INPUTS = ['read-write-token', 'read-only-token', 'encryption-key', 'github-token']

export async function run(env: Env = process.env): Promise<void> {
  try {
    // Mask raw secrets before anything can print them, even ones the parser will reject.
    mask(SECRET_INPUTS.map(name => getInput(env, name)))
    const config = readInputs(env)
    const runInput = readRunFromEnv(env)
    const nx = readNxConfig(resolve(env.GITHUB_WORKSPACE || process.cwd(), config.workingDirectory))
    mask([nx.accessToken, nx.encryptionKey])
    const lookup = needsDefaultBranchLookup(config, runInput)
      ? () => lookupDefaultBranch(config.githubToken, runInput.repository)
      : undefined
    const facts = await resolveRunFacts(runInput, lookup)
    await apply(decide(config, facts, nx, env))
  } catch (e) {
    // One ::error:: line; nothing was exported, since exports happen only in apply().
    core.setFailed(e instanceof Error ? e.message.replace(/\s*\n\s*/g, ' ') : String(e))
  }
}

/** The API is asked only when its answer can change the decision. Shared with the cache action. */
export function needsDefaultBranchLookup(config: Config, runInput: RunInput): boolean {
  return (
    config.setup === 'main-only' &&
    config.writeBranches === null &&
    config.githubToken !== '' &&
    payloadDefaultBranch(runInput.payload) === null &&
    config.writeEvents.includes(runInput.event) &&
    classifyTrust(runInput).trusted &&
    runBranch(runInput).branch !== null
  )
}

export async function lookupDefaultBranch(token: string, repository: string): Promise<string | null> {
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
