// nx.json and the workspace's env files from disk, read as Nx 24 reads them: nx.json parsed by
// core/nx-config.ts and merged over the file its `extends` names (nx/src/config/nx-json.js:
// `require.resolve(extends, { paths: [<root>/.nx/installation, <root>] })`, one level), and the
// env files parsed by core/env-files.ts. A workspace folder that does not exist is an error; a
// missing nx.json is not (decide() warns, naming the path looked at); an unreadable or malformed
// one is, and so is an `extends` that leaves the repository or does not resolve.

import { readFileSync, realpathSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { isAbsolute, join, relative } from 'node:path'
import { type EnvFile, ENV_FILES, envFileTokens, parseEnvFiles } from '../core/env-files.js'
import { NO_NX_JSON, extendNxJson, parseNxJson, readNxJsonObject } from '../core/nx-config.js'
import { type NxConfig, PolicyError } from '../core/types.js'

/**
 * @param workspaceDir the Nx workspace's folder (where nx.json is)
 * @param repoRoot the checkout: nothing outside it is read (default: the workspace folder)
 */
export function readNxConfig(workspaceDir: string, repoRoot: string = workspaceDir): NxConfig {
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
  const envFiles = parseEnvFiles(readEnvFiles(workspaceDir))
  const withEnv = (c: NxConfig): NxConfig => ({ ...c, envFiles, envFileTokens: envFileTokens(envFiles) })
  const text = readRegularFile(path, "Input 'working-directory' points at")
  if (text === null) return withEnv({ ...NO_NX_JSON, lookedAt: path })
  return withEnv(nxConfigOfText(text, path, workspaceDir, repoRoot))
}

/** nx.json's text → the settings Nx takes from it, merged over the file its `extends` names. */
export function nxConfigOfText(text: string, path: string, workspaceDir: string, repoRoot: string): NxConfig {
  const own = parseNxJson(text, path)
  if (own.extends === undefined) return own
  const basePath = resolveExtends(own.extends, workspaceDir, repoRoot, path)
  const baseText = readRegularFile(basePath, `${path} extends '${own.extends}':`)
  if (baseText === null) throw new PolicyError(`${path} extends '${own.extends}', which does not exist. Accepted: a file Nx can read.`)
  return extendNxJson({ json: readNxJsonObject(text, path), path }, { json: readNxJsonObject(baseText, basePath), path: basePath })
}

/** A regular file's text; null when it does not exist; anything else (a FIFO, a device, unreadable) is refused. */
function readRegularFile(path: string, what: string): string | null {
  try {
    // A FIFO or a device (a symlink to /dev/zero) would hang the step or fill its memory.
    if (!statSync(path).isFile()) {
      throw new PolicyError(`${what} ${path}, which is not a regular file. Accepted: a readable nx.json, or none.`)
    }
    return readFileSync(path, 'utf8')
  } catch (e) {
    if (e instanceof PolicyError) throw e
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new PolicyError(
      `${what} an unreadable ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'}). Accepted: a readable nx.json, or none.`
    )
  }
}

/**
 * The file nx.json's `extends` names, found as Nx finds it (Node's resolver, from the workspace's
 * `.nx/installation` and then its root, symlinks resolved), and refused when it is outside the
 * repository or does not resolve.
 */
export function resolveExtends(spec: string, workspaceDir: string, repoRoot: string, nxJsonPath = join(workspaceDir, 'nx.json')): string {
  let found: string
  try {
    found = createRequire(join(workspaceDir, 'nx.json')).resolve(spec, { paths: [join(workspaceDir, '.nx', 'installation'), workspaceDir] })
  } catch {
    throw new PolicyError(
      `${nxJsonPath} extends '${spec}', which does not resolve from ${workspaceDir} (Nx would fail to start). Accepted: a path relative to nx.json ('./nx.base.json') or an installed package's file, inside the repository.`
    )
  }
  let real: string
  let root: string
  try {
    real = realpathSync(found)
    root = realpathSync(repoRoot)
  } catch (e) {
    throw new PolicyError(`${nxJsonPath} extends '${spec}', which cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'}).`)
  }
  const rel = relative(root, real)
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw new PolicyError(
      `${nxJsonPath} extends '${spec}', which is ${real}, outside the repository (${root}): the kit reads nothing outside the checkout, so it cannot know what Nx would take from it. Accepted: a base file inside the repository, not a symlink out of it.`
    )
  }
  return real
}

/** The workspace's env files that exist as regular files, whatever their size, as Nx reads them. */
function readEnvFiles(workspaceDir: string): EnvFile[] {
  const found: EnvFile[] = []
  for (const name of ENV_FILES) {
    const file = join(workspaceDir, name)
    try {
      // Whatever its size: Nx reads it whole. Not a FIFO or a device (Nx would hang or fail there).
      if (!statSync(file).isFile()) continue
      found.push({ name, file, text: readFileSync(file, 'utf8') })
    } catch {
      continue
    }
  }
  return found
}
