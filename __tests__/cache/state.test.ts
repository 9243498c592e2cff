// The main → post hand-off, through the runner's own route: @actions/core writes GITHUB_STATE in
// main, the runner turns each line into STATE_<name> for post, and @actions/core reads it there.

import { afterEach, describe, expect, it } from '@jest/globals'
import * as core from '@actions/core'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  DEFAULT_MAX_ENTRIES,
  DEFAULT_MAX_ENTRY_SIZE,
  DEFAULT_SAVE_CONCURRENCY,
  DEFAULT_SAVE_TIME_LIMIT,
  type PostHandoff,
  STATE,
  readHandoff,
  saveHandoff
} from '../../src/cache/state.js'
import { parseFileCommands } from '../helpers/run-action.js'

const saved = { ...process.env }
afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k]
  Object.assign(process.env, saved)
})

/** Runs `save` as main does (GITHUB_STATE file), then reads as post does (STATE_* env). */
function throughTheRunner(save: () => void): { handoff: PostHandoff; state: Record<string, string> } {
  const file = join(mkdtempSync(join(tmpdir(), 'nca-state-')), 'state')
  writeFileSync(file, '')
  process.env.GITHUB_STATE = file
  save()
  delete process.env.GITHUB_STATE
  const state = parseFileCommands(readFileSync(file, 'utf8'))
  for (const [name, value] of Object.entries(state)) process.env[`STATE_${name}`] = value
  return { handoff: readHandoff(core), state }
}

describe('the main → post hand-off', () => {
  it('round-trips a started server, a multi-line reason and the limits', () => {
    const sent: PostHandoff = {
      access: 'read-write',
      reason: 'A push to main: trusted.\nSecond line with = and <<EOF in it.',
      server: { pid: 4242, port: 40123, stage: '/home/runner/work/_temp/nx-cloud-access-cache', write: true },
      maxEntries: 7,
      maxEntrySize: 1234567,
      saveConcurrency: 3,
      saveTimeLimit: 42,
      scope: 'refs/pull/7/merge',
      scopeKind: 'pull-request'
    }
    const { handoff, state } = throughTheRunner(() => saveHandoff(core, sent))
    expect(handoff).toEqual(sent)
    // The names the runner carries (and the e2e tests read) are unchanged.
    expect(state).toMatchObject({ [STATE.started]: 'true', [STATE.pid]: '4242', [STATE.write]: 'true', [STATE.access]: 'read-write' })
  })

  it('round-trips a server that did not start: no pid, port or stage, and post may not write', () => {
    const sent: PostHandoff = {
      access: 'none',
      reason: 'The server did not start.',
      server: null,
      maxEntries: 500,
      maxEntrySize: 10,
      saveConcurrency: 8,
      saveTimeLimit: 300,
      scope: '',
      scopeKind: 'none'
    }
    const { handoff, state } = throughTheRunner(() => saveHandoff(core, sent))
    expect(handoff).toEqual(sent)
    expect(state[STATE.started]).toBe('false')
    expect(state[STATE.write]).toBe('false')
    expect(Object.keys(state).filter(k => [STATE.pid, STATE.port, STATE.stage].includes(k as never))).toEqual([])
  })

  it('reads defaults when main handed nothing over (it failed on its inputs)', () => {
    const { handoff } = throughTheRunner(() => undefined)
    expect(handoff).toEqual({
      access: 'none',
      reason: '',
      server: null,
      maxEntries: DEFAULT_MAX_ENTRIES,
      maxEntrySize: DEFAULT_MAX_ENTRY_SIZE,
      saveConcurrency: DEFAULT_SAVE_CONCURRENCY,
      saveTimeLimit: DEFAULT_SAVE_TIME_LIMIT,
      scope: '',
      scopeKind: 'none'
    })
  })

  it('falls back to the default limits when what was handed over is not a number', () => {
    process.env[`STATE_${STATE.maxEntries}`] = 'lots'
    process.env[`STATE_${STATE.maxEntrySize}`] = ''
    expect(readHandoff(core)).toMatchObject({ maxEntries: DEFAULT_MAX_ENTRIES, maxEntrySize: DEFAULT_MAX_ENTRY_SIZE })
  })

  it('caps save-concurrency and falls back on an unknown scope kind (what was handed over is not what main writes)', () => {
    process.env[`STATE_${STATE.saveConcurrency}`] = '1000'
    process.env[`STATE_${STATE.scopeKind}`] = 'everything'
    expect(readHandoff(core)).toMatchObject({ saveConcurrency: 32, scopeKind: 'none' })
  })
})
