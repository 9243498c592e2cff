// actions-cache-nx-cache: actions/cache of Nx's local cache folder. Nx ≥ 20 rejects cached artifacts
// it has no record of in its database, so such a cache never hits; and whatever run saves it (a
// pull request's included) decides what later runs restore, a poisoning route the remote cache's
// access levels do not guard.

import { type Finding, defineRule } from '../rule.js'
import type { Workflow } from '../workflow.js'

export const actionsCacheNxCache = defineRule({
  id: 'actions-cache-nx-cache',
  severity: 'medium',
  title: "actions/cache saves or restores Nx's cache folder (.nx/cache)",
  description:
    "Nx 20 and later reject artifacts in .nx/cache that their own database has no record of, so the cache never hits; and a GitHub Actions cache entry that a pull request's run can save is restored by later runs, outside Nx Cloud's access levels.",
  workflow: w => nxCaches(w)
})

function nxCaches(w: Workflow): Finding[] {
  const out: Finding[] = []
  const seen = new Set<number>()
  for (const job of w.jobs) {
    for (const s of job.steps) {
      if (!/^actions\/cache(?:\/(?:save|restore))?@/i.test(s.uses.trim())) continue
      const path = s.with.get('path')?.value ?? ''
      if (!/(?:^|[\s/'"])\.nx\/cache\b|(?:^|[\s/'"])\.nx\/?(?=\s|$)/m.test(path)) continue
      const line = (s.loc ?? job.loc).line
      if (seen.has(line)) continue
      seen.add(line)
      out.push({
        rule: 'actions-cache-nx-cache',
        severity: 'medium',
        file: w.file,
        line,
        message: `Job '${job.id}' keeps Nx's cache folder in the GitHub Actions cache (path: ${path.trim().split('\n')[0]}): Nx 20 and later ignore artifacts their database has no record of, so it never hits, and an entry a pull request's run saves is restored by later runs.`,
        fix: "Remove .nx/cache from actions/cache; share task results through Nx Cloud (with the kit deciding the access) or the kit's cache action."
      })
    }
  }
  return out
}
