// What the audit knows of an Nx workspace beyond its nx.json: every read-write Nx Cloud token Nx
// reads there, wherever it sits — the env files, loaded and expanded together as Nx loads them
// (core/env-files.ts), and the file nx.json's `extends` names, merged under it by Nx (one level).
// The token step refuses the same tokens (core/policy.ts checkPremises); rule nx-json-read-write-token
// reports them.

import { posix } from 'node:path'
import { ENV_FILES, parseEnvFiles, readWriteEnvFileTokens } from '../../../core/env-files.js'
import { committedTokensOf, readNxJsonObject, tokenLevel } from '../../../core/nx-config.js'
import type { Files } from '../follow.js'

export interface CommittedReadWriteToken {
  file: string
  line: number
  /** What the file does, after its name: "sets NX_CLOUD_AUTH_TOKEN to a token that decodes as read-write, and …". */
  what: string
  value: string
}

/** The read-write tokens Nx reads in the workspace of `nxFile` other than nx.json's own `accessToken` setting. */
export function committedReadWriteTokens(files: Files, nxFile: string, nxText: string, nxAccessToken: string): CommittedReadWriteToken[] {
  const dir = posix.dirname(nxFile)
  const at = (name: string): string => (dir === '.' ? name : `${dir}/${name}`)
  const out: CommittedReadWriteToken[] = []
  const envFiles = parseEnvFiles(
    ENV_FILES.flatMap(name => {
      const text = files.read(at(name))
      return text === null ? [] : [{ name, file: at(name), text }]
    })
  )
  for (const t of readWriteEnvFileTokens(envFiles)) {
    out.push({
      file: t.file,
      line: t.line,
      value: t.value,
      what: `sets ${t.name} to a token that decodes as read-write, and Nx loads that file into every run of the workspace`
    })
  }
  let own: Record<string, unknown>
  try {
    own = readNxJsonObject(nxText, nxFile)
  } catch {
    return out
  }
  // nx.json's other layout: a token Nx does not use is committed all the same.
  for (const t of committedTokensOf(own, nxFile)) {
    if (t.value === nxAccessToken || tokenLevel(t.value) !== 'read-write') continue
    out.push({ file: nxFile, line: lineOf(nxText, t.value), value: t.value, what: `commits a token that decodes as read-write (${t.key})` })
  }
  if (typeof own.extends !== 'string' || own.extends === '' || !files.resolveExtends) return out
  const baseFile = files.resolveExtends(own.extends, dir)
  const baseText = baseFile === null ? null : files.read(baseFile)
  if (baseFile === null || baseText === null) return out
  let base: Record<string, unknown>
  try {
    base = readNxJsonObject(baseText, baseFile)
  } catch {
    return out
  }
  for (const t of committedTokensOf(base, baseFile)) {
    if (tokenLevel(t.value) !== 'read-write') continue
    out.push({
      file: baseFile,
      line: lineOf(baseText, t.value),
      value: t.value,
      what: `commits a token that decodes as read-write (${t.key}), and ${nxFile} extends it ('${own.extends}'), so Nx merges it into every run of the workspace`
    })
  }
  return out
}

function lineOf(text: string, value: string): number {
  const i = text.indexOf(value)
  return i < 0 ? 1 : text.slice(0, i).split('\n').length
}
