// nx-json-read-write-token: a read-write Nx Cloud token committed in nx.json or in an env file Nx
// loads into every run: anyone who can read the repository can write to the cache.

import { tokenLevel } from '../../../core/nx-config.js'
import type { Setup } from '../../../core/types.js'
import type { Context, Options } from '../context.js'
import { type Workspace, committedTokens, nxJsonTokenLine, workspacesOf } from '../facts/workspace.js'
import { committedReadWriteTokens } from '../facts/committed-tokens.js'
import { type Finding, defineRule } from '../rule.js'

export const nxJsonReadWriteToken = defineRule({
  id: 'nx-json-read-write-token',
  severity: 'high',
  title: 'A read-write Nx Cloud token is committed in nx.json',
  description:
    'A token committed in nx.json (or in an env file Nx loads) is given to everyone who can read the repository; a read-write one lets all of them write to the cache every CI run reads.',
  repo: (ctx, setups, opts) => readWriteTokenFindings(ctx, setups, opts)
})

function readWriteTokenFindings(ctx: Context, setups: Set<Setup>, opts: Options): Finding[] {
  const out: Finding[] = []
  const workspaces = workspacesOf(ctx)
  const strict = [...setups].filter(s => s === 'main-only' || s === 'ci-read-write')
  for (const nx of workspaces) {
    if (strict.length === 0 && !opts.public) continue
    // The token Nx uses by default (as nx-config.ts reads it), then every other runner's: a runner
    // selected with --runner (or NX_RUNNER) uses its own accessToken.
    const tokens: { line: number; runner: string | null }[] = []
    if (tokenLevel(nx.config.accessToken) === 'read-write')
      tokens.push({ line: nxJsonTokenLine(nx.text, nx.config.accessToken), runner: null })
    for (const t of committedTokens(nx)) {
      if (tokenLevel(t.token) !== 'read-write' || t.token === nx.config.accessToken) continue
      tokens.push({ line: t.line, runner: t.runner })
    }
    for (const t of tokens) out.push(finding(ctx, nx, strict, t))
  }
  if (strict.length > 0 || opts.public) for (const nx of workspaces) out.push(...envFileTokenFindings(ctx, nx, strict, opts))
  return out
}

function finding(ctx: Context, nx: Workspace, strict: Setup[], t: { line: number; runner: string | null }): Finding {
  const where = t.runner === null ? nx.file : `${nx.file} (tasksRunnerOptions.${t.runner}, which --runner=${t.runner} selects)`
  return {
    rule: 'nx-json-read-write-token',
    severity: 'high',
    file: nx.file,
    line: t.line,
    message:
      strict.length === 0
        ? `${where} commits a token that decodes as read-write in a public repository: anyone on the internet can write to the cache.`
        : ctx.kit
          ? `${where} commits a token that decodes as read-write, under setup ${strict.join(' and ')}: anyone who can read the repository can write to the cache, which this setup exists to prevent (the kit fails such runs).`
          : `${where} commits a token that decodes as read-write: anyone who can read the repository can write to the cache. The guide commits only a read-only token and keeps the read-write one in a secret (the kit would refuse to run with this ${nx.file}).`,
    fix:
      strict.length > 0
        ? "Revoke this token in Nx Cloud, commit a read-only token in its place, and keep the read-write token in a secret given to the kit's read-write-token input."
        : "Use setup main-only (or ci-read-write): commit a read-only token in nx.json and give the read-write token to the kit's read-write-token input as a secret; then revoke this one."
  }
}

/**
 * A read-write Nx Cloud token Nx reads outside nx.json's own settings (docs/POLICY.md#exports): the
 * env files, loaded and expanded together as Nx loads them, and the file nx.json's `extends` names.
 * Nx loads them into every run, so they are as committed as nx.json's, and the kit refuses them as
 * it does nx.json's under setups 1 and 2. nx.json's own tokens (every runner) are reported above.
 */
function envFileTokenFindings(ctx: Context, nx: Workspace, strict: Setup[], opts: Options): Finding[] {
  return committedReadWriteTokens(ctx.files, nx.file, nx.text, nx.config.accessToken)
    .filter(t => t.file !== nx.file)
    .map(t => ({
      rule: 'nx-json-read-write-token',
      severity: 'high',
      file: t.file,
      line: t.line,
      message: `${t.file} ${t.what}: anyone who can read the repository can write to the cache${
        strict.length > 0
          ? ` (under setup ${strict.join(' and ')}${ctx.kit ? ', the kit fails such runs' : ', the kit would refuse to run'})`
          : ''
      }${opts.public && strict.length === 0 ? ', in a public repository' : ''}.`,
      fix: `Revoke this token in Nx Cloud and remove it from ${t.file}; keep the read-write token in a secret given to the kit's read-write-token input (developers use personal access tokens, npx nx login).`
    }))
}
