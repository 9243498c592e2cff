// unpinned-action: the kit used at a branch or a tag (docs/audit-rules.md#unpinned-action).

import { describe } from '@jest/globals'
import { W, firesOnlyThere } from './helpers.js'

describe('unpinned-action', () => {
  firesOnlyThere('unpinned-action', [
    ['unpinned-action', 'high', `${W}/ci.yml`, 6],
    // The aliased step in job c is the same key: one finding, at the anchor.
    ['unpinned-action', 'low', `${W}/ci.yml`, 12],
    ['unpinned-action', 'low', `${W}/ci.yml`, 13]
  ])
})
