// kit-step-fails: a kit step whose inputs the kit rejects, so every run of it fails (an unknown
// setup:, a malformed boolean, a bad URL …). Read with the kit's own input reader, so the audit
// rejects exactly what the action rejects. Inputs set by an expression are left to run time.

import { readInputs } from '../../../core/inputs.js'
import { PolicyError } from '../../../core/types.js'
import { isKit } from '../facts/jobs.js'
import { type Finding, defineRule } from '../rule.js'
import type { Workflow } from '../workflow.js'

export const kitStepFails = defineRule({
  id: 'kit-step-fails',
  severity: 'high',
  title: 'A kit step has inputs the kit rejects, so every run of it fails',
  description:
    'The token step reads its inputs before anything else and fails the run on one it does not accept; the audit reads the same inputs with the same code.',
  workflow: w => failing(w)
})

function failing(w: Workflow): Finding[] {
  const out: Finding[] = []
  const seen = new Set<number>()
  for (const job of w.jobs) {
    for (const s of job.steps) {
      // The token step only: the cache action (…/nx-cloud-access/cache@…) reads other inputs.
      if (!isKit(s) || /\/nx-cloud-access\/cache(?:\/|@)/.test(s.uses) || !s.usesLoc || seen.has(s.usesLoc.offset)) continue
      seen.add(s.usesLoc.offset)
      const env: Record<string, string> = {}
      for (const [name, e] of s.with) if (!e.value.includes('${{')) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = e.value
      try {
        readInputs(env)
      } catch (e) {
        if (!(e instanceof PolicyError)) throw e
        out.push({
          rule: 'kit-step-fails',
          severity: 'high',
          file: w.file,
          line: s.usesLoc.line,
          message: `The kit step in job '${job.id}' will fail every run: ${e.message}`,
          fix: 'Correct the input as the message says, then audit again.'
        })
      }
    }
  }
  return out
}
