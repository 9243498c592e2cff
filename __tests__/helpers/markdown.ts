// The repository's markdown as GitHub renders it: which files there are, the anchors their headings
// get (GitHub's slugs, github-slugger), the links they make (marked's lexer, so code spans and
// fenced blocks are not taken for links) and the ```yaml blocks they show.

import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import GithubSlugger from 'github-slugger'
import { Lexer, marked, type Token, type Tokens } from 'marked'
import { REPO_ROOT } from './run-action.js'

/** Every file of the repository, tracked or new but not ignored, relative to its root. */
export function repoFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: REPO_ROOT, encoding: 'utf8' })
  return out.split('\0').filter(f => f !== '')
}

/** Every markdown file of the repository, relative to its root. */
export function markdownFiles(): string[] {
  return repoFiles().filter(f => f.endsWith('.md'))
}

export function readRepoFile(file: string): string {
  return readFileSync(join(REPO_ROOT, file), 'utf8')
}

function plainText(tokens: Token[] | undefined): string {
  return (tokens ?? []).map(t => ('tokens' in t && t.tokens ? plainText(t.tokens) : 'text' in t ? (t.text as string) : '')).join('')
}

/** The anchors of a markdown text: its headings' GitHub slugs (duplicates numbered) and any <a id|name="…">. */
export function anchors(markdown: string): Set<string> {
  const slugger = new GithubSlugger()
  const out = new Set<string>()
  marked.walkTokens(new Lexer().lex(markdown), t => {
    if (t.type === 'heading') out.add(slugger.slug(plainText((t as Tokens.Heading).tokens)))
  })
  for (const m of markdown.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) out.add(m[1])
  return out
}

/** The link and image targets of a markdown text, in order. */
export function linkTargets(markdown: string): string[] {
  const out: string[] = []
  marked.walkTokens(new Lexer().lex(markdown), t => {
    if (t.type === 'link' || t.type === 'image') out.push((t as Tokens.Link).href)
  })
  return out
}

/** The inline code spans of a markdown text (not fenced blocks), in order. */
export function codeSpans(markdown: string): string[] {
  const out: string[] = []
  marked.walkTokens(new Lexer().lex(markdown), t => {
    if (t.type === 'codespan') out.push((t as Tokens.Codespan).text)
  })
  return out
}

/** The ```yaml blocks of a markdown text, in order. */
export function yamlBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```yaml\n([\s\S]*?)^```/gm)].map(m => m[1])
}

/** The markdown files that show at least one ```yaml block, with their blocks. */
export function pagesWithYaml(): { file: string; blocks: string[] }[] {
  return markdownFiles()
    .map(file => ({ file, blocks: yamlBlocks(readRepoFile(file)) }))
    .filter(p => p.blocks.length > 0)
}
