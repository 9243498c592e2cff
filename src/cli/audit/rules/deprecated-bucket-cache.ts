// deprecated-bucket-cache: the self-hosted bucket caches Nx deprecated after CVE-2025-36852
// (@nx/s3-cache, @nx/gcs-cache, @nx/azure-cache, @nx/shared-fs-cache): anyone who can read the
// bucket's credentials in CI, a pull request's run included, can write entries every run trusts.

import type { Context } from '../context.js'
import { workspacesOf } from '../facts/workspace.js'
import { type Finding, defineRule } from '../rule.js'

const PACKAGES = /@nx\/(?:s3-cache|gcs-cache|azure-cache|shared-fs-cache)\b/

export const deprecatedBucketCache = defineRule({
  id: 'deprecated-bucket-cache',
  severity: 'high',
  title: 'A deprecated bucket cache (@nx/s3-cache, @nx/gcs-cache, @nx/azure-cache, @nx/shared-fs-cache) is in use (CVE-2025-36852)',
  description:
    'These caches trust whatever is in the bucket: a run that can write it (any with its credentials, pull requests included) can put an artifact under a hash that main will compute. Nx deprecated them for CVE-2025-36852.',
  repo: ctx => bucketCaches(ctx)
})

function bucketCaches(ctx: Context): Finding[] {
  const out: Finding[] = []
  const files = new Map<string, string>()
  for (const ws of workspacesOf(ctx)) {
    files.set(ws.file, ws.text)
    const pkg = ws.file === 'nx.json' ? 'package.json' : ws.file.replace(/nx\.json$/, 'package.json')
    const text = ctx.files.read(pkg)
    if (text !== null) files.set(pkg, text)
  }
  for (const [file, text] of files) {
    const lines = text.split(/\r\n|\r|\n/)
    const i = lines.findIndex(l => PACKAGES.test(l))
    if (i < 0) continue
    const name = PACKAGES.exec(lines[i])?.[0] ?? ''
    out.push({
      rule: 'deprecated-bucket-cache',
      severity: 'high',
      file,
      line: i + 1,
      message: `${file} uses ${name}, a bucket cache Nx deprecated for CVE-2025-36852: whoever can write the bucket (every CI run with its credentials, pull requests included) can put artifacts that main will restore as its own.`,
      fix: "Move to Nx Cloud (with the kit deciding each run's access) or to a self-hosted cache that separates read and write access (the kit's self-hosted-cache-url), and remove the bucket credentials from CI."
    })
  }
  return out
}
