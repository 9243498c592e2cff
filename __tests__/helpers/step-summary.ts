// A job summary the kit wrote, read back as GitHub renders it (marked's lexer, GitHub-flavoured
// markdown): the kit's part of the file (from its h2 on: Nx may have written its own report first),
// its verdict, cause, "To fix" line, warnings and h3 sections, as plain text (escapes undone).

import { Lexer, marked, type Token, type Tokens } from 'marked'

export interface ParsedSection {
  heading: string
  /** `- **Label:** value` lines, label → value. */
  rows: Record<string, string>
  /** The other list items. */
  items: string[]
}

export interface ParsedSummary {
  /** Every heading of the kit's part, in order, with its depth. */
  headings: { depth: number; text: string }[]
  title: string
  verdict: string
  cause: string
  fix: string | null
  warnings: string[]
  sections: ParsedSection[]
  /** Block-level tokens of the kit's part that are none of the above (raw HTML, a table, a code block). */
  other: string[]
}

/** The text a reader sees of some inline tokens: escapes undone, code spans as their text. */
export function plain(tokens: Token[] | undefined): string {
  return (tokens ?? [])
    .map(t => {
      if ('tokens' in t && t.tokens) return plain(t.tokens)
      if (t.type === 'codespan') return (t as Tokens.Codespan).text
      if (t.type === 'escape' || t.type === 'text') return (t as Tokens.Text).text
      if (t.type === 'br') return '\n'
      return t.raw
    })
    .join('')
}

/** The first `## {title}` of the file and everything after it, parsed; throws when there is none. */
export function parseSummary(markdown: string, title = 'Nx Cloud Access'): ParsedSummary {
  const tokens = new Lexer({ gfm: true }).lex(markdown)
  const start = tokens.findIndex(
    t => t.type === 'heading' && (t as Tokens.Heading).depth === 2 && plain((t as Tokens.Heading).tokens) === title
  )
  if (start < 0) throw new Error(`no '## ${title}' heading in the summary:\n${markdown}`)
  const out: ParsedSummary = { headings: [], title, verdict: '', cause: '', fix: null, warnings: [], sections: [], other: [] }
  let section: ParsedSection | null = null
  for (const t of tokens.slice(start)) {
    if (t.type === 'space') continue
    if (t.type === 'heading') {
      const h = t as Tokens.Heading
      out.headings.push({ depth: h.depth, text: plain(h.tokens) })
      if (h.depth === 3) out.sections.push((section = { heading: plain(h.tokens), rows: {}, items: [] }))
      continue
    }
    if (t.type === 'paragraph') {
      const p = t as Tokens.Paragraph
      const first = p.tokens[0]
      if (out.verdict === '' && p.tokens.length === 1 && first.type === 'strong') out.verdict = plain([first])
      else if (first?.type === 'strong' && plain([first]) === 'To fix:') out.fix = plain(p.tokens.slice(1)).trim()
      else if (out.cause === '' && section === null) out.cause = plain(p.tokens)
      else out.other.push(t.raw)
      continue
    }
    if (t.type === 'list') {
      for (const item of (t as Tokens.List).items) {
        const inline = item.tokens.flatMap(b => ('tokens' in b && b.tokens ? b.tokens : [b]))
        const text = plain(inline)
        if (section === null) out.warnings.push(text.replace(/^⚠️ Warning: /, ''))
        else if (inline[0]?.type === 'strong' && /:$/.test(plain([inline[0]]))) {
          section.rows[plain([inline[0]]).slice(0, -1)] = plain(inline.slice(1)).trim()
        } else section.items.push(text)
      }
      continue
    }
    out.other.push(t.raw)
  }
  return out
}

/** The kit's part as a reader sees it, as text: marked renders it, tags go, list items keep a bullet. */
export function renderedText(markdown: string, title = 'Nx Cloud Access'): string {
  const at = markdown.indexOf(`## ${title}`)
  const html = marked.parse(at < 0 ? markdown : markdown.slice(at), { async: false, gfm: true })
  return html
    .replace(/<li>/g, ' • ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&gt;/g, '>')
    .replace(/&lt;/g, '<')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim()
}
