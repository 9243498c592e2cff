// Findings → text (grouped by file, coloured on a terminal), JSON, or SARIF 2.1.0 for GitHub
// code scanning. Paths are relative to the audited root in every format.

import type { Log } from 'sarif'
import { type Io, paint } from '../common.js'
import { RULES } from './registry.js'
import { type Finding, SEVERITIES, type Severity } from './rule.js'

const COLOUR = { high: 'red', medium: 'yellow', low: 'blue', info: 'gray' } as const

/**
 * Workflow text made safe for a log: the audit prints names and values a pull request wrote, and
 * the job that runs it reads its own output for workflow commands (`::error::`, `::add-mask::`,
 * `::stop-commands::`) and a terminal reads escape sequences. Control characters (line breaks
 * included, so nothing starts a line of its own) are written as \\u escapes, and `::` as `: :`, so
 * no command can be formed.
 */
export function safeText(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
      .replace(/::/g, ': :')
  )
}

export function formatText(findings: Finding[], summary: { workflows: number; failOn: Severity }, io: Io): string {
  if (findings.length === 0) {
    return `${paint(io, 'green', 'No findings')} in nx.json and ${summary.workflows} workflow file${summary.workflows === 1 ? '' : 's'}.\n`
  }
  const lines: string[] = []
  const byFile = new Map<string, Finding[]>()
  // A loop, not Math.max(...) nor copied lists: 20,000 findings in a file, 130,000 in all, are what
  // a committed file can give (a spread of that many arguments overflows the stack).
  let lineWidth = 1
  for (const f of findings) {
    const list = byFile.get(f.file) ?? []
    list.push(f)
    byFile.set(f.file, list)
    lineWidth = Math.max(lineWidth, String(f.line).length)
  }
  for (const [file, list] of byFile) {
    lines.push(paint(io, 'bold', safeText(file)))
    for (const f of list) {
      const sev = paint(io, COLOUR[f.severity], f.severity.padEnd(6))
      lines.push(`  ${String(f.line).padStart(lineWidth)}  ${sev}  ${paint(io, 'cyan', f.rule)}`)
      lines.push(`  ${' '.repeat(lineWidth)}  ${safeText(f.message)}`)
      lines.push(`  ${' '.repeat(lineWidth)}  ${paint(io, 'gray', `Fix: ${safeText(f.fix)}`)}`)
    }
    lines.push('')
  }
  const counts = [...SEVERITIES]
    .reverse()
    .map(s => [s, findings.filter(f => f.severity === s).length] as const)
    .filter(([, n]) => n > 0)
  const failing = findings.filter(f => atLeast(f.severity, summary.failOn)).length
  lines.push(
    `${findings.length} finding${findings.length === 1 ? '' : 's'} (${counts.map(([s, n]) => `${n} ${s}`).join(', ')}); ` +
      `${failing} at or above --fail-on ${summary.failOn}.`
  )
  return lines.join('\n') + '\n'
}

export function atLeast(s: Severity, threshold: Severity): boolean {
  return SEVERITIES.indexOf(s) >= SEVERITIES.indexOf(threshold)
}

export function formatJson(findings: Finding[]): string {
  return (
    JSON.stringify(
      { findings: findings.map(f => ({ rule: f.rule, severity: f.severity, file: f.file, line: f.line, message: f.message, fix: f.fix })) },
      null,
      2
    ) + '\n'
  )
}

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { high: 'error', medium: 'warning', low: 'note', info: 'note' }
/**
 * GitHub code scanning ranks security alerts by this rule property (0.1–10). It is per rule
 * only, so a rule whose findings differ in severity goes without it: GitHub then ranks each
 * alert by its result's level (a tag-pinned unpinned-action is a note, not High).
 */
const SECURITY_SEVERITY: Record<Severity, string> = { high: '8.0', medium: '5.5', low: '3.0', info: '1.0' }

export function formatSarif(findings: Finding[]): string {
  const log: Log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'nx-cloud-access',
            informationUri: 'https://github.com/nx-cloud-access/nx-cloud-access',
            rules: RULES.map(r => ({
              id: r.id,
              name: r.id.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase()),
              shortDescription: { text: r.title },
              fullDescription: { text: r.description },
              helpUri: r.helpUri,
              defaultConfiguration: { level: LEVEL[r.severity] },
              properties: r.varies
                ? { tags: ['security', 'nx-cloud'] }
                : { tags: ['security', 'nx-cloud'], 'security-severity': SECURITY_SEVERITY[r.severity] }
            }))
          }
        },
        originalUriBaseIds: { '%SRCROOT%': { description: { text: 'The audited repository root.' } } },
        results: findings.map(f => ({
          ruleId: f.rule,
          ruleIndex: RULES.findIndex(r => r.id === f.rule),
          level: LEVEL[f.severity],
          message: { text: `${f.message} Fix: ${f.fix}` },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: f.file, uriBaseId: '%SRCROOT%' },
                region: { startLine: f.line }
              }
            }
          ],
          properties: { severity: f.severity }
        }))
      }
    ]
  }
  return JSON.stringify(log, null, 2) + '\n'
}
