// Builds every bundle GitHub runs (committed, checked fresh by .ci/run).
// Each entry is its own ncc bundle, so the token step never loads what only another entry needs.
import { execFileSync } from 'node:child_process'
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs'

const ENTRIES = [
  // [source, output folder]
  ['src/token-step/index.ts', 'dist'],
  // The pre-deploy rebuild's check (the composite's rebuild step): @actions/core only.
  ['src/rebuild/index.ts', 'dist/rebuild'],
  // The command line (`bin: nx-cloud-access`): its own bundle, so the token step does not grow.
  ['src/cli/index.ts', 'dist/cli'],
  // The cache action: main starts the server, which runs detached from its own bundle; post saves.
  // Only the server and post load @actions/cache.
  ['src/cache/main/index.ts', 'cache/dist/main'],
  ['src/cache/server/index.ts', 'cache/dist/server'],
  ['src/cache/post/index.ts', 'cache/dist/post']
]

// Outputs nested in another entry's folder (dist/cli in dist) are removed with it, so clean first.
for (const [, out] of ENTRIES) rmSync(out, { recursive: true, force: true })
for (const [src, out] of ENTRIES) {
  // The programs load @actions/core's own modules through src/action-io/core.ts, never its root
  // (whose OIDC client pulls in undici): the token step's bundle is under 100 KB. @actions/cache and
  // @actions/github keep their own http clients, loaded where they are used.
  execFileSync('npx', ['ncc', 'build', src, '-o', out, '--minify', '--license', 'licenses.txt', '--quiet'], {
    stdio: 'inherit'
  })
}

// `npx nx-cloud-access` runs dist/cli/index.js directly: it needs its shebang and the x bit, and
// `--version` prints the version written here in place of src/cli/run.ts's placeholder (so the
// bundle reads no package.json at run time; the dist/ freshness check catches a stale version).
const cli = 'dist/cli/index.js'
const PLACEHOLDER = '0.0.0-nx-cloud-access-source'
const { version } = JSON.parse(readFileSync('package.json', 'utf8'))
let code = readFileSync(cli, 'utf8')
const found = code.split(PLACEHOLDER).length - 1
if (found !== 1) throw new Error(`${cli}: expected the version placeholder once, found it ${found} times`)
code = code.replace(PLACEHOLDER, version)
writeFileSync(cli, code.startsWith('#!') ? code : `#!/usr/bin/env node\n${code}`)
chmodSync(cli, 0o755)
