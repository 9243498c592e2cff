// core/env-files.ts against Nx's own loadRootEnvFiles (nx/src/utils/dotenv.js) and Nx Cloud's
// environment.js: for each set of env files and job environment, the variables Nx ends up with and
// the token it settles on must be the kit's. Nx runs in a child process per case (it loads into
// process.env); the kit's functions run here, on the same texts.

import { describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type EnvFileName,
  ENV_FILES,
  nxCloudEnvToken,
  nxEnvironment,
  parseEnvFiles,
  readWriteEnvFileTokens
} from '../../src/core/env-files.js'
import { REPO_ROOT } from '../helpers/run-action.js'

const NX = join(REPO_ROOT, 'node_modules', 'nx', 'dist')
const RW = Buffer.from('0b7c3c4e-1d2a-4a5b-9c8d-7e6f5a4b3c2d|read-write').toString('base64')
const WATCHED = ['NX_CLOUD_AUTH_TOKEN', 'NX_CLOUD_ACCESS_TOKEN', 'NX_NO_CLOUD', 'NX_CLOUD_ENCRYPTION_KEY', 'A', 'B', 'T']

/** What Nx's modules leave in the environment, and Nx Cloud's ACCESS_TOKEN. */
function nxSays(files: Partial<Record<EnvFileName, string>>, job: Record<string, string>): { env: Record<string, string>; token: string } {
  const ws = mkdtempSync(join(tmpdir(), 'nca-dotenv-'))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(ws, name), text)
  const script = `
    require(${JSON.stringify(join(NX, 'src/utils/dotenv.js'))}).loadRootEnvFiles(${JSON.stringify(ws)});
    const { ACCESS_TOKEN } = require(${JSON.stringify(join(NX, 'src/nx-cloud/utilities/environment.js'))});
    const env = {};
    for (const k of ${JSON.stringify(WATCHED)}) if (process.env[k] !== undefined) env[k] = process.env[k];
    process.stdout.write(JSON.stringify({ env, token: ACCESS_TOKEN || '' }));`
  // Only the job's variables and what node needs: nothing of this machine's env leaks into the case.
  const r = spawnSync(process.execPath, ['-e', script], {
    cwd: ws,
    env: { PATH: process.env.PATH, NX_WORKSPACE_ROOT_PATH: ws, ...job },
    encoding: 'utf8'
  })
  if (r.status !== 0) throw new Error(r.stderr)
  return JSON.parse(r.stdout)
}

function kitSays(files: Partial<Record<EnvFileName, string>>, job: Record<string, string>): { env: Record<string, string>; token: string } {
  const parsed = parseEnvFiles(ENV_FILES.flatMap(name => (files[name] === undefined ? [] : [{ name, file: name, text: files[name]! }])))
  const all = nxEnvironment(parsed, job)
  const env: Record<string, string> = {}
  for (const k of WATCHED) if (all[k] !== undefined) env[k] = all[k]!
  return { env, token: nxCloudEnvToken(parsed, all).value }
}

const CASES: [string, Partial<Record<EnvFileName, string>>, Record<string, string>][] = [
  ['a name defined on a later line', { '.env': 'NX_CLOUD_AUTH_TOKEN=${A}\nA=one\n' }, {}],
  ['across files, the first file wins', { '.local.env': 'A=local\n', '.env.local': 'A=envlocal\nB=${A}\n', '.env': 'A=env\nT=${B}\n' }, {}],
  ['a non-empty job value wins, an empty one is filled in', { '.env': 'A=file\nB=file\nT=${A}-${B}\n' }, { A: 'job', B: '' }],
  ['defaults, alternates and the unbraced form', { '.env': 'T=${MISSING:-fallback}\nA=${T:+set}\nB=$T\n' }, {}],
  ['a self-reference and an escaped dollar', { '.env': 'A=${A}x\nB=\\${A}\n' }, {}],
  ['a chain through three names', { '.env': 'NX_CLOUD_ACCESS_TOKEN=${A}\nA=${B}\nB=${T}\nT=deep\n' }, {}],
  ['nx-cloud.env is parsed alone and never expanded', { 'nx-cloud.env': 'NX_CLOUD_AUTH_TOKEN=${A}\n', '.env': 'A=one\n' }, {}],
  [
    'nx-cloud.env only where the environment has neither token',
    { 'nx-cloud.env': 'NX_CLOUD_ACCESS_TOKEN=cloudfile\n', '.env': 'NX_CLOUD_AUTH_TOKEN=\n' },
    {}
  ],
  [
    'a job token wins over every file',
    { '.env': 'NX_CLOUD_AUTH_TOKEN=file\n', 'nx-cloud.env': 'NX_CLOUD_AUTH_TOKEN=cloud\n' },
    { NX_CLOUD_ACCESS_TOKEN: 'job' }
  ],
  [
    'a job AUTH left empty, the file fills it',
    { '.env': 'NX_CLOUD_AUTH_TOKEN=file\n' },
    { NX_CLOUD_AUTH_TOKEN: '', NX_CLOUD_ACCESS_TOKEN: 'job' }
  ],
  ['quotes, export and comments', { '.env': 'export A="one two" # note\nB=\'${A}\'\nT="${A}"\n' }, {}],
  ['NX_NO_CLOUD and the key from a file', { '.env.local': 'NX_NO_CLOUD=true\nNX_CLOUD_ENCRYPTION_KEY=k\n' }, {}]
]

describe('the environment Nx runs with, and its Nx Cloud token: the kit works out what Nx does', () => {
  it.each(CASES)('%s', (_, files, job) => {
    expect(kitSays(files, job)).toEqual(nxSays(files, job))
  })
})

describe('readWriteEnvFileTokens: a read-write token wherever it sits in the env files', () => {
  const parse = (files: Partial<Record<EnvFileName, string>>) =>
    parseEnvFiles(ENV_FILES.flatMap(name => (files[name] === undefined ? [] : [{ name, file: name, text: files[name]! }])))

  it('at the token variable that carries it, once a file, at its last assignment', () => {
    const found = readWriteEnvFileTokens(parse({ '.env': `# NX_RW=old\nNX_CLOUD_AUTH_TOKEN=\${NX_RW}\nNX_RW=${RW}\n` }))
    expect(found.map(t => [t.file, t.name, t.line])).toEqual([['.env', 'NX_CLOUD_AUTH_TOKEN', 2]])
  })

  it('in each file it sits in, a shadowed value included', () => {
    const found = readWriteEnvFileTokens(
      parse({ '.env.local': `X=${RW}\n`, '.env': `X=other\nNX_CLOUD_ACCESS_TOKEN=\${X}\n`, 'nx-cloud.env': `NX_CLOUD_AUTH_TOKEN=${RW}\n` })
    )
    expect(found.map(t => [t.file, t.name])).toEqual([
      ['.env', 'NX_CLOUD_ACCESS_TOKEN'],
      ['.env.local', 'X'],
      ['nx-cloud.env', 'NX_CLOUD_AUTH_TOKEN']
    ])
  })

  it('a token split in two and joined by expansion is found joined', () => {
    const [a, b] = [RW.slice(0, 20), RW.slice(20)]
    expect(readWriteEnvFileTokens(parse({ '.env': `P1=${a}\nP2=${b}\nNX_CLOUD_AUTH_TOKEN=\${P1}\${P2}\n` })).map(t => t.name)).toEqual([
      'NX_CLOUD_AUTH_TOKEN'
    ])
  })

  it('nothing when no value decodes as read-write', () => {
    expect(readWriteEnvFileTokens(parse({ '.env': 'NX_CLOUD_AUTH_TOKEN=opaque\nA=${NX_CLOUD_AUTH_TOKEN}\n' }))).toEqual([])
  })
})
