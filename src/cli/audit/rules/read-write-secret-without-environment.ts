// read-write-secret-without-environment: the kit's read-write-token input reads a secret in a job
// that pull requests or branches other than the default run, with no environment. The kit then
// decides read-only for those runs, but the secret is already in the job: a pull request can change
// the workflow it runs and print it. Only an environment whose deployment branches are the protected
// ones keeps a secret from other refs.

import { condition } from '../expressions.js'
import { isKit, readsSecret, usesNxCloud } from '../facts/jobs.js'
import { rate, runsOf } from '../reach.js'
import { type Finding, defineRule } from '../rule.js'
import type { Workflow } from '../workflow.js'

export const readWriteSecretWithoutEnvironment = defineRule({
  id: 'read-write-secret-without-environment',
  severity: 'high',
  title: "The kit's read-write-token reads a secret in a job that pull requests or other branches run, with no environment",
  varies: true,
  description:
    "GitHub hands repository secrets to every same-repository pull request run, and a pull request can change the workflow it runs: the kit's choice of read-only comes after the secret is in the job. A GitHub environment limited to protected branches is what keeps it from other refs.",
  workflow: w => exposed(w)
})

function exposed(w: Workflow): Finding[] {
  const out: Finding[] = []
  const own = runsOf(w.on ?? [])
  // An aliased kit step (`- *kit`) is one input to fix: reported once, at its anchor.
  const seen = new Set<number>()
  for (const job of w.jobs) {
    if (job.environment) continue
    const runs = own.filter(r => condition(job.if ?? '', r) !== false)
    for (const s of job.steps) {
      if (!isKit(s) || !usesNxCloud(s)) continue
      const input = s.with.get('read-write-token')
      if (!input || !readsSecret(input.value) || seen.has(input.loc.offset)) continue
      const { rating, words } = rate(input.value, runs)
      if (rating === null || rating === 'low') continue
      seen.add(input.loc.offset)
      out.push({
        rule: 'read-write-secret-without-environment',
        severity: rating,
        file: w.file,
        line: input.loc.line,
        message: `Job '${job.id}' hands a read-write secret to the kit's read-write-token on ${words.join(', ')} with no environment: the kit gives those runs read-only access, but the secret is already in the job, and a pull request can change the workflow it runs to print it.`,
        fix: 'Make the read-write token a secret of a GitHub environment whose deployment branches are the protected ones, and request that environment (environment:) only in the job that may write (pushes to the default branch); give the other jobs the read-only token.'
      })
    }
  }
  return out
}
