// step-env-token: an Nx Cloud token in a step's own env:, which wins over what the kit exports.

import { type TokenGroup, jobWords, tokenGroups } from '../facts/tokens.js'
import { type Finding, defineRule } from '../rule.js'

export const stepEnvToken = defineRule({
  id: 'step-env-token',
  severity: 'high',
  title: "An Nx Cloud token in a step's env: (the kit cannot override it)",
  description:
    "A step-level env: wins over the variables the kit's action exports, so the step uses that token whatever the policy decides for the run.",
  repo: ctx =>
    tokenGroups(ctx)
      .filter(g => g.rule === 'step-env-token')
      .map(words)
})

function words(g: TokenGroup): Finding {
  const e = g.entry
  return {
    rule: 'step-env-token',
    severity: g.severity,
    file: e.loc.file,
    line: e.loc.line,
    message: `${e.name} is set in a step's own env: in ${jobWords(g.jobs)}, and a step-level env: wins over the kit's exports, so that step uses this token whatever the policy decides.`,
    fix: `Remove ${e.name} from the step's env: and pass the secret to the kit's read-write-token input (uses: nx-cloud-access/nx-cloud-access) before the Nx step.`
  }
}
