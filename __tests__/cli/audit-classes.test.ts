// What audit got wrong on repositories it had never seen (issue 22's seven classes), the deploy
// rule in every setup (issue 24's table, a test per row) and the kit's own configuration (issue 19).
// Each case is a small repository written to a temp folder and audited by the bundled CLI; set
// AUDIT_CLI to another bundle (the code before these changes) to see which of them it fails.

import { describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { CLI } from '../helpers/run-cli.js'

const BUNDLE = process.env.AUDIT_CLI ?? CLI
const W = '.github/workflows'
const RW = Buffer.from('5f1e2d3c-4b5a-4697-8877-665544332211|read-write').toString('base64')
const RO = Buffer.from('5f1e2d3c-4b5a-4697-8877-665544332211|read-only').toString('base64')
const KEY = { nxCloudEncryptionKey: 'k' }

function repo(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'nca-classes-'))
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
  return dir
}

type Row = [string, string, string, number]
function run(dir: string, ...args: string[]): { rows: Row[]; messages: string[]; status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BUNDLE, 'audit', dir, ...args], { encoding: 'utf8' })
  const json = args.includes('--format')
    ? null
    : spawnSync(process.execPath, [BUNDLE, 'audit', dir, '--format', 'json', ...args], { encoding: 'utf8' })
  const findings = json && (json.status ?? 2) <= 1 ? JSON.parse(json.stdout).findings : []
  return {
    rows: findings.map((f: Record<string, string | number>) => [f.rule, f.severity, f.file, f.line]),
    messages: findings.map((f: Record<string, string>) => `${f.message} ${f.fix}`),
    status: r.status ?? -1,
    stdout: r.stdout,
    stderr: r.stderr
  }
}
const rule = (rows: Row[], id: string): Row[] => rows.filter(r => r[0] === id)

describe('class 1: deployment judged by what runs and what leaves the runner', () => {
  const nx = JSON.stringify({ nxCloudAccessToken: RO, ...KEY })
  it("a publish command inside a forked changesets action's publish: input is a deploy that builds with Nx", () => {
    const dir = repo({
      'nx.json': nx,
      'package.json': JSON.stringify({ scripts: { release: 'nx run-many -t build && changeset publish' } }),
      [`${W}/release.yml`]:
        'on:\n  push:\n    branches: [main]\njobs:\n  release:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: dotansimha/changesets-action@v1\n        with:\n          publish: pnpm release\n'
    })
    expect(rule(run(dir, '--setup', 'ci-read-write').rows, 'deploy-without-rebuild')).toEqual([
      ['deploy-without-rebuild', 'high', `${W}/release.yml`, 5]
    ])
  })
  it('a build handed to the shipping job through actions/cache, shipped by a git-push-to-Pages action not on the old list', () => {
    const cache = (p: string): string =>
      `      - uses: actions/cache@v4\n        with:\n          path: ${p}\n          key: dist-\${{ github.run_id }}\n`
    const dir = repo({
      'nx.json': nx,
      [`${W}/release.yml`]:
        'on:\n  push:\n    tags: [v*]\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n' +
        cache('dist') +
        '      - run: npx nx build web\n  pages:\n    needs: build\n    runs-on: ubuntu-latest\n    steps:\n' +
        cache('dist') +
        '      - uses: ad-m/github-push-action@v0.6.0\n        with:\n          branch: gh-pages\n'
    })
    expect(rule(run(dir, '--setup', 'ci-read-write').rows, 'deploy-without-rebuild')).toEqual([
      ['deploy-without-rebuild', 'high', `${W}/release.yml`, 13]
    ])
  })
  it('an image pushed by an Nx executor that INPUT_PUSH switches on is a deploy', () => {
    const dir = repo({
      'nx.json': nx,
      [`${W}/docker.yml`]:
        'on:\n  push:\n    branches: [main]\njobs:\n  images:\n    runs-on: ubuntu-latest\n    env:\n      INPUT_PUSH: true\n    steps:\n      - run: npx nx affected -t container\n'
    })
    expect(rule(run(dir, '--setup', 'ci-read-write').rows, 'deploy-without-rebuild')).toEqual([
      ['deploy-without-rebuild', 'high', `${W}/docker.yml`, 5]
    ])
  })
  it('--dry-run publishes, nx release --skip-publish and --no-cloud builds are no deploy from the cache', () => {
    const dir = repo({
      'nx.json': nx,
      [`${W}/release.yml`]:
        'on:\n  push:\n    branches: [main]\njobs:\n  a:\n    runs-on: ubuntu-latest\n    environment: release\n    steps:\n      - run: npx nx release --skip-publish\n  b:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npx nx run-many -t build && npm publish --dry-run\n  c:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npx nx build web --no-cloud && npm publish dist/web\n'
    })
    expect(rule(run(dir, '--setup', 'ci-read-write').rows, 'deploy-without-rebuild')).toEqual([])
  })
})

describe('class 2: nx.json as Nx reads it', () => {
  it('a read-write token under a runner other than default (selected with --runner) is found', () => {
    const dir = repo({
      'nx.json': JSON.stringify(
        {
          tasksRunnerOptions: {
            cloud: { runner: 'nx-cloud', options: { accessToken: RW } },
            default: { runner: 'nx/tasks-runners/default' }
          },
          ...KEY
        },
        null,
        2
      ),
      [`${W}/ci.yml`]: 'on: push\njobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npx nx build --runner=cloud\n'
    })
    expect(rule(run(dir).rows, 'nx-json-read-write-token')).toEqual([['nx-json-read-write-token', 'high', 'nx.json', 6]])
  })
})

describe('class 3: run-time switches', () => {
  const nx = JSON.stringify({ nxCloudId: 'abc', ...KEY })
  it('NX_NO_CLOUD: true beside a token in a step env: means Nx never uses it', () => {
    const dir = repo({
      'nx.json': nx,
      [`${W}/ci.yml`]:
        'on: pull_request\njobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npx nx build\n        env:\n          NX_NO_CLOUD: true\n          NX_CLOUD_ACCESS_TOKEN: ${{ secrets.NX }}\n'
    })
    expect(rule(run(dir).rows, 'step-env-token')).toEqual([])
  })
  it('a step that writes NX_NO_CLOUD=true to $GITHUB_ENV when the token is empty: pull requests without a token run without Nx Cloud', () => {
    const dir = repo({
      'nx.json': nx,
      [`${W}/ci.yml`]:
        'on: pull_request\nenv:\n  NX_CLOUD_ACCESS_TOKEN: ${{ secrets.NX_READ_ONLY }}\njobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n      - run: if [ -z "$NX_CLOUD_ACCESS_TOKEN" ]; then echo "NX_NO_CLOUD=true" >> "$GITHUB_ENV"; fi\n      - run: npx nx affected -t build\n'
    })
    expect(rule(run(dir).rows, 'workspace-id-access')).toEqual([])
  })
})

describe('class 4: conditions', () => {
  it('a job whose if: admits only pushes to main is not reached by pull requests', () => {
    const dir = repo({
      'nx.json': JSON.stringify({ nxCloudId: 'abc', ...KEY }),
      [`${W}/ci.yml`]:
        "on:\n  pull_request:\n  push:\n    branches: [main]\nenv:\n  NX_CLOUD_ACCESS_TOKEN: ${{ secrets.NX }}\njobs:\n  release:\n    if: github.event_name == 'push' && github.ref == 'refs/heads/main'\n    runs-on: ubuntu-latest\n    steps:\n      - run: npx nx run-many -t build\n"
    })
    const rows = run(dir).rows
    expect(rule(rows, 'inherited-env-token')).toEqual([])
    expect(rule(rows, 'workspace-id-access')).toEqual([])
  })
  it('a condition the audit cannot know (github.repository) keeps the finding', () => {
    const dir = repo({
      'nx.json': JSON.stringify({ nxCloudId: 'abc', ...KEY }),
      [`${W}/ci.yml`]:
        "on: pull_request\nenv:\n  NX_CLOUD_ACCESS_TOKEN: ${{ secrets.NX }}\njobs:\n  b:\n    if: github.repository == 'acme/x'\n    runs-on: ubuntu-latest\n    steps:\n      - run: npx nx run-many -t build\n"
    })
    expect(rule(run(dir).rows, 'inherited-env-token')).toEqual([['inherited-env-token', 'high', `${W}/ci.yml`, 3]])
  })
})

describe('class 5: YAML that GitHub accepts', () => {
  it("a flow sequence whose closing ] sits at the key's indentation is read, not reported unreadable", () => {
    const dir = repo({
      'nx.json': JSON.stringify({ nxCloudId: 'abc', ...KEY }),
      [`${W}/ci.yml`]:
        'on:\n  pull_request:\n    branches: [\n      main\n]\nenv:\n  NX_CLOUD_ACCESS_TOKEN: ${{ secrets.NX }}\njobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npx nx build\n'
    })
    const rows = run(dir).rows
    expect(rule(rows, 'workflow-unreadable')).toEqual([])
    expect(rule(rows, 'inherited-env-token')).toEqual([['inherited-env-token', 'high', `${W}/ci.yml`, 7]])
  })
})

describe('class 6: forms an attack review found', () => {
  const nx = JSON.stringify({ nxCloudAccessToken: RO, ...KEY })
  const prt = (job: string): string => `on: pull_request_target\njobs:\n${job}`
  it.each([
    [
      'a token set inline in run:',
      '  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: |\n          npm ci\n          NX_CLOUD_ACCESS_TOKEN=${{ secrets.NX }} npx nx affected -t build\n',
      8
    ],
    [
      'a token written to $GITHUB_ENV, Nx run through ./nx',
      '  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo "NX_CLOUD_ACCESS_TOKEN=${{ secrets.NX }}" >> $GITHUB_ENV\n      - run: ./nx affected -t build\n',
      6
    ],
    [
      'a token in container.env',
      '  a:\n    runs-on: ubuntu-latest\n    container:\n      image: node:22\n      env:\n        NX_CLOUD_ACCESS_TOKEN: ${{ secrets.NX }}\n    steps:\n      - run: npx nx affected -t build\n',
      8
    ]
  ])('%s under pull_request_target is found', (_what, job, line) => {
    const dir = repo({ 'nx.json': nx, [`${W}/t.yml`]: prt(job as string) })
    expect(rule(run(dir).rows, 'untrusted-trigger-token')).toEqual([['untrusted-trigger-token', 'high', `${W}/t.yml`, line]])
  })
  it("workflow text cannot inject workflow commands or terminal escapes into the audit's log", () => {
    const dir = repo({
      'nx.json': nx,
      [`${W}/t.yml`]: prt(
        '  "x\\n::add-mask::y\\n::stop-commands::z\\u001b[2J":\n    runs-on: ubuntu-latest\n    steps:\n      - run: npx nx build\n    env:\n      NX_CLOUD_ACCESS_TOKEN: ${{ secrets.NX }}\n'
      )
    })
    const out = run(dir).stdout
    expect(out).toContain("'x")
    expect(out).not.toMatch(/^\s*::/m)
    expect(out).not.toContain('::add-mask::')
    expect(out).not.toContain('\u001b[2J')
  })
  it('a symlinked folder leading out of the repository is not followed', () => {
    const outside = repo({
      'action.yml':
        'runs:\n  using: composite\n  steps:\n    - run: npx nx build\n      shell: bash\n      env:\n        NX_CLOUD_ACCESS_TOKEN: ${{ secrets.NX }}\n'
    })
    const dir = repo({
      'nx.json': nx,
      [`${W}/ci.yml`]: 'on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: ./.github/actions/x\n'
    })
    mkdirSync(join(dir, '.github', 'actions'), { recursive: true })
    symlinkSync(outside, join(dir, '.github', 'actions', 'x'))
    expect(run(dir).rows.filter(r => r[2].startsWith('.github/actions'))).toEqual([])
  })
})

describe('class 7: what hit Nx users in 2025-2026', () => {
  it('actions/checkout of the pull request under pull_request_target in a job holding an Nx token', () => {
    const dir = repo({
      'nx.json': JSON.stringify({ nxCloudAccessToken: RO, ...KEY }),
      [`${W}/t.yml`]:
        'on: pull_request_target\njobs:\n  a:\n    runs-on: ubuntu-latest\n    env:\n      NX_CLOUD_ACCESS_TOKEN: ${{ secrets.NX }}\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          allow-unsafe-pr-checkout: true\n      - run: npm test\n'
    })
    expect(rule(run(dir).rows, 'unsafe-pr-checkout')).toEqual([['unsafe-pr-checkout', 'high', `${W}/t.yml`, 8]])
  })
  it('actions/cache of .nx/cache, a deprecated bucket cache, and steps in a background: group', () => {
    const dir = repo({
      'nx.json': JSON.stringify({ nxCloudId: 'abc', ...KEY }),
      'package.json': JSON.stringify({ devDependencies: { '@nx/s3-cache': '^21.0.0' } }, null, 2),
      [`${W}/ci.yml`]:
        'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/cache@v4\n        with:\n          path: .nx/cache\n          key: nx\n      - background:\n          - run: npx nx build\n            env:\n              NX_CLOUD_ACCESS_TOKEN: ${{ secrets.NX }}\n'
    })
    const rows = run(dir).rows
    expect(rule(rows, 'actions-cache-nx-cache')).toEqual([['actions-cache-nx-cache', 'medium', `${W}/ci.yml`, 6]])
    expect(rule(rows, 'deprecated-bucket-cache')).toEqual([['deprecated-bucket-cache', 'high', 'package.json', 3]])
    expect(rule(rows, 'step-env-token')).toEqual([['step-env-token', 'high', `${W}/ci.yml`, 13]])
  })
})

describe('issue 24: deploy-without-rebuild in every setup, a test per row', () => {
  const deploy =
    'on:\n  push:\n    branches: [main]\njobs:\n  publish:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npx nx run-many -t build && npm publish dist/web\n'
  const rows = (nx: object, extra: Record<string, string> = {}, ...args: string[]): Row[] =>
    rule(
      run(repo({ 'nx.json': JSON.stringify({ ...nx, ...KEY }), [`${W}/release.yml`]: deploy, ...extra }), ...args).rows,
      'deploy-without-rebuild'
    )
  const at: [string, string, number] = ['deploy-without-rebuild', `${W}/release.yml`, 5]
  it('ci-read-write: high', () =>
    expect(rows({ nxCloudAccessToken: RO }, {}, '--setup', 'ci-read-write')).toEqual([['deploy-without-rebuild', 'high', at[1], 5]]))
  it('shared-read-write: high', () =>
    expect(rows({ nxCloudAccessToken: RW }, {}, '--setup', 'shared-read-write')).toEqual([['deploy-without-rebuild', 'high', at[1], 5]]))
  it('main-only, a read-write token committed: high, saying anyone who reads the repository can write', () => {
    const r = run(repo({ 'nx.json': JSON.stringify({ nxCloudAccessToken: RW, ...KEY }), [`${W}/release.yml`]: deploy }))
    expect(rule(r.rows, 'deploy-without-rebuild')).toEqual([['deploy-without-rebuild', 'high', at[1], 5]])
    expect(r.messages.join(' ')).toContain('anyone who can read the repository can write the cache')
  })
  it('main-only, a token secret reaching pull requests: high, naming the runs', () => {
    const pr =
      'on: pull_request\nenv:\n  NX_CLOUD_ACCESS_TOKEN: ${{ secrets.NX }}\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npx nx affected -t test\n'
    const r = run(
      repo({ 'nx.json': JSON.stringify({ nxCloudAccessToken: RO, ...KEY }), [`${W}/release.yml`]: deploy, [`${W}/pr.yml`]: pr })
    )
    expect(rule(r.rows, 'deploy-without-rebuild')).toEqual([['deploy-without-rebuild', 'high', at[1], 5]])
    expect(r.messages.join(' ')).toContain('reaches pull requests (pull_request)')
  })
  it('main-only, nxCloudId: medium, naming personal access tokens and the ID level as what settles it', () => {
    const r = run(repo({ 'nx.json': JSON.stringify({ nxCloudId: 'abc', ...KEY }), [`${W}/release.yml`]: deploy }))
    expect(rule(r.rows, 'deploy-without-rebuild')).toEqual([['deploy-without-rebuild', 'medium', at[1], 5]])
    expect(r.messages.join(' ')).toContain('personal access tokens')
    expect(r.messages.join(' ')).toContain('workspace ID access level')
  })
  it('main-only, only trusted CI writes (a legacy read-only token, no nxCloudId): no finding', () =>
    expect(
      rows(
        { nxCloudAccessToken: RO },
        {
          [`${W}/ci.yml`]:
            'on:\n  push:\n    branches: [main]\njobs:\n  b:\n    runs-on: ubuntu-latest\n    env:\n      NX_CLOUD_ACCESS_TOKEN: ${{ secrets.NX }}\n    steps:\n      - run: npx nx build\n'
        }
      )
    ).toEqual([]))
  it('off: no finding', () => expect(rows({ nxCloudId: 'abc' }, {}, '--setup', 'off')).toEqual([]))
})

describe("issue 19: the kit's own configuration", () => {
  const kit = (w: string): string =>
    `on: [push, pull_request]\njobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: acme/nx-cloud-access@de0fac2e4500dabe0009e67214ff5f5447ce83dd\n        with:\n${w}      - run: npx nx build\n`
  it('a read-write secret handed to the kit in a job pull requests run, with no environment: high, naming the environment fix', () => {
    const r = run(
      repo({
        'nx.json': JSON.stringify({ nxCloudId: 'abc', ...KEY }),
        [`${W}/ci.yml`]: kit('          read-write-token: ${{ secrets.NX_RW }}\n')
      })
    )
    expect(rule(r.rows, 'read-write-secret-without-environment')).toEqual([
      ['read-write-secret-without-environment', 'high', `${W}/ci.yml`, 8]
    ])
    expect(r.messages.join(' ')).toContain('environment')
  })
  it("Nx Cloud's GitHub recipe (workflow-level token, read-write only inside an environment) is not high: the repository secret must be read-only", () => {
    const w =
      "on:\n  pull_request:\n  push:\n    branches: [main]\nenv:\n  NX_CLOUD_ACCESS_TOKEN: ${{ secrets.NX_CLOUD_ACCESS_TOKEN }}\njobs:\n  pr:\n    if: github.event_name == 'pull_request'\n    runs-on: ubuntu-latest\n    steps:\n      - run: npx nx affected -t build\n  main:\n    if: github.event_name == 'push'\n    environment: nx-cloud-write\n    runs-on: ubuntu-latest\n    steps:\n      - run: npx nx affected -t build\n"
    const r = run(repo({ 'nx.json': JSON.stringify({ nxCloudId: 'abc', ...KEY }), [`${W}/ci.yml`]: w }))
    expect(rule(r.rows, 'inherited-env-token')).toEqual([['inherited-env-token', 'medium', `${W}/ci.yml`, 6]])
    expect(r.messages.join(' ')).toContain('The repository-level secret must be the read-only token')
  })
  it('a kit step with an input the kit rejects is high: every run of it fails', () => {
    const r = run(repo({ 'nx.json': JSON.stringify({ nxCloudId: 'abc', ...KEY }), [`${W}/ci.yml`]: kit('          setup: main-ony\n') }))
    expect(rule(r.rows, 'kit-step-fails')).toEqual([['kit-step-fails', 'high', `${W}/ci.yml`, 6]])
    expect(r.messages.join(' ')).toContain("Input 'setup' has an unknown value 'main-ony'")
  })
  it('no key with the kit in use is high only when a kit step sets require-encryption: true', () => {
    const nx = JSON.stringify({ nxCloudId: 'abc' })
    expect(rule(run(repo({ 'nx.json': nx, [`${W}/ci.yml`]: kit('          setup: main-only\n') })).rows, 'no-encryption-key')).toEqual([
      ['no-encryption-key', 'medium', 'nx.json', 1]
    ])
    expect(
      rule(run(repo({ 'nx.json': nx, [`${W}/ci.yml`]: kit('          require-encryption: true\n') })).rows, 'no-encryption-key')
    ).toEqual([['no-encryption-key', 'high', 'nx.json', 1]])
  })
  it('a folder with neither nx.json nor .github/workflows is bad usage: exit 2 saying what was looked for', () => {
    const r = run(repo({ 'README.md': 'x' }), '--format', 'text')
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('neither nx.json nor .github/workflows')
  })
})
