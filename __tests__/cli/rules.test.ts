// The audit's building blocks, in-process: what counts as an Nx command, which setup a workflow
// is judged under, how YAML anchors map to lines, and colour in the text output.

import { describe, expect, it } from '@jest/globals'
import { formatText } from '../../src/cli/audit/format.js'
import { deployCommand, scriptCall } from '../../src/cli/audit/follow.js'
import { type Finding, auditRepo, runsNx, workflowSetup } from '../../src/cli/audit/engine.js'
import { readWorkflow } from '../../src/cli/audit/workflow.js'
import type { Io } from '../../src/cli/common.js'
import { parseNxJson } from '../../src/core/nx-config.js'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

function stepRunning(run: string): Parameters<typeof runsNx>[0] {
  return { name: '', uses: '', usesLoc: null, run, with: new Map(), env: [] }
}

describe('an Nx command in a run: script', () => {
  it.each([
    'nx affected -t build',
    'npx nx run-many -t test',
    'npx -y nx@21.0.0 build web',
    'pnpm nx build',
    'pnpm exec nx build',
    'yarn nx build',
    'bunx nx build',
    'npm exec -- nx build',
    './node_modules/.bin/nx build',
    'npx nx-cloud start-ci-run --distribute-on="3 linux-medium-js"',
    'npm ci && npx nx affected -t lint',
    'echo start\n  nx build'
  ])('%j runs Nx', run => expect(runsNx(stepRunning(run))).toBe(true))

  it.each(['nginx -t', 'npm run build', 'echo onx', 'npm run nx-lint', 'cat nx.json', 'npx nxt build', ''])('%j does not', run =>
    expect(runsNx(stepRunning(run))).toBe(false)
  )
})

// A deployment is judged by what a job runs, not by its names (a job 'release-test' that tests,
// a step 'Publish code coverage report', a commit message that mentions nx migrate).
describe('a command that publishes or deploys', () => {
  it.each([
    'npm publish',
    'pnpm publish --access public',
    'yarn npm publish',
    'npx nx release --yes',
    'pnpm nx release publish --tag canary',
    'bunx nx release 1.2.3 --yes',
    'changeset publish',
    'npx semantic-release',
    'docker push ghcr.io/acme/web',
    'yarn vsce publish --packagePath x.vsix',
    'npx nx deploy docs-site',
    'firebase deploy --only hosting',
    'aws s3 sync dist s3://bucket',
    './deploy.sh web'
  ])('%j does', c => expect(deployCommand(c)).not.toBeNull())
  it.each([
    'npx nx release version patch',
    'npx nx release changelog 1.2.3',
    'pnpx pkg-pr-new publish --pnpm ./packages/*',
    'npx nx run-many -t test',
    'git commit -m ""',
    'npm run build'
  ])('%j does not', c => expect(deployCommand(c)).toBeNull())
})

describe('a package.json script call', () => {
  it.each([
    ['npm run build', 'build', ''],
    ['npm run build -- --skip-nx-cache', 'build', '-- --skip-nx-cache'],
    ['npm test', 'test', ''],
    ['pnpm run test:pr --parallel=3', 'test:pr', '--parallel=3'],
    ['pnpm build:all', 'build:all', ''],
    ['yarn release', 'release', ''],
    ['yarn run lint', 'lint', ''],
    ['bun run build', 'build', '']
  ])('%j calls %j', (command, name, rest) => expect(scriptCall(command)).toEqual({ name, rest }))
  it.each(['pnpm install', 'yarn add nx', 'pnpm exec nx build', 'yarn dlx nx', 'pnpm --filter web build', 'npm ci', 'npm run "$TARGET"'])(
    '%j calls none',
    command => expect(scriptCall(command)).toBeNull()
  )
})

describe('the setup a workflow is judged under', () => {
  const wf = (setup: string): string =>
    `on: push\njobs:\n  a:\n    steps:\n      - uses: acme/nx-cloud-access@v1\n${setup ? `        with:\n          setup: ${setup}\n` : ''}`
  it("is the kit step's setup: input, aliases included", () => {
    expect(workflowSetup(readWorkflow('w.yml', wf('2')), null)).toBe('ci-read-write')
    expect(workflowSetup(readWorkflow('w.yml', wf('shared-read-write')), null)).toBe('shared-read-write')
  })
  it('is the first kit step that has a setup: input; kit steps without one are skipped', () => {
    const w = readWorkflow(
      'w.yml',
      [
        'on: push',
        'jobs:',
        '  a:',
        '    steps:',
        '      - uses: acme/nx-cloud-access@v1',
        '        with: { skip-cache: true }',
        '      - uses: acme/nx-cloud-access/cache@v1',
        '        with: { setup: ci-read-write }',
        '      - uses: acme/nx-cloud-access@v1',
        '        with: { setup: shared-read-write }'
      ].join('\n')
    )
    expect(workflowSetup(w, null)).toBe('ci-read-write')
  })

  it('defaults to main-only, and --setup overrides', () => {
    expect(workflowSetup(readWorkflow('w.yml', wf('')), null)).toBe('main-only')
    expect(workflowSetup(readWorkflow('w.yml', 'on: push\njobs: {}\n'), null)).toBe('main-only')
    expect(workflowSetup(readWorkflow('w.yml', wf('2')), 'off')).toBe('off')
  })
})

describe('reading a workflow', () => {
  it("an alias resolves to the closest anchor before it, and keeps the anchor's line", () => {
    const w = readWorkflow(
      'w.yml',
      [
        'on: push',
        'jobs:',
        '  a:',
        '    env: &e',
        '      NX_CLOUD_ACCESS_TOKEN: first',
        '    steps: []',
        '  b:',
        '    env: &e',
        '      NX_CLOUD_ACCESS_TOKEN: second',
        '    steps: []',
        '  c:',
        '    env: *e',
        '    steps: []'
      ].join('\n')
    )
    const c = w.jobs.find(j => j.id === 'c')
    expect(c?.env).toEqual([{ name: 'NX_CLOUD_ACCESS_TOKEN', value: 'second', loc: expect.objectContaining({ line: 9 }) }])
  })

  it('merge keys: explicit keys win over merged ones', () => {
    const w = readWorkflow(
      'w.yml',
      'on: push\nenv: &base\n  A: "1"\n  B: "2"\njobs:\n  a:\n    env:\n      <<: *base\n      B: "3"\n    steps: []\n'
    )
    expect(w.jobs[0].env.map(e => [e.name, e.value, e.loc.line])).toEqual([
      ['B', '3', 9],
      ['A', '1', 3]
    ])
  })

  it('triggers in all three shapes', () => {
    expect(readWorkflow('w.yml', 'on: push\njobs: {}').triggers).toEqual(['push'])
    expect(readWorkflow('w.yml', 'on: [push, pull_request_target]\njobs: {}').triggers).toEqual(['push', 'pull_request_target'])
    expect(readWorkflow('w.yml', 'on:\n  workflow_run:\n    workflows: [CI]\njobs: {}').triggers).toEqual(['workflow_run'])
  })
})

describe('text output colour', () => {
  const finding = { rule: 'step-env-token' as const, severity: 'high' as const, file: 'a.yml', line: 3, message: 'Why.', fix: 'Fix.' }
  const io = (color: boolean): Io => ({ out: () => {}, err: () => {}, color, cwd: '.' })
  it('colours severities on a terminal, and nothing otherwise', () => {
    expect(formatText([finding], { workflows: 1, failOn: 'high' }, io(true))).toContain('\u001b[31mhigh')
    expect(formatText([finding], { workflows: 1, failOn: 'high' }, io(false))).not.toContain('\u001b[')
  })
})

/** Audit, in-process, one workflow and an nx.json. */
function auditOne(workflow: string, nxJson: Record<string, string>): Finding[] {
  const file = '.github/workflows/ci.yml'
  const text = JSON.stringify(nxJson)
  return auditRepo(
    { workflows: new Map([[file, readWorkflow(file, workflow)]]), nxJson: { file: 'nx.json', text, config: parseNxJson(text) } },
    { setup: null, public: false }
  )
}

// The audit judges each workflow as it is read and lets it go: its heap after many files is about
// its heap after a few. Each file here carries 40 KB of its own text; kept, 300 files are 12 MB.
describe('memory: the audit does not keep the workflows it has judged', () => {
  it('the heap after 300 large workflows is within 6 MB of the heap after 20', () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const heap = (): number => {
      gc()
      gc()
      return process.memoryUsage().heapUsed
    }
    let early = 0
    let late = 0
    function* workflows(): Generator<ReturnType<typeof readWorkflow>> {
      for (let i = 0; i < 300; i++) {
        if (i === 20) early = heap()
        const big = `echo ${String(i).padStart(4, '0')}${'x'.repeat(40_000)}`
        const text = `on: pull_request\nenv:\n  NX_CLOUD_ACCESS_TOKEN: \${{ secrets.RW }}\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npx nx build\n      - run: ${big}\n`
        yield readWorkflow(`.github/workflows/w${i}.yml`, text)
      }
      late = heap()
    }
    const findings = auditRepo({ workflows: workflows(), nxJson: null }, { setup: null, public: false })
    expect(findings.filter(f => f.rule === 'inherited-env-token')).toHaveLength(300)
    expect(late - early).toBeLessThan(6 * 2 ** 20)
  })
})

// What GitHub reads differently from plain YAML, which a pull request can use to hide from the audit.
describe('read as GitHub reads it', () => {
  const KIT = 'acme/nx-cloud-access@de0fac2e4500dabe0009e67214ff5f5447ce83dd'
  const rules = (fs: Finding[]): [string, number][] => fs.filter(f => f.rule !== 'no-encryption-key').map(f => [f.rule, f.line])

  it("a key or value that is one expression of a string literal (${{ 'X' }}) is that string, as GitHub's reader makes it", () => {
    const w = [
      'on: pull_request',
      'jobs:',
      '  a:',
      '    env:',
      "      ${{ 'NX_CLOUD_ACCESS_TOKEN' }}: ${{ secrets.T }}",
      '    steps:',
      "      - run: ${{ 'npx nx build' }}",
      '        env:',
      `          "\${{ 'NX_CLOUD_''ACCESS''_TOKEN' }}": x`,
      `          "\${{ 'NX_CLOUD_ACCESS_TOKEN' }} ": not a literal alone`,
      `          \${{ 'NX_CLOUD_ACCESS_TOKEN' || 'A' }}: not a literal`
    ].join('\n')
    const job = readWorkflow('w.yml', w).jobs[0]
    expect(job.env.map(e => e.name)).toEqual(['NX_CLOUD_ACCESS_TOKEN'])
    expect(job.steps[0].run).toBe('npx nx build')
    expect(job.steps[0].env.map(e => e.name)).toEqual([
      "NX_CLOUD_'ACCESS'_TOKEN",
      "${{ 'NX_CLOUD_ACCESS_TOKEN' }} ",
      "${{ 'NX_CLOUD_ACCESS_TOKEN' || 'A' }}"
    ])
    const plain = w.replace("${{ 'npx nx build' }}", 'npx nx build').replace("${{ 'NX_CLOUD_ACCESS_TOKEN' }}:", 'NX_CLOUD_ACCESS_TOKEN:')
    expect(rules(auditOne(w, {}))).toEqual(rules(auditOne(plain, {})))
    expect(rules(auditOne(w, {}))).toEqual([['inherited-env-token', 5]])
  })

  it('with: inputs in any case (Setup:, PUSH:), as GitHub matches them: a deploy under ci-read-write is found', () => {
    const w = (setup: string, push: string): string =>
      [
        'on: push',
        'jobs:',
        '  build:',
        '    steps:',
        `      - uses: ${KIT}`,
        `        with: { ${setup}: ci-read-write }`,
        '      - run: npx nx build',
        `      - uses: docker/build-push-action@v6`,
        `        with: { ${push}: true }`
      ].join('\n')
    expect(rules(auditOne(w('setup', 'push'), {}))).toEqual([['deploy-without-rebuild', 3]])
    expect(rules(auditOne(w('Setup', 'PUSH'), {}))).toEqual([['deploy-without-rebuild', 3]])
  })

  it('needs: names a job whatever its case, as GitHub matches job ids: the job that built with the cache is found', () => {
    const w = [
      'on: push',
      'jobs:',
      '  build:',
      '    steps:',
      `      - uses: ${KIT}`,
      '        with: { setup: ci-read-write }',
      '      - run: npx nx build',
      '      - uses: actions/upload-artifact@v4',
      '  ship:',
      '    needs: BUILD',
      '    steps:',
      '      - uses: actions/download-artifact@v4',
      '      - run: npx firebase deploy'
    ].join('\n')
    expect(rules(auditOne(w, {}))).toEqual([['deploy-without-rebuild', 9]])
  })
})
