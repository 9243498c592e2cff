// The workspace's env files as Nx reads them (docs/POLICY.md#exports), mirrored from Nx 24's own
// code so that the kit and Nx settle on the same token:
//
// - nx/src/utils/dotenv.js (loadRootEnvFiles), at every start: dotenv's config() with the paths
//   `.local.env`, `.env.local`, `.env` of the workspace root, all parsed into ONE object (the first
//   file to set a name wins), put into the environment where the job left a name unset, then one
//   dotenv-expand over that object, which sees the job's environment and every file's names at
//   once: `NX_CLOUD_AUTH_TOKEN=${NX_RW}` in `.env` takes `NX_RW` from the next line or from
//   `.env.local`. A name the job set to '' is filled in by the file (dotenv-expand's short-cut
//   takes only a non-empty job value).
// - nx/src/nx-cloud/utilities/environment.js: Nx Cloud's token is NX_CLOUD_AUTH_TOKEN ||
//   NX_CLOUD_ACCESS_TOKEN of that environment || the same two of `nx-cloud.env`, which is parsed
//   alone and NOT expanded.
//
// The same dotenv and dotenv-expand versions as Nx's are used (package.json), never on our env.

import { parse, populate } from 'dotenv'
import { expand } from 'dotenv-expand'
import type { Env } from './inputs.js'
import { tokenLevel } from './nx-config.js'
import type { EnvFileToken } from './types.js'

/** The files Nx's loadRootEnvFiles reads, in its order. */
export const ROOT_ENV_FILES = ['.local.env', '.env.local', '.env'] as const
/** The file Nx Cloud's client falls back to (parsed alone, never expanded). */
export const CLOUD_ENV_FILE = 'nx-cloud.env'
export const ENV_FILES = [...ROOT_ENV_FILES, CLOUD_ENV_FILE] as const
export type EnvFileName = (typeof ENV_FILES)[number]

export const NX_TOKEN_VARIABLES = ['NX_CLOUD_AUTH_TOKEN', 'NX_CLOUD_ACCESS_TOKEN'] as const

/** One env file of the workspace as read: `file` is how it is named in messages (its path). */
export interface EnvFile {
  name: EnvFileName
  file: string
  text: string
}

/** The files Nx reads, parsed once: what a run's environment becomes is worked out from these. */
export interface WorkspaceEnv {
  /** `.local.env`, `.env.local`, `.env` that exist, in Nx's order, each parsed by dotenv. */
  root: { name: EnvFileName; file: string; text: string; parsed: Record<string, string> }[]
  /** `nx-cloud.env`, parsed by dotenv alone; null when there is none. */
  cloud: { file: string; text: string; parsed: Record<string, string> } | null
}

export const NO_ENV_FILES: WorkspaceEnv = { root: [], cloud: null }

export function parseEnvFiles(files: readonly EnvFile[]): WorkspaceEnv {
  const root: WorkspaceEnv['root'] = []
  let cloud: WorkspaceEnv['cloud'] = null
  for (const name of ROOT_ENV_FILES) {
    const f = files.find(x => x.name === name)
    if (f) root.push({ ...f, parsed: parse(f.text) })
  }
  const c = files.find(x => x.name === CLOUD_ENV_FILE)
  if (c) cloud = { file: c.file, text: c.text, parsed: parse(c.text) }
  return { root, cloud }
}

/**
 * The environment Nx runs with, given the job's: loadRootEnvFiles over a copy of `job`, exactly
 * as Nx does it over process.env (dotenv's populate, then dotenv-expand). `job` is not changed.
 */
export function nxEnvironment(files: WorkspaceEnv, job: Env): Env {
  const processEnv: Record<string, string> = {}
  for (const [k, v] of Object.entries(job)) if (v !== undefined) processEnv[k] = v
  const parsedAll: Record<string, string> = {}
  for (const f of files.root) populate(parsedAll, { ...f.parsed })
  populate(processEnv, parsedAll)
  expand({ parsed: parsedAll, processEnv })
  return processEnv
}

/** Where Nx Cloud's token comes from once Nx has loaded the env files: environment.js's ACCESS_TOKEN. */
export interface NxCloudEnvToken {
  value: string
  /** The variable that carries it ('' when none does). */
  name: '' | (typeof NX_TOKEN_VARIABLES)[number]
  /** `nx-cloud.env`'s path when it comes from there; null when from the environment (or none). */
  cloudFile: string | null
}

export function nxCloudEnvToken(files: WorkspaceEnv, env: Env): NxCloudEnvToken {
  for (const name of NX_TOKEN_VARIABLES) if (env[name]) return { value: env[name], name, cloudFile: null }
  const parsed = files.cloud?.parsed ?? {}
  for (const name of NX_TOKEN_VARIABLES) if (parsed[name]) return { value: parsed[name], name, cloudFile: files.cloud!.file }
  return { value: '', name: '', cloudFile: null }
}

/**
 * The file of the workspace that gives Nx a variable when the job leaves it empty: the first of
 * loadRootEnvFiles's files that sets it, else (token variables only) `nx-cloud.env`.
 */
export function envFileSetting(files: WorkspaceEnv, name: string): { file: string; text: string } | null {
  return files.root.find(f => Object.prototype.hasOwnProperty.call(f.parsed, name)) ?? null
}

/**
 * The Nx Cloud tokens the env files give Nx wherever the job's environment leaves that variable
 * empty: the root files loaded and expanded together (with the job's environment given, if any),
 * then `nx-cloud.env`'s two names.
 */
export function envFileTokens(files: WorkspaceEnv, job: Env = {}): EnvFileToken[] {
  const loaded = nxEnvironment(files, withoutTokens(job))
  const found: EnvFileToken[] = []
  for (const name of NX_TOKEN_VARIABLES) {
    const value = loaded[name] ?? ''
    const from = envFileSetting(files, name)
    if (value !== '' && from !== null) found.push({ file: from.file, name, value })
  }
  for (const name of NX_TOKEN_VARIABLES) {
    const value = files.cloud?.parsed[name] ?? ''
    if (value !== '' && !found.some(t => t.name === name)) found.push({ file: files.cloud!.file, name, value })
  }
  return found
}

function withoutTokens(job: Env): Env {
  const out: Env = { ...job }
  for (const name of NX_TOKEN_VARIABLES) delete out[name]
  return out
}

/** A read-write Nx Cloud token an env file commits, wherever it sits: the variable, its file and line. */
export interface CommittedEnvToken {
  file: string
  name: string
  value: string
  /** 1-based; the last line assigning the name in that file (dotenv keeps a file's last one). */
  line: number
}

/**
 * Every variable of the env files whose value decodes as a read-write Nx Cloud token: as written,
 * and as Nx loads it (the root files expanded together with nothing from the job; `nx-cloud.env`
 * as parsed). Token variables first, then the others; each token once a file.
 */
export function readWriteEnvFileTokens(files: WorkspaceEnv): CommittedEnvToken[] {
  const loaded = nxEnvironment(files, {})
  const out: CommittedEnvToken[] = []
  const add = (file: string, text: string, name: string, value: string): void => {
    // One finding a token and file: the token variable that carries it, else the first name holding it.
    if (tokenLevel(value) !== 'read-write' || out.some(t => t.file === file && (t.name === name || t.value === value))) return
    out.push({ file, name, value, line: assignmentLine(text, name) })
  }
  const names = new Set<string>([...NX_TOKEN_VARIABLES])
  for (const f of files.root) for (const n of Object.keys(f.parsed)) names.add(n)
  for (const name of names) {
    const from = envFileSetting(files, name)
    if (from !== null) add(from.file, from.text, name, loaded[name] ?? '')
    // A file whose value another file shadows is still committed.
    for (const f of files.root) if (name in f.parsed) add(f.file, f.text, name, f.parsed[name])
  }
  if (files.cloud) for (const [name, value] of Object.entries(files.cloud.parsed)) add(files.cloud.file, files.cloud.text, name, value)
  return out
}

/** The last line of `text` that assigns `name` as dotenv reads it (`NAME=`, `export NAME=`, `NAME:`); 1 when none is found. */
export function assignmentLine(text: string, name: string): number {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const assigns = new RegExp(`^\\s*(?:export\\s+)?${escaped}\\s*[=:]`)
  let line = 0
  text.split(/\r\n|\r|\n/).forEach((l, i) => {
    if (assigns.test(l)) line = i + 1
  })
  return line > 0 ? line : 1
}

/** NX_NO_CLOUD as Nx reads it: exactly 'true' turns Nx Cloud off. */
export function nxNoCloud(env: Env): boolean {
  return env.NX_NO_CLOUD === 'true'
}
