// The registry lists every rule once: each has its module (src/cli/audit/rules/<id>.ts), its test
// file here, and SARIF's helpUri pointing at its section of docs/audit-rules.md.

import { describe, expect, it } from '@jest/globals'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { RULES } from '../../../src/cli/audit/registry.js'
import { DOCS } from '../../../src/cli/audit/rule.js'
import { REPO_ROOT } from '../../helpers/run-action.js'

const ids = RULES.map(r => r.id)

describe('the rule registry', () => {
  it('lists each rule once, and every module under rules/ is listed', () => {
    expect(new Set(ids).size).toBe(ids.length)
    const modules = readdirSync(join(REPO_ROOT, 'src', 'cli', 'audit', 'rules')).map(f => f.replace(/\.ts$/, ''))
    expect(modules.sort()).toEqual([...ids].sort())
  })

  it.each(ids)('%s has a test file, a title, a description, and a helpUri to its docs section', id => {
    const rule = RULES.find(r => r.id === id)
    expect(existsSync(join(REPO_ROOT, '__tests__', 'cli', 'audit-rules', `${id}.test.ts`))).toBe(true)
    expect(rule?.title).toMatch(/\S/)
    expect(rule?.description).toMatch(/\S.*\.$/)
    expect(rule?.helpUri).toBe(`${DOCS}#${id}`)
    expect(DOCS).toMatch(/\/docs\/audit-rules\.md$/)
  })
})
