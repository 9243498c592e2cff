// unsafe-pr-checkout: a pull_request_target or workflow_run job that checks out the pull request's
// code (allow-unsafe-pr-checkout: true, or a ref of the pull request's head) and holds an Nx Cloud
// token or uses the kit: the pull request's code then runs with the token. This was the route of
// Nx's own compromise of August 2025.

import { isKit, readsSecret, tokenEntries } from '../facts/jobs.js'
import { type Finding, defineRule } from '../rule.js'
import type { Job, Workflow } from '../workflow.js'

const TRIGGERS = ['pull_request_target', 'workflow_run']
const HEAD = /github\.event\.pull_request\.head\.|github\.head_ref|github\.event\.workflow_run\.head_|refs\/pull\//

export const unsafePrCheckout = defineRule({
  id: 'unsafe-pr-checkout',
  severity: 'high',
  title: 'A pull_request_target or workflow_run job checks out the pull request and holds an Nx Cloud token or uses the kit',
  description:
    "pull_request_target and workflow_run run with the repository's secrets; checking out the pull request's code there runs outside code (its package.json scripts, its Nx plugins) with the Nx Cloud token in reach.",
  workflow: w => checkouts(w)
})

/** Does the job hold an Nx Cloud token (a secret in env:) or use the kit (token step or cache action)? */
function holdsToken(w: Workflow, job: Job): boolean {
  if (job.steps.some(isKit)) return true
  const env = [...w.env, ...job.env, ...job.steps.flatMap(s => [...s.env, ...(s.githubEnv ?? [])])]
  return tokenEntries(env).some(e => readsSecret(e.value))
}

function checkouts(w: Workflow): Finding[] {
  const triggers = w.triggers.filter(t => TRIGGERS.includes(t))
  if (triggers.length === 0) return []
  const out: Finding[] = []
  for (const job of w.jobs) {
    if (!holdsToken(w, job)) continue
    for (const s of job.steps) {
      if (!/^actions\/checkout@/i.test(s.uses.trim())) continue
      const unsafe = /^\s*true\s*$/i.test(s.with.get('allow-unsafe-pr-checkout')?.value ?? '')
      const head = HEAD.test(s.with.get('ref')?.value ?? '') || HEAD.test(s.with.get('repository')?.value ?? '')
      if (!unsafe && !head) continue
      out.push({
        rule: 'unsafe-pr-checkout',
        severity: 'high',
        file: w.file,
        line: (s.loc ?? job.loc).line,
        message: `Job '${job.id}', triggered by ${triggers.join(', ')}, checks out the pull request's code (${unsafe ? 'allow-unsafe-pr-checkout: true' : 'a ref of its head'}) and holds an Nx Cloud token or uses the kit: the pull request's scripts and Nx plugins run with that token in reach.`,
        fix: "Run the pull request's code under pull_request (no secrets for forks), or keep this job free of Nx Cloud tokens and the kit; never check out the head of a pull request in a job that holds secrets."
      })
    }
  }
  return out
}
