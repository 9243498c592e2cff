// The audit's building blocks, in-process: what counts as an Nx command, which setup a workflow
// is judged under, how YAML anchors map to lines, and colour in the text output.

import { describe, expect, it } from '@jest/globals'
import { formatText } from '../../src/cli/audit/format.js'
import { DEPLOYS, runsNx, workflowSetup } from '../../src/cli/audit/rules.js'
import { readWorkflow } from '../../src/cli/audit/workflow.js'
import type { Io } from '../../src/cli/common.js'

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

  it.each(['nginx -t', 'npm run build', 'echo onx', 'npm run nx-lint', 'cat nx.json', 'npx nxt build', ''])(
    '%j does not',
    run => expect(runsNx(stepRunning(run))).toBe(false)
  )
})

describe('a name that deploys, publishes or releases', () => {
  it.each(['deploy', 'Deploy to production', 'npm-publish', 'DEPLOY_WEB', 'release', 'buildAndDeploy', 'npmPublish', 'autoRelease', 'ship2Deploy', 'actions/deploy-pages'])(
    '%j does',
    name => expect(DEPLOYS.test(name)).toBe(true)
  )
  it.each(['build', 'undeployed', 'republish', 'unreleased', 'test', 'prerelease-notes'])(
    '%j does not',
    name => expect(DEPLOYS.test(name)).toBe(false)
  )
})

describe('the setup a workflow is judged under', () => {
  const wf = (setup: string): string =>
    `on: push\njobs:\n  a:\n    steps:\n      - uses: acme/nx-cloud-access@v1\n${setup ? `        with:\n          setup: ${setup}\n` : ''}`
  it('is the kit step\'s setup: input, aliases included', () => {
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
  it('an alias resolves to the closest anchor before it, and keeps the anchor\'s line', () => {
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
  const finding = { rule: 'step-env-token', severity: 'high' as const, file: 'a.yml', line: 3, message: 'Why.', fix: 'Fix.' }
  const io = (color: boolean): Io => ({ out: () => {}, err: () => {}, color, cwd: '.' })
  it('colours severities on a terminal, and nothing otherwise', () => {
    expect(formatText([finding], { workflows: 1, failOn: 'high' }, io(true))).toContain('\u001b[31mhigh')
    expect(formatText([finding], { workflows: 1, failOn: 'high' }, io(false))).not.toContain('\u001b[')
  })
})
