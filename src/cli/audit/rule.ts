// What a rule is: an id, a severity, a title, its documentation (a section of docs/audit-rules.md,
// which SARIF's helpUri points at) and its check. The rules themselves are in rules/<id>.ts, listed
// once in registry.ts, from which the type of a rule id comes.

import type { Setup } from '../../core/types.js'
import type { Context, Options } from './context.js'
import type { RuleId } from './registry.js'
import type { Workflow } from './workflow.js'

export const SEVERITIES = ['info', 'low', 'medium', 'high'] as const
export type Severity = (typeof SEVERITIES)[number]

export interface Finding {
  rule: RuleId
  severity: Severity
  file: string
  line: number
  message: string
  fix: string
}

/** Where a rule's documentation is: its section of docs/audit-rules.md. */
export const DOCS = 'https://github.com/nx-cloud-access/nx-cloud-access/blob/main/docs/audit-rules.md'

export interface Rule<Id extends string = string> {
  id: Id
  /** The severity of its findings; for a rule whose findings differ, the highest (see varies). */
  severity: Severity
  title: string
  /** Its findings' severities differ (unpinned-action: branch high, tag low). */
  varies?: true
  /** One paragraph: what it looks for and why it matters (docs/audit-rules.md has the rest). */
  description: string
  /** docs/audit-rules.md#<id>. */
  helpUri: string
  /** Findings about one workflow, judged when it is read (a workflow is let go once judged). */
  workflow?: (w: Workflow, ctx: Context, setup: Setup) => Finding[]
  /** Findings made at the end, from what the engine gathered over every workflow. */
  repo?: (ctx: Context, setups: Set<Setup>, opts: Options) => Finding[]
}

export function defineRule<Id extends string>(rule: Omit<Rule<Id>, 'helpUri'>): Rule<Id> {
  return { ...rule, helpUri: `${DOCS}#${rule.id}` }
}
