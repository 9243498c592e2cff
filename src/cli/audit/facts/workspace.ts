// Facts about Nx workspaces: the nx.json Nx uses in a folder (the nearest at or above it), the
// workspaces the workflows run Nx in, and where a token sits in nx.json.

import { committedReadWriteTokens } from './committed-tokens.js'
import { parseNxJson, tokenLevel } from '../../../core/nx-config.js'
import type { NxConfig } from '../../../core/types.js'
import { findNodeAtLocation, parseTree } from 'jsonc-parser'
import { posix } from 'node:path'
import type { Context } from '../context.js'

export interface Workspace {
  file: string
  text: string
  config: NxConfig
}

/** The nx.json Nx uses in a folder: the nearest one at or above it. */
export function workspaceAt(ctx: Context, dir: string, cache: Map<string, Workspace | null>): Workspace | null {
  if (cache.has(dir)) return cache.get(dir) ?? null
  let found: Workspace | null
  if (dir === '.') {
    found = ctx.nxJson
  } else {
    const file = `${dir}/nx.json`
    const text = ctx.files.read(file)
    if (text !== null) {
      try {
        found = { file, text, config: parseNxJson(text, file) }
      } catch {
        found = null
      }
    } else {
      found = workspaceAt(ctx, posix.dirname(dir), cache)
    }
  }
  cache.set(dir, found)
  return found
}

/** A workspace finder for one audit: each folder looked up once. */
export function workspaceFinder(ctx: Context): (dir: string) => Workspace | null {
  const cache = new Map<string, Workspace | null>()
  return dir => workspaceAt(ctx, dir, cache)
}

/** The root nx.json always, and every other one a workflow runs Nx in. */
export function workspacesOf(ctx: Context, find: (dir: string) => Workspace | null = workspaceFinder(ctx)): Workspace[] {
  const out: Workspace[] = []
  for (const dir of ['.', ...[...ctx.nxDirs].sort()]) {
    const ws = find(dir)
    if (ws && !out.includes(ws)) out.push(ws)
  }
  return out
}

/** The line of the key holding the token Nx uses (the older layout wins, as in nx-config.ts). */
export function nxJsonTokenLine(text: string, token: string): number {
  const tree = parseTree(text, [], { allowTrailingComma: true, disallowComments: false })
  if (!tree) return 1
  for (const path of [['tasksRunnerOptions', 'default', 'options', 'accessToken'], ['nxCloudAccessToken']]) {
    const n = findNodeAtLocation(tree, path)
    if (n && n.value === token) return text.slice(0, (n.parent ?? n).offset).split('\n').length
  }
  return 1
}

/**
 * Every token nx.json commits, as Nx reads them: the top-level nxCloudAccessToken and the
 * accessToken of every runner under tasksRunnerOptions (not only `default`: `nx run-many
 * --runner=cloud` selects another), each with the line of its key.
 */
export function committedTokens(ws: Workspace): { token: string; line: number; runner: string | null }[] {
  const tree = parseTree(ws.text, [], { allowTrailingComma: true, disallowComments: false })
  if (!tree) return []
  const out: { token: string; line: number; runner: string | null }[] = []
  const line = (offset: number): number => ws.text.slice(0, offset).split('\n').length
  const top = findNodeAtLocation(tree, ['nxCloudAccessToken'])
  if (top && typeof top.value === 'string') out.push({ token: top.value, line: line((top.parent ?? top).offset), runner: null })
  const runners = findNodeAtLocation(tree, ['tasksRunnerOptions'])
  for (const prop of runners?.children ?? []) {
    const name = prop.children?.[0]?.value
    if (typeof name !== 'string') continue
    const n = findNodeAtLocation(tree, ['tasksRunnerOptions', name, 'options', 'accessToken'])
    if (n && typeof n.value === 'string') out.push({ token: n.value, line: line((n.parent ?? n).offset), runner: name })
  }
  return out
}

/** The files of a workspace that commit a read-write token (nx.json in any runner, an env file Nx loads). */
export function committedReadWrite(ctx: Context, ws: Workspace): string[] {
  const out = new Set<string>()
  if (committedTokens(ws).some(t => tokenLevel(t.token) === 'read-write')) out.add(ws.file)
  for (const t of committedReadWriteTokens(ctx.files, ws.file, ws.text, ws.config.accessToken)) out.add(t.file)
  return [...out]
}
