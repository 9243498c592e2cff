// The layout's dependency rule (docs/ARCHITECTURE.md): core ← action-io ← the four parts.
// core is pure (no @actions/*, no file, process or network I/O); action-io imports only core;
// a part imports core, action-io and its own files, never another part. Inside the cache action,
// main/, server/ and post/ never import each other, and only adapter/ reaches @actions/cache.

import { describe, expect, it } from '@jest/globals'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { REPO_ROOT } from './helpers/run-action.js'

const SRC = join(REPO_ROOT, 'src')
const PARTS = ['token-step', 'rebuild', 'cache', 'cli'] as const
const LAYERS = ['core', 'action-io', ...PARTS] as const
/** Node modules that do file, process or network I/O: none of them in core. */
const IO_BUILTINS = [
  'fs',
  'fs/promises',
  'child_process',
  'http',
  'https',
  'http2',
  'net',
  'tls',
  'dgram',
  'dns',
  'worker_threads',
  'cluster',
  'process'
]

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap(f => {
    const p = join(dir, f)
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : []
  })
}

/** Every module a file names: static imports and exports, dynamic import(), require(). */
export function importsOf(text: string): string[] {
  const specs: string[] = []
  const re =
    /\b(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm
  for (const m of text.matchAll(re)) specs.push(m[1] ?? m[2] ?? m[3] ?? m[4])
  return specs
}

const layerOf = (file: string): string => relative(SRC, file).split('/')[0]

/** The cache action's programs: each imports the shared modules (adapter/, state.ts, …), never another program. */
const CACHE_PROGRAMS = ['main', 'server', 'post']
const cacheFolderOf = (file: string): string => {
  const parts = relative(join(SRC, 'cache'), file).split('/')
  return parts.length > 1 ? parts[0] : '.'
}

/** The cache action's own rule, or null. */
function cacheViolation(file: string, spec: string, to: string | null): string | null {
  const from = cacheFolderOf(file)
  if (to !== null) {
    const target = cacheFolderOf(to)
    if (CACHE_PROGRAMS.includes(from) && CACHE_PROGRAMS.includes(target) && target !== from) return `cache/${from} imports cache/${target}`
    return null
  }
  if (spec.startsWith('@actions/cache') && from !== 'adapter')
    return `cache/${from === '.' ? relative(join(SRC, 'cache'), file) : from} imports @actions/cache outside cache/adapter`
  return null
}

/** What a file may not import, or null when the import is allowed. */
export function violation(file: string, spec: string): string | null {
  const from = layerOf(file)
  // A relative path into node_modules (a package's internal module) is that package.
  const inPackage = spec.startsWith('.') ? /\/node_modules\/(.+)$/.exec(resolve(dirname(file), spec)) : null
  if (inPackage) spec = inPackage[1]
  if (from === 'cache') {
    const target = spec.startsWith('.') ? resolve(dirname(file), spec) : null
    const v = cacheViolation(file, spec, target !== null && layerOf(target) === 'cache' ? target : null)
    if (v !== null) return v
  }
  if (spec.startsWith('.')) {
    const to = layerOf(resolve(dirname(file), spec))
    if (to === from) return null
    if (from === 'core') return `core imports ${to}`
    if (to === 'core') return null
    if (to === 'action-io') return null
    return `${from} imports ${to}`
  }
  if (from !== 'core') return null
  if (spec.startsWith('@actions/')) return `core imports ${spec}`
  const builtin = spec.replace(/^node:/, '')
  if (IO_BUILTINS.includes(builtin)) return `core imports ${spec} (I/O)`
  return null
}

describe('the layout', () => {
  const files = sources(SRC)

  it('puts every source file in core, action-io or one of the four parts', () => {
    const outside = files.map(f => relative(SRC, f)).filter(f => !(LAYERS as readonly string[]).includes(f.split('/')[0]))
    expect(outside).toEqual([])
  })

  it('gives each part one entry file, index.ts, that calls run()', () => {
    const entries = [
      'token-step/index.ts',
      'rebuild/index.ts',
      'cli/index.ts',
      'cache/main/index.ts',
      'cache/post/index.ts',
      'cache/server/index.ts'
    ]
    for (const e of entries) expect(readFileSync(join(SRC, e), 'utf8')).toMatch(/\bawait run\(/)
    const bundled = readFileSync(join(REPO_ROOT, 'scripts', 'bundle.mjs'), 'utf8')
    for (const e of entries) expect(bundled).toContain(`src/${e}`)
  })

  it('keeps core pure, action-io on core, and the parts apart', () => {
    const found: string[] = []
    for (const f of files) {
      for (const spec of importsOf(readFileSync(f, 'utf8'))) {
        const v = violation(f, spec)
        if (v !== null) found.push(`${relative(REPO_ROOT, f)}: ${v} ('${spec}')`)
      }
    }
    expect(found).toEqual([])
  })

  it('catches what it forbids (the rule itself can fail)', () => {
    const at = (p: string): string => join(SRC, p)
    expect(violation(at('core/policy.ts'), '@actions/core')).toMatch(/core imports @actions\/core/)
    expect(violation(at('core/policy.ts'), 'node:fs')).toMatch(/I\/O/)
    expect(violation(at('core/policy.ts'), '../action-io/runner.js')).toMatch(/core imports action-io/)
    expect(violation(at('cache/main/run.ts'), '../../token-step/apply.js')).toMatch(/cache imports token-step/)
    expect(violation(at('cli/explain.ts'), '../rebuild/output.js')).toMatch(/cli imports rebuild/)
    expect(violation(at('cli/explain.ts'), '../core/policy.js')).toBeNull()
    expect(violation(at('cache/adapter/actions-cache.ts'), '../../../node_modules/@actions/cache/lib/internal/config.js')).toBeNull()
    expect(violation(at('cache/server/run.ts'), '../../../node_modules/@actions/cache/lib/internal/config.js')).toMatch(
      /cache\/server imports @actions\/cache outside cache\/adapter/
    )
    expect(violation(at('cache/post/run.ts'), '@actions/cache')).toMatch(/outside cache\/adapter/)
    expect(violation(at('cache/main/run.ts'), '../post/settings.js')).toMatch(/cache\/main imports cache\/post/)
    expect(violation(at('cache/post/run.ts'), '../server/http.js')).toMatch(/cache\/post imports cache\/server/)
    expect(violation(at('cache/post/run.ts'), '../adapter/actions-cache.js')).toBeNull()
    expect(violation(at('cache/server/run.ts'), '../state.js')).toBeNull()
    expect(violation(at('core/policy.ts'), '../../node_modules/@actions/cache/lib/internal/config.js')).toMatch(
      /core imports @actions\/cache/
    )
    expect(importsOf("const { x } = await import('../apply.js')\nimport type { A } from './a.js'\nexport { b } from './b.js'")).toEqual([
      '../apply.js',
      './a.js',
      './b.js'
    ])
  })
})
