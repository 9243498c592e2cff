// inherited-env-token: an Nx Cloud token in workflow- or job-level env: of a job that runs Nx
// before the kit, rated by the runs it reaches (reach.ts).

import { listWords } from '../facts/jobs.js'
import { type TokenGroup, jobWords, tokenGroups } from '../facts/tokens.js'
import type { Context } from '../context.js'
import { type Finding, defineRule } from '../rule.js'

export const inheritedEnvToken = defineRule({
  id: 'inherited-env-token',
  severity: 'high',
  title:
    'An Nx Cloud token in workflow- or job-level env: of a job that runs Nx before the kit (pull requests: high; other branches, merge queue: medium; writers-only runs: low)',
  varies: true,
  description:
    'A token in env: reaches every job under it; a job that runs Nx before the kit (or without it) uses it on every run its triggers start. Pull requests get repository secrets and can change the workflow they run, so the secret is theirs to read.',
  repo: ctx =>
    tokenGroups(ctx)
      .filter(g => g.rule === 'inherited-env-token')
      .map(g => words(g, ctx))
})

function words(g: TokenGroup, ctx: Context): Finding {
  const e = g.entry
  const who = jobWords(g.jobs)
  const one = g.jobs.length === 1
  const runs = g.runs
  return {
    rule: 'inherited-env-token',
    severity: g.severity,
    file: e.loc.file,
    line: e.loc.line,
    message:
      `${e.name} in env: reaches ${who}, which ${one ? 'runs' : 'run'} Nx ${ctx.kit ? "before the kit's action" : 'with it'}, so ${listWords(runs)} ${runs.length === 1 && !/s\b|s \(/.test(runs[0]) ? 'gets' : 'get'} this token` +
      (runs.some(r => r.startsWith('pull requests'))
        ? '.'
        : `; the guide gives a read-write token only to pushes to the default branch, and read-only to every other run.`),
    fix: ctx.kit
      ? `Remove ${e.name} from env: and run the kit's action (with read-write-token) before the first Nx command of ${one ? 'the job' : 'each job'}.`
      : `Remove ${e.name} from env: and give the secret to the kit's read-write-token input, run before the first Nx command of ${one ? 'the job' : 'each job'} (or write setup 1 inline: \${{ github.ref == 'refs/heads/main' && secrets.<read-write> || secrets.<read-only> }}).`
  }
}
