// The cache action attacked as a later step of the job would attack it, on the bundled cache/dist
// entries with the real @actions/cache against the loopback stand-in of the cache service:
// - the running server's /proc/<pid>/environ and cmdline hold none of the job's secrets;
// - a tampered entry (an archive that would write outside the cache) is a miss that writes nothing;
// - server.log keeps no secret and no signed URL;
// - a pull_request_target job whose later step (PR code) goes for the server's secrets to save a
//   poisoned entry under the kit's key finds nothing to save it with.

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { prPayload, pushPayload } from '../fixtures/payloads.js'
import { type ActionsCacheService, startActionsCacheService } from '../helpers/actions-cache-service.js'
import { entryArchive, entryVersion } from '../helpers/entry-archive.js'
import { type ActionRun, REPO_ROOT, runAction } from '../helpers/run-action.js'
import { getEntry, stopServer } from '../helpers/running-server.js'

const MAIN = 'cache/dist/main/index.js'
const POST = 'cache/dist/post/index.js'
const onLinux = process.platform === 'linux' ? it : it.skip

let svc: ActionsCacheService
beforeAll(async () => {
  svc = await startActionsCacheService()
})
afterAll(async () => {
  await svc.close()
})

/** The job's other secrets, as the runner gives them to a JavaScript action. */
const JOB_SECRETS = {
  'github-token': `ghs_${'G'.repeat(36)}`,
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: `idreq-${'I'.repeat(40)}`,
  ACTIONS_ID_TOKEN_REQUEST_URL: 'https://pipelines.invalid/oidc/idtoken?api-version=2.0&sig=oidc-signature',
  GITHUB_TOKEN: `ghs_${'T'.repeat(36)}`,
  NX_CLOUD_ACCESS_TOKEN: `nxcloud-${'N'.repeat(40)}`,
  RUNNER_DEPLOY_TOKEN: `deploy-${'D'.repeat(30)}`
}

function runnerEnv(): Record<string, string> {
  const { 'github-token': _, ...env } = JOB_SECRETS
  return { RUNNER_OS: 'Linux', RUNNER_TRACKING_ID: 'github_5d3c1b2a', ...svc.env(), ...env }
}

/** Every secret the server must not carry where a later step can read it. */
function secretsOf(main: ActionRun): string[] {
  return [
    svc.runtimeToken,
    svc.env().ACTIONS_RESULTS_URL,
    svc.url,
    ...Object.values(JOB_SECRETS),
    main.env.NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN
  ]
}

const pushMain = { event: 'push', ref: 'refs/heads/main', payload: pushPayload('refs/heads/main') }

function proc(pid: number, what: 'environ' | 'cmdline'): string {
  return readFileSync(`/proc/${pid}/${what}`).toString('utf8')
}

describe('what a later step can read of the cache server', () => {
  onLinux("the running server's /proc environ and cmdline hold none of the job's secrets, and it still reaches the cache", async () => {
    const main = await runAction({ ...pushMain, entry: MAIN, inputs: { 'github-token': JOB_SECRETS['github-token'] }, env: runnerEnv() })
    try {
      expect(main.status).toBe(0)
      expect(main.state['nca-started']).toBe('true')
      const pid = Number(main.state['nca-pid'])
      const environ = proc(pid, 'environ')
      const cmdline = proc(pid, 'cmdline')
      expect(cmdline).toContain(join('server', 'index.js'))
      for (const secret of secretsOf(main)) {
        expect(environ).not.toContain(secret)
        expect(cmdline).not.toContain(secret)
      }
      const names = environ.split('\0').map(kv => kv.split('=')[0])
      expect(names.filter(n => /^(INPUT_|ACTIONS_|NX_|NCA_)|TOKEN/.test(n) && n !== 'RUNNER_TRACKING_ID')).toEqual([])
      // What it needs is there: where it runs, and the id by which the runner ends it with the job.
      expect(names).toEqual(expect.arrayContaining(['PATH', 'RUNNER_TEMP', 'RUNNER_OS', 'RUNNER_TRACKING_ID']))

      // Handed over after the start, the cache variables still reach @actions/cache: a miss is
      // asked of the service with the runtime token (the stand-in answers 401 without it).
      const before = svc.requests.length
      expect((await getEntry(main, '7300001')).status).toBe(404)
      expect(svc.requests.slice(before)).toContainEqual(
        expect.objectContaining({ call: 'GetCacheEntryDownloadURL', key: 'nx-cloud-access-v1-Linux-7300001', status: 200 })
      )
    } finally {
      stopServer(main)
    }
  })
})

describe('a tampered entry, restored through the running server', () => {
  onLinux('is a 404 that writes nothing outside, deletes its archive, and is warned about once with its key', async () => {
    // An entry saved by the kit, whose archive then gained an absolute-path member, and one with ../.
    const src = mkdtempSync(join(tmpdir(), 'nca-src-'))
    mkdirSync(join(src, 'nx-cache'))
    for (const h of ['7400001', '7400002', '7400003']) writeFileSync(join(src, 'nx-cache', h), `entry ${h}`)
    const outside = mkdtempSync(join(tmpdir(), 'nca-outside-'))
    writeFileSync(join(outside, 'authorized_keys'), 'ssh-ed25519 AAAA mallory')
    const climb = `nca-climb-${process.pid}`
    writeFileSync(join(src, '..', climb), 'beside the stage')
    const key = (h: string): string => `nx-cloud-access-v1-Linux-${h}`
    svc.seed(key('7400001'), entryVersion('7400001'), entryArchive(src, ['nx-cache/7400001', join(outside, 'authorized_keys')]))
    svc.seed(key('7400002'), entryVersion('7400002'), entryArchive(src, ['nx-cache/7400002', `../${climb}`]))
    svc.seed(key('7400003'), entryVersion('7400003'), entryArchive(src, ['nx-cache/7400003']))
    rmSync(join(outside, 'authorized_keys'))

    const main = await runAction({ ...pushMain, entry: MAIN, env: runnerEnv() })
    expect(main.status).toBe(0)
    const stage = main.state['nca-stage']
    const runnerTemp = dirname(stage)
    let post: ActionRun
    try {
      expect((await getEntry(main, '7400001')).status).toBe(404)
      expect((await getEntry(main, '7400001')).status).toBe(404)
      expect((await getEntry(main, '7400002')).status).toBe(404)
      // A clean entry still hits.
      const clean = await getEntry(main, '7400003')
      expect(clean.status).toBe(200)
      expect(await clean.text()).toBe('entry 7400003')

      expect(existsSync(join(outside, 'authorized_keys'))).toBe(false)
      expect(existsSync(join(runnerTemp, climb))).toBe(false)
      expect(readdirSync(join(stage, 'nx-cache'))).toEqual(['7400003'])
      // No downloaded archive is left anywhere under RUNNER_TEMP.
      expect(readdirSync(runnerTemp, { recursive: true, encoding: 'utf8' }).filter(p => /cache\.t(zst|gz)$/.test(p))).toEqual([])
      // Refused once: the second GET did not download it again.
      const downloads = svc.requests.filter(r => r.call === 'blob' && r.method === 'GET' && r.key === key('7400001'))
      expect(downloads).toHaveLength(1)
      const log = readFileSync(join(stage, 'server.log'), 'utf8')
      expect(log.split('\n').filter(l => l.includes(`entry ${key('7400001')} is not one this kit saves`))).toHaveLength(1)
    } finally {
      post = await runAction({ ...pushMain, entry: POST, env: { ...runnerEnv(), ...main.env }, state: main.state })
    }
    expect(post.status).toBe(0)
    expect(post.warnings.filter(w => w.includes(key('7400001')))).toHaveLength(1)
    expect(post.warnings.filter(w => w.includes(key('7400002')))).toHaveLength(1)
    expect(post.warnings.join('\n')).toContain('an absolute path')
    expect(post.warnings.filter(w => w.includes(key('7400003')))).toEqual([])
    expect(post.outputs).toMatchObject({ hits: '1', misses: '3' })

    // server.log keeps no secret and no signed URL, though the library's debug lines printed them.
    const log = readFileSync(join(stage, 'server.log'), 'utf8')
    expect(log).toContain('GetCacheEntryDownloadURL')
    expect(log).not.toMatch(/sig=(?!\*\*\*)/)
    expect(log).not.toContain('download-')
    for (const secret of [svc.runtimeToken, main.env.NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN]) expect(log).not.toContain(secret)
  })
})

/**
 * A later `run:` step of the job, as PR code checked out under pull_request_target would be: the
 * job's environment with what main put in GITHUB_ENV, but not the variables the runner gives only
 * to actions (ACTIONS_RUNTIME_TOKEN, ACTIONS_RESULTS_URL). It looks for them in every process of
 * the kit's server it can read, then saves a poisoned entry under the kit's key with the real
 * @actions/cache with whatever it found, and tries the kit's server with a PUT.
 */
const LATER_STEP = `
import { readFileSync, readdirSync, mkdirSync, writeFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
const found = {}
for (const pid of readdirSync('/proc').filter(p => /^\\d+$/.test(p))) {
  let cmdline, environ
  try {
    cmdline = readFileSync('/proc/' + pid + '/cmdline', 'utf8')
    environ = readFileSync('/proc/' + pid + '/environ', 'utf8')
  } catch { continue }
  if (!cmdline.includes('server/index.js')) continue
  const vars = {}
  for (const kv of [...environ.split('\\0'), ...cmdline.split('\\0')]) {
    const m = /^(ACTIONS_RUNTIME_TOKEN|ACTIONS_RESULTS_URL|NCA_CACHE_TOKEN)=(.+)$/.exec(kv)
    if (m) vars[m[1]] = m[2]
  }
  // Other jobs' servers on this machine (other tests) talk to other services: this job's only.
  if (Object.keys(vars).length > 0 && (vars.ACTIONS_RESULTS_URL ?? process.env.TARGET_URL) === process.env.TARGET_URL) Object.assign(found, vars)
}
const put = await fetch(process.env.NX_SELF_HOSTED_REMOTE_CACHE_SERVER + '/v1/cache/' + process.env.HASH, {
  method: 'PUT',
  headers: { authorization: 'Bearer ' + process.env.NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN },
  body: 'poisoned'
})
process.chdir(process.env.WORK)
process.env.GITHUB_WORKSPACE = process.env.WORK
mkdirSync('nx-cache', { recursive: true })
writeFileSync('nx-cache/' + process.env.HASH, 'poisoned build output')
if (found.ACTIONS_RUNTIME_TOKEN) process.env.ACTIONS_RUNTIME_TOKEN = found.ACTIONS_RUNTIME_TOKEN
if (found.ACTIONS_RESULTS_URL) process.env.ACTIONS_RESULTS_URL = found.ACTIONS_RESULTS_URL
const cache = await import(pathToFileURL(process.env.CACHE_LIB).href)
let saved
try {
  saved = await cache.saveCache(['nx-cache/' + process.env.HASH], 'nx-cloud-access-v1-Linux-' + process.env.HASH)
} catch (e) {
  saved = 'threw: ' + e.message
}
process.stdout.write('\\nRESULT ' + JSON.stringify({ found: Object.keys(found), put: put.status, saved }) + '\\n')
`

function laterStep(env: Record<string, string>): Promise<{ found: string[]; put: number; saved: unknown }> {
  const dir = mkdtempSync(join(tmpdir(), 'nca-later-step-'))
  const script = join(dir, 'step.mjs')
  writeFileSync(script, LATER_STEP)
  return new Promise((resolveStep, reject) => {
    const child = spawn(process.execPath, [script], { env: { ...env, WORK: dir }, cwd: dir })
    let out = ''
    child.stdout.on('data', d => (out += d))
    child.stderr.on('data', d => (out += d))
    child.on('error', reject)
    child.on('close', () => {
      const line = out.split('\n').find(l => l.startsWith('RESULT '))
      if (!line) return reject(new Error(`the later step printed no result:\n${out}`))
      resolveStep(JSON.parse(line.slice('RESULT '.length)))
    })
  })
}

describe('the attack end to end: pull_request_target, then PR code in a later step', () => {
  onLinux("finds no runtime token to save a poisoned entry with, and the kit's server refuses its PUT", async () => {
    const run = {
      event: 'pull_request_target',
      ref: 'refs/heads/main',
      payload: prPayload({ fork: 'mallory/monorepo', author: 'mallory' }),
      actor: 'mallory'
    }
    const main = await runAction({ ...run, entry: MAIN, env: runnerEnv() })
    try {
      expect(main.status).toBe(0)
      expect(main.outputs.access).toBe('read-only')
      expect(main.state['nca-started']).toBe('true')
      const hash = '7500001'
      const key = `nx-cloud-access-v1-Linux-${hash}`
      const creates = svc.requests.filter(r => r.call === 'CreateCacheEntry').length
      // What a run: step gets: the job's environment and GITHUB_ENV, without the action-only variables.
      const { ACTIONS_RUNTIME_TOKEN: _t, ACTIONS_RESULTS_URL: _u, ...jobEnv } = runnerEnv()
      const step = await laterStep({
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        ...jobEnv,
        ...main.env,
        HASH: hash,
        TARGET_URL: svc.env().ACTIONS_RESULTS_URL,
        CACHE_LIB: join(REPO_ROOT, 'node_modules', '@actions', 'cache', 'lib', 'cache.js')
      })
      expect(step.found).toEqual([])
      expect(step.put).toBe(403)
      // saveCache's -1 (a failure it only logs), or a throw: no entry id.
      expect(step.saved === -1 || String(step.saved).startsWith('threw')).toBe(true)
      // Nothing reached the service: no reservation, no entry under the kit's key.
      expect(svc.requests.filter(r => r.call === 'CreateCacheEntry').length).toBe(creates)
      expect(svc.entry(key) !== undefined).toBe(false)
    } finally {
      stopServer(main)
    }
  })
})
