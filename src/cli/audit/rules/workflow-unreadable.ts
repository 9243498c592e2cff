// workflow-unreadable: a workflow the audit could not judge (not valid YAML, a symlink, not a
// regular file, too large, or more calls of a reusable workflow than it reads).

import { own } from '../facts/jobs.js'
import { type Finding, defineRule } from '../rule.js'
import type { Workflow } from '../workflow.js'

export const workflowUnreadable = defineRule({
  id: 'workflow-unreadable',
  severity: 'medium',
  title: 'A workflow file is not valid YAML, a symlink, not a regular file, or larger than 1 MiB, so it was not audited',
  description:
    'A file under .github/workflows that the audit could not read as GitHub does is reported, so that what it was not able to judge is said rather than passed over.'
})

/**
 * The most steps the audit judges again for the inputs of the local callers of reusable workflows,
 * over the whole audit (each set of inputs judges every step of its callee once more).
 */
export const MAX_CALLED_STEPS = 50_000

/** The finding for a workflow that could not be read. */
export function unreadable(w: Workflow): Finding {
  const error = w.error as NonNullable<Workflow['error']>
  return { rule: 'workflow-unreadable', severity: 'medium', file: own(w.file), line: error.line, ...unreadableWords(w) }
}

export function tooManyCalls(w: Workflow, judged: number, sets: number): Finding {
  return {
    rule: 'workflow-unreadable',
    severity: 'medium',
    file: w.file,
    line: 1,
    message: `${w.file} is called by local workflows with ${sets} different sets of inputs, and its steps with each set are more than this audit reads (${MAX_CALLED_STEPS} steps over all calls), so it judged it with the first ${judged} sets only.`,
    fix: 'Call it with fewer different inputs (or split it into smaller reusable workflows), then audit again.'
  }
}

function unreadableWords(w: Workflow): { message: string; fix: string } {
  const error = w.error as NonNullable<Workflow['error']>
  if (error.tooLarge) {
    return {
      message: `${w.file} holds ${error.message}, more than this audit reads, so it could not judge it.`,
      fix: 'Write the steps or maps out, or alias fewer of them into each other, then audit again.'
    }
  }
  if (!error.file) {
    return {
      message: `${w.file} is not valid YAML (${error.message}), so GitHub will not run it and this audit could not judge it.`,
      fix: 'Fix the YAML error, then audit again.'
    }
  }
  if (error.message === 'a symlink' && !/\.ya?ml$/.test(w.file)) {
    return {
      message: `${w.file} is a symlink: GitHub reads the tree as committed and runs no workflow through it, and this audit did not follow it.`,
      fix: `Commit the workflows themselves under ${w.file}, not a link to them, then audit again.`
    }
  }
  if (error.message === 'a symlink') {
    return {
      message: `${w.file} is a symlink: GitHub reads the link as committed, not the file it points to, so it will not run it as a workflow, and this audit did not follow it.`,
      fix: `Commit the workflow itself at ${w.file}, not a link to it, then audit again.`
    }
  }
  return {
    message: `${w.file} is ${error.message}, so this audit did not read it and could not judge it.`,
    fix: error.message.startsWith('larger')
      ? 'Split it into smaller workflows (a reusable workflow can hold shared jobs), then audit again.'
      : `Remove ${w.file} or replace it with a regular workflow file, then audit again.`
  }
}
