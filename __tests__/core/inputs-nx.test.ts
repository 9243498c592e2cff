// Unit tests of the two parsers at the edges: inputs and nx.json.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseList, readInputs } from '../../src/core/inputs.js'
import { parseNxJson, tokenLevel } from '../../src/core/nx-config.js'
import { readNxConfig } from '../../src/action-io/nx-json.js'
import { PolicyError } from '../../src/core/types.js'

const b64 = (s: string): string => Buffer.from(s).toString('base64')
const UUID = '0b7c3c4e-1d2a-4a5b-9c8d-7e6f5a4b3c2d'

describe('inputs', () => {
  test('defaults: main-only, encryption not required (docs/POLICY.md#encryption), default write events, default branch', () => {
    expect(readInputs({})).toEqual({
      setup: 'main-only',
      readWriteToken: '',
      readOnlyToken: '',
      encryptionKey: '',
      githubToken: '',
      requireEncryption: false,
      writeBranches: null,
      writeEvents: ['push', 'workflow_dispatch', 'schedule'],
      skipCache: false,
      rebuildCommand: '',
      selfHostedCacheUrl: '',
      workingDirectory: '.',
      workspaceIdAccess: 'none'
    })
  })

  test.each([
    ['', 'none'],
    ['none', 'none'],
    ['read-only', 'read-only'],
    ['Read-Only', 'read-only']
  ])("workspace-id-access '%s' reads as %s", (value, want) => {
    expect(readInputs({ 'INPUT_WORKSPACE-ID-ACCESS': value }).workspaceIdAccess).toBe(want)
  })

  test('workspace-id-access read-write is refused, saying why and what to change in Nx Cloud', () => {
    const read = (): unknown => readInputs({ 'INPUT_WORKSPACE-ID-ACCESS': 'read-write' })
    expect(read).toThrow(PolicyError)
    expect(read).toThrow(/^Input 'workspace-id-access' is read-write: anyone who clones the repository .* could write/)
    expect(read).toThrow(/In Nx Cloud, set the workspace ID access level .* to read-only or none/)
    expect(read).toThrow(/Accepted: none, read-only\.$/)
    expect(() => readInputs({ 'INPUT_WORKSPACE-ID-ACCESS': 'readonly' })).toThrow(
      "Input 'workspace-id-access' has an unknown value 'readonly'. Accepted: none, read-only."
    )
  })

  test.each([
    ['1', 'main-only'],
    ['2', 'ci-read-write'],
    ['3', 'shared-read-write'],
    [' CI-Read-Write ', 'ci-read-write'],
    ['off', 'off']
  ])('setup %p is %p', (value, setup) => {
    expect(readInputs({ INPUT_SETUP: value }).setup).toBe(setup)
  })

  test('lists split on newlines and commas', () => {
    expect(parseList('main,\n release/* ,\n\n hotfix/**')).toEqual(['main', 'release/*', 'hotfix/**'])
  })

  test('booleans take the YAML 1.2 core forms only', () => {
    expect(readInputs({ 'INPUT_SKIP-CACHE': 'TRUE' }).skipCache).toBe(true)
    expect(() => readInputs({ 'INPUT_REQUIRE-ENCRYPTION': 'no' })).toThrow("Input 'require-encryption'")
  })

  test('a secret with a control character is refused without echoing it', () => {
    const secret = 'abc\rdef-very-secret'
    try {
      readInputs({ 'INPUT_READ-ONLY-TOKEN': secret })
      throw new Error('no error')
    } catch (e) {
      expect(e).toBeInstanceOf(PolicyError)
      expect((e as Error).message).not.toContain('very-secret')
    }
  })
})

describe('self-hosted-cache-url', () => {
  const url = (value: string): string => readInputs({ 'INPUT_SELF-HOSTED-CACHE-URL': value }).selfHostedCacheUrl

  test.each([
    ['a line break', 'http://127.0.0.1:1\nNX_CLOUD_ACCESS_TOKEN=x'],
    ['a carriage return', 'http://cache.\rlocal:8080'],
    ['a tab inside', 'http://cache.\tlocal:8080'],
    ['a NUL', 'http://cache.local\u0000:8080'],
    ['a DEL', 'http://cache.local\u007f']
  ])('%s is refused (the URL parser would drop it silently)', (_name, value) => {
    expect(() => url(value)).toThrow(
      "Input 'self-hosted-cache-url' contains a line break or control character. Accepted: an http:// or https:// URL on one line"
    )
  })

  test('credentials in the URL are refused, and not echoed', () => {
    for (const value of ['https://user:hunter2-pass@cache.local', 'https://tokenonly@cache.local/']) {
      try {
        url(value)
        throw new Error('no error')
      } catch (e) {
        expect(e).toBeInstanceOf(PolicyError)
        expect((e as Error).message).toContain("Input 'self-hosted-cache-url' carries credentials")
        expect((e as Error).message).not.toMatch(/hunter2|tokenonly/)
      }
    }
  })

  test('a plain URL is kept as written', () => {
    expect(url('https://cache.example.com:8443/nx')).toBe('https://cache.example.com:8443/nx')
  })
})

describe('nx.json', () => {
  test.each([
    ['100k unclosed [', '['.repeat(100_000)],
    ['100k closed [ ]', '['.repeat(100_000) + ']'.repeat(100_000)],
    ['100k unclosed {"a":', '{"a":'.repeat(100_000)],
    ['100k closed {"a": }', '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000)],
    ['deep, with a trailing comma (the JSONC path)', '{"x":' + '['.repeat(50_000) + ']'.repeat(50_000) + ',}']
  ])('nested too deeply (%s) is a malformed nx.json, not a stack overflow', (_name, text) => {
    expect(() => parseNxJson(text)).toThrow(PolicyError)
    expect(() => parseNxJson(text)).toThrow(
      /Input 'working-directory' points at a malformed nx\.json \(nested deeper than 256 levels at line 1, column \d+\)/
    )
  })

  test('nesting is counted outside strings and comments', () => {
    const brackets = '['.repeat(1000)
    const nx = parseNxJson(`{ // ${brackets}\n /* ${brackets} */ "nxCloudId": "${brackets}", "nxCloudAccessToken": "t" }`)
    expect(nx).toMatchObject({ accessToken: 't', cloudId: brackets })
    expect(() => parseNxJson('{"a":' + '['.repeat(256) + ']'.repeat(256) + '}')).toThrow('nested deeper than 256')
    expect(parseNxJson('{"a":' + '['.repeat(255) + ']'.repeat(255) + '}').path).toBe('nx.json')
  })

  test('comments and trailing commas are read as Nx reads them', () => {
    const nx = parseNxJson(`{
      // Nx Cloud
      "nxCloudAccessToken": "abc", /* read-only */
      "nxCloudEncryptionKey": "k",
      "nxCloudId": "id-1",
    }`)
    expect(nx).toMatchObject({ accessToken: 'abc', encryptionKey: 'k', cloudId: 'id-1' })
  })

  test('a malformed nx.json names where it broke', () => {
    expect(() => parseNxJson('{\n  "a": 1\n  "b": 2\n}')).toThrow(/malformed nx\.json \(a comma is missing at line 3, column 3\)/)
    // Every jsonc-parser code in words: a few breaks, each said without the parser's code name.
    for (const text of ['{"a" 1}', '{"a": }', '{a: 1}', '{"a": 1} x', '{"a": "b', '{"a": [1}', '{"a": 01}', '/* x']) {
      let message = ''
      try {
        parseNxJson(text)
      } catch (e) {
        message = (e as Error).message
      }
      expect(message).toMatch(/^Input 'working-directory' points at a malformed nx\.json \([a-z]/)
      expect(message).not.toMatch(/\b[A-Z][a-z]+[A-Z][A-Za-z]+\b/) // no CamelCase code such as CommaExpected
    }
    expect(() => parseNxJson('[]')).toThrow('malformed')
  })

  test('a missing nx.json is not an error (the path looked at is kept); an unreadable one is', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nca-nx-'))
    expect(readNxConfig(dir).path).toBeNull()
    expect(readNxConfig(dir).lookedAt).toBe(join(dir, 'nx.json'))
    mkdirSync(join(dir, 'nx.json'))
    expect(() => readNxConfig(dir)).toThrow(/nx\.json, which is not a regular file/)
  })

  test('a workspace folder that does not exist, or is a file, is an error naming working-directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nca-nx-'))
    expect(() => readNxConfig(join(dir, 'apps', 'web'))).toThrow(
      `Input 'working-directory' points at ${join(dir, 'apps', 'web')}, which does not exist.`
    )
    writeFileSync(join(dir, 'file'), '')
    expect(() => readNxConfig(join(dir, 'file'))).toThrow('which is not a folder')
  })

  test('the older layout wins when both are present', () => {
    const nx = parseNxJson(
      JSON.stringify({ nxCloudAccessToken: 'new', tasksRunnerOptions: { default: { options: { accessToken: 'old' } } } })
    )
    expect(nx.accessToken).toBe('old')
  })
})

describe('legacy token levels', () => {
  test.each([
    [b64(`${UUID}|read-write`), 'read-write'],
    [b64(`${UUID}|read-only`), 'read-only'],
    [b64(`${UUID}|read`), 'read-only'],
    [b64(`${UUID}|admin`), 'unknown'],
    [b64('not-a-uuid|read-write'), 'unknown'],
    ['NzU1ZjU4ZWQtZjA3Mi00Y2I0LWI2MTctZTc3ZWVmMTY5ZjU2fHJlYWQ=', 'read-only'],
    ['MmRjOGI2NmMtNjk0YS00NWJkLWJhZmYtN2FlZGE5MGM0ZGQ1fHJlYWQtd3JpdGU=', 'read-write'],
    ['opaque-token-from-a-newer-nx-cloud', 'unknown'],
    ['', 'unknown']
  ])('%s is %s', (token, level) => {
    expect(tokenLevel(token)).toBe(level)
  })
})
