// The token step: read → decide → apply. The one place that wires I/O together.

import * as core from '@actions/core'
import { resolve } from 'node:path'
import { apply, mask } from './apply.js'
import { type Env, getInput, readInputs } from './inputs.js'
import { readNxConfig } from './nx-config.js'
import { decide } from './policy.js'
import { runFactsFromEnv } from './run-facts.js'

const SECRET_INPUTS = ['read-write-token', 'read-only-token', 'encryption-key', 'github-token']

export async function run(env: Env = process.env): Promise<void> {
  try {
    // Mask raw secrets before anything can print them, even ones the parser will reject.
    mask(SECRET_INPUTS.map(name => getInput(env, name)))
    const config = readInputs(env)
    const nx = readNxConfig(resolve(env.GITHUB_WORKSPACE || process.cwd(), config.workingDirectory))
    mask([nx.accessToken, nx.encryptionKey])
    const facts = await runFactsFromEnv(config, env)
    await apply(decide(config, facts, nx, env))
  } catch (e) {
    // One ::error:: line; nothing was exported, since exports happen only in apply().
    core.setFailed(e instanceof Error ? e.message.replace(/\s*\n\s*/g, ' ') : String(e))
  }
}
