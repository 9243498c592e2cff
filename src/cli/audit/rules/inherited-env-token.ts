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
  const secret = /secrets\.([A-Za-z0-9_]+)/.exec(e.value)?.[1] ?? e.name
  const pr = runs.some(r => r.startsWith('pull requests'))
  const reached = `${e.name} in env: reaches ${who}, which ${one ? 'runs' : 'run'} Nx ${ctx.kit ? "before the kit's action" : 'with it'}, so ${listWords(runs)} ${runs.length === 1 && !/s\b|s \(/.test(runs[0]) ? 'gets' : 'get'} this token`
  if (g.recipe) {
    return {
      rule: 'inherited-env-token',
      severity: g.severity,
      file: e.loc.file,
      line: e.loc.line,
      message: `${reached}: the repository-level secret ${secret}, since ${one ? 'that job has' : 'those jobs have'} no environment (a job under an environment gets that environment's ${secret}, as in Nx Cloud's GitHub recipe). The repository-level secret must be the read-only token.`,
      fix: `Make the repository secret ${secret} the read-only CI access token, and keep the read-write one only as ${secret} of an environment whose deployment branches are the protected ones.`
    }
  }
  return {
    rule: 'inherited-env-token',
    severity: g.severity,
    file: e.loc.file,
    line: e.loc.line,
    message:
      reached +
      (pr
        ? ': GitHub hands repository secrets to every same-repository pull request, and a pull request can change the workflow it runs, so whoever can push a branch can read this token.'
        : `; the guide gives a read-write token only to pushes to the default branch, and read-only to every other run.`),
    fix:
      (ctx.kit
        ? `Remove ${e.name} from env: and run the kit's action (with read-write-token) before the first Nx command of ${one ? 'the job' : 'each job'}.`
        : `Remove ${e.name} from env: and give the secret to the kit's read-write-token input, run before the first Nx command of ${one ? 'the job' : 'each job'} (or write setup 1 inline: \${{ github.ref == 'refs/heads/main' && secrets.<read-write> || secrets.<read-only> }}).`) +
      ` Keep the read-write token as a secret of a GitHub environment whose deployment branches are the protected ones, requested only by jobs that may write; the repository-level secret then holds the read-only token.`
  }
}
