// workflow-unreadable: a workflow the audit could not read as GitHub does (docs/audit-rules.md#workflow-unreadable).

import { describe } from '@jest/globals'
import { W, firesOnlyThere } from './helpers.js'

describe('workflow-unreadable', () => {
  firesOnlyThere('workflow-unreadable', [['workflow-unreadable', 'medium', `${W}/broken.yml`, 6]])
})
