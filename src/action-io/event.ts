// The event the runner hands a step: GITHUB_EVENT_NAME, the refs, and the payload file
// (GITHUB_EVENT_PATH) → the plain RunInput that core/run-facts.ts judges.

import { readFileSync } from 'node:fs'
import type { Env } from '../core/inputs.js'
import type { Payload, RunInput } from '../core/run-facts.js'

export function readRunFromEnv(env: Env): RunInput {
  const path = env.GITHUB_EVENT_PATH
  let payload: Payload = {}
  if (path) {
    try {
      payload = JSON.parse(readFileSync(path, 'utf8')) as Payload
    } catch {
      // A runner always writes this file; a missing or broken one leaves only the env to go by,
      // and a pull request without its payload is then untrusted (classifyTrust fails closed).
      payload = {}
    }
  }
  return {
    event: env.GITHUB_EVENT_NAME ?? '',
    ref: env.GITHUB_REF ?? '',
    actor: env.GITHUB_ACTOR ?? '',
    repository: env.GITHUB_REPOSITORY ?? '',
    payload
  }
}
