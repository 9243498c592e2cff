// The workspace's env files as Nx reads them (docs/POLICY.md#exports): Nx loads `.local.env`,
// `.env.local` and `.env` from the workspace root into every run (dotenv, then dotenv-expand), and
// Nx Cloud's client falls back to `nx-cloud.env`. A token there reaches Nx wherever the job's
// environment leaves that variable empty.

import { parse } from 'dotenv'
import { expand } from 'dotenv-expand'
import type { EnvFileToken } from './types.js'

export const ENV_FILES = ['.local.env', '.env.local', '.env', 'nx-cloud.env'] as const

/** The Nx Cloud tokens one env file sets, its `${OTHER}` expanded as Nx expands it (never into our env). */
export function envFileTokensOf(text: string, file: string): EnvFileToken[] {
  const parsed = expand({ parsed: parse(text), processEnv: {} }).parsed ?? {}
  const found: EnvFileToken[] = []
  for (const name of ['NX_CLOUD_AUTH_TOKEN', 'NX_CLOUD_ACCESS_TOKEN'] as const) {
    const value = parsed[name] ?? ''
    if (value !== '') found.push({ file, name, value })
  }
  return found
}
