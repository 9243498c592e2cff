// no-encryption-key: Nx Cloud is in use and no encryption key is set anywhere, so artifacts are
// stored unencrypted.

import type { Setup } from '../../../core/types.js'
import type { Context } from '../context.js'
import { workspacesOf } from '../facts/workspace.js'
import { type Finding, defineRule } from '../rule.js'

export const noEncryptionKey = defineRule({
  id: 'no-encryption-key',
  severity: 'medium',
  title: 'No Nx Cloud encryption key anywhere',
  description:
    'Without an end-to-end encryption key Nx Cloud stores cached artifacts as they are; with one, they are encrypted before they leave the runner.',
  repo: (ctx, setups) => keyFindings(ctx, setups)
})

function keyFindings(ctx: Context, setups: Set<Setup>): Finding[] {
  const everyOff = [...setups].every(s => s === 'off')
  if (everyOff || ctx.keyInWorkflows) return []
  const out: Finding[] = []
  const workspaces = workspacesOf(ctx)
  const keyWords = ctx.requireEncryption
    ? 'cached artifacts would be stored unencrypted, and a kit step sets require-encryption: true, so the kit fails every run that has a token.'
    : ctx.kit
      ? "cached artifacts are stored unencrypted (the kit says so in each run's summary; require-encryption: true would fail such runs)."
      : 'cached artifacts are stored unencrypted. The guide sets a key in every setup.'
  const message = (where: string): string =>
    `No Nx Cloud encryption key was found (not in ${where}, not in any encryption-key input, not in NX_CLOUD_ENCRYPTION_KEY): ${keyWords}`
  const keyFix =
    "Create a key, store it as a secret and pass it to the kit's encryption-key input (or commit nxCloudEncryptionKey in nx.json); developers set the same NX_CLOUD_ENCRYPTION_KEY locally. " +
    FORK_KEY_CAVEAT
  // A workspace where nothing uses Nx Cloud (no kit, no token, no cloud id) needs no key.
  const workflowCloud = ctx.cloudUse
  let reported = false
  for (const nx of workspaces) {
    const c = nx.config
    const cloud = c.accessToken !== '' || c.cloudId !== '' || c.url !== '' || (nx === ctx.nxJson && workflowCloud !== null)
    if (!cloud || c.encryptionKey !== '') continue
    out.push({
      rule: 'no-encryption-key',
      severity: ctx.requireEncryption ? 'high' : 'medium',
      file: nx.file,
      line: 1,
      message: message(nx.file),
      fix: keyFix
    })
    reported = true
  }
  // No nx.json to point at: the workflow line that brings Nx Cloud in.
  if (!reported && workspaces.length === 0 && workflowCloud !== null) {
    out.push({
      rule: 'no-encryption-key',
      severity: ctx.requireEncryption ? 'high' : 'medium',
      file: workflowCloud.file,
      line: workflowCloud.line,
      message: message('any nx.json'),
      fix: keyFix
    })
  }
  return out
}

/**
 * A key kept only in a secret, and the runs GitHub gives no secrets (docs/POLICY.md#no-token,
 * #hash-neutrality): they see no key, so they hash differently and cannot read.
 */
export const FORK_KEY_CAVEAT =
  "A key kept only in a secret is withheld from pull requests from forks and from Dependabot, so those runs hash differently and cannot read the cache (the kit runs them without the remote cache, with a notice); commit it in nx.json, as Nx Cloud's guide does, if they should read."
