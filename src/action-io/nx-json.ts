// nx.json from disk: the workspace's file, parsed as Nx reads it by core/nx-config.ts.
// A workspace folder that does not exist is an error; a missing nx.json is not (decide() warns,
// naming the path looked at); an unreadable or malformed one is.

import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { ENV_FILES, envFileTokensOf } from '../core/env-files.js'
import { NO_NX_JSON, parseNxJson } from '../core/nx-config.js'
import { type EnvFileToken, type NxConfig, PolicyError } from '../core/types.js'

export function readNxConfig(workspaceDir: string): NxConfig {
  let isDir: boolean
  try {
    isDir = statSync(workspaceDir).isDirectory()
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error'
    throw new PolicyError(
      `Input 'working-directory' points at ${workspaceDir}, which ${code === 'ENOENT' || code === 'ENOTDIR' ? 'does not exist' : `cannot be read (${code})`}. Accepted: the folder of the Nx workspace (where nx.json is), relative to the checkout; check actions/checkout's path and this input.`
    )
  }
  if (!isDir) {
    throw new PolicyError(
      `Input 'working-directory' points at ${workspaceDir}, which is not a folder. Accepted: the folder of the Nx workspace (where nx.json is), relative to the checkout.`
    )
  }
  const path = join(workspaceDir, 'nx.json')
  const envFileTokens = readEnvFileTokens(workspaceDir)
  let text: string
  try {
    // A FIFO or a device (a symlink to /dev/zero) would hang the step or fill its memory.
    if (!statSync(path).isFile()) {
      throw new PolicyError(
        `Input 'working-directory' points at ${path}, which is not a regular file. Accepted: a readable nx.json, or none.`
      )
    }
    text = readFileSync(path, 'utf8')
  } catch (e) {
    if (e instanceof PolicyError) throw e
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { ...NO_NX_JSON, lookedAt: path, envFileTokens }
    throw new PolicyError(
      `Input 'working-directory' points at an unreadable ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'}). Accepted: a readable nx.json, or none.`
    )
  }
  return { ...parseNxJson(text, path), envFileTokens }
}

/** The Nx Cloud tokens the workspace's env files set, parsed as Nx parses them (dotenv). */
function readEnvFileTokens(workspaceDir: string): EnvFileToken[] {
  const found: EnvFileToken[] = []
  for (const name of ENV_FILES) {
    const file = join(workspaceDir, name)
    let text: string
    try {
      // Whatever its size: Nx reads it whole. Not a FIFO or a device (Nx would hang or fail there).
      if (!statSync(file).isFile()) continue
      text = readFileSync(file, 'utf8')
    } catch {
      continue
    }
    found.push(...envFileTokensOf(text, file))
  }
  return found
}
