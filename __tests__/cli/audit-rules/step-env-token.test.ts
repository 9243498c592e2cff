// step-env-token: an Nx Cloud token in a step's own env: (docs/audit-rules.md#step-env-token).

import { describe } from '@jest/globals'
import { W, firesOnlyThere } from './helpers.js'

describe('step-env-token', () => {
  firesOnlyThere('step-env-token', [
    // Not the empty token of the Test step, not the docs job that runs no Nx.
    ['step-env-token', 'high', `${W}/ci.yml`, 12]
  ])
})
