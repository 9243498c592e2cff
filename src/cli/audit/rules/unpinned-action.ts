// unpinned-action: the kit used at a branch or a tag, not a commit SHA.

import { KIT } from '../facts/jobs.js'
import { type Finding, defineRule } from '../rule.js'
import type { Workflow } from '../workflow.js'

export const unpinnedAction = defineRule({
  id: 'unpinned-action',
  severity: 'high',
  title: 'The kit is used without a pinned commit SHA (branch: high, tag: low)',
  varies: true,
  description:
    'The kit receives your read-write token. A branch reference runs every new commit on it unreviewed (high); a tag can be moved to other code (low). Pin the full commit SHA of the release you reviewed.',
  workflow: w => pinning(w)
})

function pinning(w: Workflow): Finding[] {
  const out: Finding[] = []
  const seen = new Set<number>()
  for (const j of w.jobs) {
    for (const s of j.steps) {
      const m = KIT.exec(s.uses)
      // An aliased step (`- *kit`) is one key to fix: reported once, at its anchor.
      if (!m || !s.usesLoc || seen.has(s.usesLoc.offset)) continue
      seen.add(s.usesLoc.offset)
      const ref = m[1]
      if (/^[0-9a-f]{40}$/i.test(ref)) continue
      const tag = /^v?\d+(?:\.\d+)*(?:[-+][\w.-]+)?$/.test(ref)
      // The token step receives the read-write token; the cache action, the Actions cache's runtime token.
      const what = /\/cache(?:@|$)/.test(s.uses.split('@')[0] + '@')
        ? 'the runtime token that writes your Actions cache'
        : 'your read-write token'
      out.push({
        rule: 'unpinned-action',
        severity: tag ? 'low' : 'high',
        file: w.file,
        line: s.usesLoc.line,
        message: tag
          ? `${s.uses} is pinned to the tag ${ref}, and a tag can be moved to other code that then receives ${what}.`
          : `${s.uses} follows the branch ${ref}: every new commit on it runs with ${what}, unreviewed.`,
        fix: `Pin the full 40-character commit SHA of the release you reviewed (uses: ${s.uses.split('@')[0]}@<sha> # ${tag ? ref : 'v1.x.y'}).`
      })
    }
  }
  return out
}
