// workspace-id-access: pull requests run Nx with no token in a workspace that has nxCloudId, so Nx
// Cloud gives them the workspace ID access level, which no file shows.

import type { Context } from '../context.js'
import type { IdUse } from '../facts/jobs.js'
import { listWords } from '../facts/jobs.js'
import { type Workspace, workspaceFinder } from '../facts/workspace.js'
import { type Finding, defineRule } from '../rule.js'

export const workspaceIdAccess = defineRule({
  id: 'workspace-id-access',
  severity: 'medium',
  title: "Pull requests run Nx with no token, so Nx Cloud gives them nx.json's nxCloudId's workspace ID access level",
  description:
    'GitHub gives a pull request from a fork no secrets. Nx then connects through nxCloudId at the access level set for the workspace ID in Nx Cloud (read-write in older workspaces unless changed).',
  repo: ctx => workspaceIdFindings(ctx, workspaceFinder(ctx))
})

/**
 * workspace-id-access: one finding per nx.json that has nxCloudId and no token, when pull
 * requests run Nx in it with no token. Nx then connects at the workspace ID access level set in
 * Nx Cloud, which no file shows (docs/POLICY.md#no-token, #nx-facts).
 */
function workspaceIdFindings(ctx: Context, workspaceOf: (dir: string) => Workspace | null): Finding[] {
  // Sets, not lists searched: a reusable workflow called with many inputs gives a use per step per call.
  const groups = new Map<Workspace, Set<IdUse>>()
  for (const u of ctx.idUses) {
    for (const dir of u.dirs) {
      const ws = workspaceOf(dir)
      if (!ws || ws.config.cloudId === '' || ws.config.accessToken !== '') continue
      const set = groups.get(ws) ?? new Set<IdUse>()
      set.add(u)
      groups.set(ws, set)
    }
  }
  const out: Finding[] = []
  for (const [ws, set] of groups) {
    const uses = [...set]
    const first = uses[0]
    const names = new Set<string>()
    for (const u of uses) names.add(u.file === first.file ? `'${u.job}'` : `'${u.job}' (${u.file})`)
    const jobs = [...names]
    const one = jobs.length === 1
    const events = [...new Set(uses.flatMap(u => u.events))]
    const kit = uses.some(u => u.kit)
    const secretKey = ws.config.encryptionKey === '' && ctx.keyInSecret
    out.push({
      rule: 'workspace-id-access',
      severity: 'medium',
      file: first.file,
      line: first.line,
      message:
        `${ws.file} has nxCloudId and commits no token, and ${one ? 'job' : 'jobs'} ${listWords(jobs)} ${one ? 'runs' : 'run'} Nx on pull requests ` +
        `(${events.join(', ')}) with no Nx Cloud token (GitHub gives a pull request from a fork no secrets, so a token from a secret is empty there), ` +
        'so Nx connects with the workspace ID access level set in Nx Cloud, which this audit cannot read (read-write in older workspaces unless changed).',
      fix:
        "In Nx Cloud (the workspace's settings, Access Control), make sure the workspace ID access level is read-only or none: anyone who clones the repository or opens a pull request from a fork gets it." +
        (kit
          ? ` Then run the kit's action before Nx in ${one ? 'this job' : 'these jobs'} and, once the level is read-only, set its workspace-id-access: read-only so such runs read (for none, leave the input out: the kit runs them without Nx Cloud).`
          : " The kit's action, run before Nx, runs such pull requests without Nx Cloud unless its workspace-id-access input says the level is read-only.") +
        (secretKey
          ? ` The encryption key is kept only in a secret, which GitHub withholds from pull requests from forks and from Dependabot: those runs hash differently and cannot read the cache (the kit runs them without the remote cache, with a notice); commit nxCloudEncryptionKey in ${ws.file}, as Nx Cloud's guide does, if they should read.`
          : '')
    })
  }
  return out
}
