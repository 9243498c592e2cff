// cache/action.yml against the action schema, its entries against the bundles, and the token
// step's bundle against @actions/cache (it must never load it).

import { describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'
import { readCacheInputs } from '../../src/cache/decision.js'
import { REPO_ROOT } from '../helpers/run-action.js'

const ACTION = join(REPO_ROOT, 'cache', 'action.yml')
const VALIDATOR = join(REPO_ROOT, 'node_modules', '.bin', 'action-validator')

function validate(path: string): { status: number; output: string } {
  try {
    return { status: 0, output: execFileSync(VALIDATOR, [path], { encoding: 'utf8', stdio: 'pipe' }) }
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string }
    return { status: err.status, output: `${err.stdout}${err.stderr}` }
  }
}

describe('cache/action.yml', () => {
  const action = parse(readFileSync(ACTION, 'utf8'))

  it('is a node24 JavaScript action whose main and post are the committed bundles', () => {
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/main/index.js', post: 'dist/post/index.js' })
    for (const entry of ['main', 'post', 'server']) expect(existsSync(join(REPO_ROOT, 'cache', 'dist', entry, 'index.js'))).toBe(true)
  })

  it('passes action-validator, but for runs.using: node24, which its schema (0.6.0) predates', () => {
    // As written: the only complaint is /runs, and node24 is what it does not know.
    const asIs = validate(ACTION)
    expect(asIs.status).not.toBe(0)
    const paths = [...asIs.output.matchAll(/"path": "([^"]+)"/g)].map(m => m[1])
    expect(new Set(paths)).toEqual(new Set(['/runs', '/runs/using', '/runs/steps', '/runs/image']))
    // Everything else is valid: the same file with the runtime the schema knows.
    const dir = mkdtempSync(join(tmpdir(), 'nca-yml-'))
    const copy = join(dir, 'action.yml')
    writeFileSync(copy, readFileSync(ACTION, 'utf8').replace("using: 'node24'", "using: 'node20'"))
    expect(validate(copy)).toEqual({ status: 0, output: expect.any(String) })
  })

  it("reads exactly the inputs it declares: each one, and no other (not the token step's)", () => {
    // Every input of both actions is given, as a workflow's `with:` could; what is read is recorded.
    const tokenStep = parse(readFileSync(join(REPO_ROOT, 'action.yml'), 'utf8'))
    const valid: Record<string, string> = {
      setup: 'main-only',
      'write-events': 'push',
      'max-entries': '20',
      'max-entry-size': '1M',
      'save-concurrency': '4',
      'save-time-limit': '60',
      'skip-cache': 'false',
      'pull-request-writes': 'true',
      'require-encryption': 'true'
    }
    const given: Record<string, string> = {}
    for (const name of [...Object.keys(tokenStep.inputs), ...Object.keys(action.inputs)]) {
      given[`INPUT_${name.toUpperCase()}`] = valid[name] ?? (name === 'self-hosted-cache-url' ? 'https://cache.example' : 'x')
    }
    const read = new Set<string>()
    const env = new Proxy(given, {
      get(target, key) {
        if (typeof key === 'string' && key.startsWith('INPUT_')) read.add(key.slice(6).toLowerCase())
        return Reflect.get(target, key)
      }
    })
    readCacheInputs(env)
    expect([...read].sort()).toEqual(Object.keys(action.inputs).sort())
  })
})

describe('bundles', () => {
  const cacheClient = 'GetCacheEntryDownloadURL'
  const files = (dir: string): string[] =>
    readdirSync(join(REPO_ROOT, dir))
      .filter(f => f.endsWith('.js'))
      .map(f => join(REPO_ROOT, dir, f))

  it('the token step (dist/) never contains @actions/cache', () => {
    for (const f of files('dist')) expect(readFileSync(f, 'utf8')).not.toContain(cacheClient)
  })

  it("the cache action's main does not either; its server and post do", () => {
    for (const f of files('cache/dist/main')) expect(readFileSync(f, 'utf8')).not.toContain(cacheClient)
    for (const d of ['cache/dist/server', 'cache/dist/post']) {
      expect(files(d).some(f => readFileSync(f, 'utf8').includes(cacheClient))).toBe(true)
    }
  })
})
