// nx.json from disk: the workspace's file, parsed as Nx reads it by core/nx-config.ts.
// A missing nx.json is not an error here (the caller says what it means); an unreadable one is.

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { NO_NX_JSON, parseNxJson } from '../core/nx-config.js'
import { type NxConfig, PolicyError } from '../core/types.js'

export function readNxConfig(workspaceDir: string): NxConfig {
  const path = join(workspaceDir, 'nx.json')
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { ...NO_NX_JSON }
    throw new PolicyError(
      `Input 'working-directory' points at an unreadable ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'}). Accepted: a readable nx.json, or none.`
    )
  }
  return parseNxJson(text, path)
}
