// A step's job summary as GitHub renders it: markdown, one shape for every step of the kit, so a
// reader finds the same things in the same places. Under the step's name (h2): the verdict (one
// bold line), the cause (one sentence), one "To fix" line where there is something to fix, the
// warnings, then the details (h3 sections). Pure: the token step and the rebuild step write it.
//
// Anything from a run (branch names, task ids, paths, messages) is escaped, so that nothing in it
// becomes markup: a branch named `*x*` or `<img src=…>` shows as it is.

/** Text, or a code span (task ids, variable names), or a run of both. */
export type Inline = string | { code: string } | Inline[]

export interface SummarySection {
  /** The h3 heading. */
  heading: string
  /** `Label: value` lines, in order; a row that does not apply to a run is left out by its caller. */
  rows?: [string, Inline][]
  /** A bullet list after the rows. */
  items?: Inline[]
}

export interface StepSummaryDoc {
  /** The step's name: the h2 heading, the same on every run of the step. */
  title: string
  /** What happened, in a few words: `Nx Cloud access: read-only`. Shown bold. */
  verdict: string
  /** Why, in a sentence or two. */
  cause: Inline
  /** What to change, one sentence; null or absent where there is nothing to fix. */
  fix?: Inline | null
  /** Shown before the details, each marked as a warning. */
  warnings?: string[]
  sections?: SummarySection[]
}

/** Characters that can open markup anywhere in a line; `_` only at a word's edge (GFM ignores intraword `_`). */
const INLINE_MARKUP = /[\\`*[\]<>&|~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])/g

/** Text as literal markdown: every character that could open markup is backslash-escaped; one line. */
export function escapeMarkdown(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').replace(INLINE_MARKUP, c => `\\${c}`)
}

/** A code span that holds any text: fenced by one more backtick than the longest run inside. */
export function codeSpan(text: string): string {
  const oneLine = text.replace(/\s*[\r\n]+\s*/g, ' ')
  const fence = '`'.repeat(Math.max(0, ...[...oneLine.matchAll(/`+/g)].map(m => m[0].length)) + 1)
  // A span that starts or ends with a backtick (or a space) needs a space inside its fence.
  const pad = /^[` ]|[` ]$/.test(oneLine) ? ' ' : ''
  return `${fence}${pad}${oneLine}${pad}${fence}`
}

export function inline(i: Inline): string {
  if (typeof i === 'string') return escapeMarkdown(i)
  if (Array.isArray(i)) return i.map(inline).join('')
  return codeSpan(i.code)
}

/** A paragraph whose first characters would start a block (a heading, a list, a quote) starts escaped. */
function paragraph(i: Inline): string {
  const text = inline(i)
  return /^(?:[#>+=-]|\d+[.)])/.test(text) ? `\\${text}` : text
}

export function renderStepSummary(doc: StepSummaryDoc): string {
  const blocks = [`## ${escapeMarkdown(doc.title)}`, `**${escapeMarkdown(doc.verdict)}**`, paragraph(doc.cause)]
  if (doc.fix !== undefined && doc.fix !== null) blocks.push(`**To fix:** ${inline(doc.fix)}`)
  if (doc.warnings !== undefined && doc.warnings.length > 0) {
    blocks.push(doc.warnings.map(w => `- ⚠️ **Warning:** ${inline(w)}`).join('\n'))
  }
  for (const s of doc.sections ?? []) {
    const rows = s.rows ?? []
    const items = s.items ?? []
    if (rows.length === 0 && items.length === 0) continue
    blocks.push(`### ${escapeMarkdown(s.heading)}`)
    if (rows.length > 0) blocks.push(rows.map(([k, v]) => `- **${escapeMarkdown(k)}:** ${inline(v)}`).join('\n'))
    // Another bullet character starts another list: the items do not run on from the rows.
    const bullet = rows.length > 0 ? '*' : '-'
    if (items.length > 0) blocks.push(items.map(i => `${bullet} ${inline(i)}`).join('\n'))
  }
  return `${blocks.join('\n\n')}\n`
}
