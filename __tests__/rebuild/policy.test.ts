// rebuild-command forces skip-cache: the pure rule in decide(), the input parser, and the token
// step's bundle as the runner runs it.

import { describe, expect, it } from '@jest/globals'
import { readInputs } from '../../src/core/inputs.js'
import { decide } from '../../src/core/policy.js'
import { NO_NX_JSON } from '../../src/core/nx-config.js'
import type { Config, RunFacts } from '../../src/core/types.js'
import { KEY, RO, RW } from '../fixtures/run-cases.js'
import { prPayload, pushPayload } from '../fixtures/payloads.js'
import { runAction } from '../helpers/run-action.js'

const CMD = 'npx nx run-many -t build -p api web'

const facts: RunFacts = {
  event: 'push',
  ref: 'refs/heads/main',
  trusted: true,
  trustReason: 'a push run',
  branch: 'main',
  noBranchReason: '',
  defaultBranch: 'main',
  defaultBranchSource: 'payload',
  repositoryPrivate: true
}

function config(over: Partial<Config> = {}): Config {
  return {
    setup: 'ci-read-write',
    readWriteToken: RW,
    readOnlyToken: RO,
    encryptionKey: KEY,
    requireEncryption: true,
    writeBranches: null,
    writeEvents: ['push'],
    skipCache: false,
    rebuildCommand: '',
    selfHostedCacheUrl: '',
    workingDirectory: '.',
    githubToken: '',
    ...over
  }
}

describe('decide() with rebuild-command', () => {
  it('forces skip-cache and says why, although skip-cache is false', () => {
    const d = decide(config({ rebuildCommand: CMD }), facts, NO_NX_JSON, {})
    expect(d.skipCache).toBe(true)
    expect(d.exports.NX_SKIP_NX_CACHE).toBe('true')
    expect(d.reason).toMatch(
      /^ci-read-write: [^.]*\. The cache is skipped for the rest of the job \(NX_SKIP_NX_CACHE=true\), as rebuild-command is set\.$/
    )
    expect(d.detail).toMatch(
      /^ci-read-write: [^.]*; the cache is skipped for the rest of the job \(NX_SKIP_NX_CACHE=true\) because rebuild-command is set\.$/
    )
    // The token decision is untouched: the rebuild still reads and writes with the chosen token.
    expect(d.access).toBe('read-write')
    expect(d.exports.NX_CLOUD_ACCESS_TOKEN).toBe(RW)
  })

  it('leaves the cache alone when neither is set', () => {
    const d = decide(config(), facts, NO_NX_JSON, {})
    expect(d.skipCache).toBe(false)
    expect(d.exports.NX_SKIP_NX_CACHE).toBeUndefined()
    expect(d.reason).not.toMatch(/skipped/)
  })

  it('keeps the plain skip-cache reason when only skip-cache is set', () => {
    const d = decide(config({ skipCache: true }), facts, NO_NX_JSON, {})
    expect(d.exports.NX_SKIP_NX_CACHE).toBe('true')
    expect(d.reason).toMatch(/\. The cache is skipped for the rest of the job \(NX_SKIP_NX_CACHE=true\)\.$/)
    expect(d.detail).toMatch(/; the cache is skipped for the rest of the job \(NX_SKIP_NX_CACHE=true\)\.$/)
    expect(d.reason + d.detail).not.toMatch(/rebuild-command/)
  })

  it('works alone with setup off', () => {
    const d = decide(
      config({ setup: 'off', readWriteToken: '', readOnlyToken: '', encryptionKey: '', rebuildCommand: CMD }),
      facts,
      NO_NX_JSON,
      {}
    )
    expect(d.exports).toEqual({ NX_NO_CLOUD: 'true', NX_SKIP_NX_CACHE: 'true' })
    expect(d.reason).toBe(
      'off: Nx Cloud is turned off for this job (NX_NO_CLOUD=true). The cache is skipped for the rest of the job (NX_SKIP_NX_CACHE=true), as rebuild-command is set.'
    )
    expect(d.detail).toBe(
      'off: Nx Cloud is turned off for this job (NX_NO_CLOUD=true); the cache is skipped for the rest of the job (NX_SKIP_NX_CACHE=true) because rebuild-command is set.'
    )
  })
})

describe('readInputs: rebuild-command', () => {
  it('reads the command trimmed, and empty when unset', () => {
    expect(readInputs({ 'INPUT_REBUILD-COMMAND': `  ${CMD}\n` }).rebuildCommand).toBe(CMD)
    expect(readInputs({}).rebuildCommand).toBe('')
  })
})

describe('token step bundle with rebuild-command', () => {
  it('exports NX_SKIP_NX_CACHE=true and outputs skip-cache true under ci-read-write, on a pull request too', async () => {
    for (const [event, ref, payload] of [
      ['push', 'refs/heads/main', pushPayload('refs/heads/main')],
      ['pull_request', 'refs/pull/104/merge', prPayload()]
    ] as const) {
      const run = await runAction({
        event,
        ref,
        payload,
        inputs: {
          setup: 'ci-read-write',
          'read-write-token': RW,
          'read-only-token': RO,
          'encryption-key': KEY,
          'skip-cache': 'false',
          'rebuild-command': CMD
        }
      })
      expect(run.errors).toEqual([])
      expect(run.status).toBe(0)
      expect(run.env.NX_SKIP_NX_CACHE).toBe('true')
      expect(run.outputs['skip-cache']).toBe('true')
      expect(run.outputs.access).toBe('read-write')
      expect(run.outputs.reason).toMatch(/\(NX_SKIP_NX_CACHE=true\), as rebuild-command is set\.$/)
    }
  })

  it('works alone with setup off: no token, no encryption key needed', async () => {
    const run = await runAction({
      event: 'push',
      ref: 'refs/heads/main',
      payload: pushPayload('refs/heads/main'),
      inputs: { setup: 'off', 'require-encryption': 'true', 'rebuild-command': CMD }
    })
    expect(run.errors).toEqual([])
    expect(run.env).toEqual({ NX_NO_CLOUD: 'true', NX_SKIP_NX_CACHE: 'true' })
    expect(run.outputs['skip-cache']).toBe('true')
  })

  it('does not skip the cache without rebuild-command (the control)', async () => {
    const run = await runAction({
      event: 'push',
      ref: 'refs/heads/main',
      payload: pushPayload('refs/heads/main'),
      inputs: { setup: 'ci-read-write', 'read-write-token': RW, 'encryption-key': KEY, 'skip-cache': 'false' }
    })
    expect(run.status).toBe(0)
    expect(run.env.NX_SKIP_NX_CACHE).toBeUndefined()
    expect(run.outputs['skip-cache']).toBe('false')
  })
})
