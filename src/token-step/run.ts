// The token step: read → decide → apply. The one place that wires I/O together.

import { resolve } from 'node:path'
import { apply, applyFailure } from './apply.js'
import { mask } from '../action-io/runner.js'
import { type Env, SECRET_INPUTS, getInput, readInputs } from '../core/inputs.js'
import { readNxConfig } from '../action-io/nx-json.js'
import { decide } from '../core/policy.js'
import { runFactsFromEnv } from '../action-io/run-facts.js'

export async function run(env: Env = process.env): Promise<void> {
  // Every secret known so far: masked in the log, and hidden from a failure's summary.
  const secrets = SECRET_INPUTS.map(name => getInput(env, name))
  try {
    // Mask raw secrets before anything can print them, even ones the parser will reject.
    mask(secrets)
    const config = readInputs(env)
    const checkout = resolve(env.GITHUB_WORKSPACE || process.cwd())
    const nx = readNxConfig(resolve(checkout, config.workingDirectory), checkout)
    secrets.push(nx.accessToken, nx.encryptionKey, ...(nx.committedTokens ?? []).map(t => t.value))
    mask([nx.accessToken, nx.encryptionKey])
    const facts = await runFactsFromEnv(config, env)
    await apply(decide(config, facts, nx, env), nx.encryptionKey !== '')
  } catch (e) {
    // One ::error:: line and a summary of what failed; nothing was exported, since exports happen only in apply().
    await applyFailure(e, secrets)
  }
}
