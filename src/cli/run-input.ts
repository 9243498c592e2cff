// A run for `explain`, from flags or from a real webhook payload file: the same RunInput the
// action builds from GITHUB_* and GITHUB_EVENT_PATH, so run-context.ts decides trust and branch.

import { readFileSync, statSync } from 'node:fs'
import { PR_EVENTS, type Payload, type RunInput } from '../core/run-facts.js'
import { UsageError } from './common.js'
import { suggestion } from './flags.js'

export interface RunFlags {
  event?: string
  ref?: string
  actor?: string
  headRepo?: string
  baseRepo?: string
  baseRef?: string
  defaultBranch?: string
  /** `true`: the payload says the repository is public. */
  public?: boolean
  payload?: string
}

/**
 * Every event name a workflow's `on:` accepts (actions/runner's workflow schema, `on-mapping-strict`;
 * GitHub's "Events that trigger workflows"): what `--event` accepts. An event outside the trust
 * lists is untrusted (docs/POLICY.md#trust); a name outside this list is a typo, refused.
 */
export const WORKFLOW_EVENTS = [
  'branch_protection_rule',
  'check_run',
  'check_suite',
  'create',
  'delete',
  'deployment',
  'deployment_status',
  'discussion',
  'discussion_comment',
  'fork',
  'gollum',
  'image_version',
  'issue_comment',
  'issues',
  'label',
  'merge_group',
  'milestone',
  'page_build',
  'project',
  'project_card',
  'project_column',
  'public',
  'pull_request',
  'pull_request_comment',
  'pull_request_review',
  'pull_request_review_comment',
  'pull_request_target',
  'push',
  'registry_package',
  'release',
  'repository_dispatch',
  'schedule',
  'status',
  'watch',
  'workflow_call',
  'workflow_dispatch',
  'workflow_run'
] as const

/** Events whose payload carries a pull_request: the pull request events, and pull_request_target. */
const PR_PAYLOAD_EVENTS = [...PR_EVENTS, 'pull_request_target']

export function runFromFlags(f: RunFlags): RunInput {
  const event = f.event ?? ''
  if (event === '') throw new UsageError('explain needs --event (or --all).')
  if (!(WORKFLOW_EVENTS as readonly string[]).includes(event)) {
    throw new UsageError(`--event '${event}' is not a GitHub Actions event${suggestion(event, WORKFLOW_EVENTS)}`)
  }
  checkRefFlags(f)
  if (f.payload !== undefined) return runFromPayloadFile(f, event)
  const base = f.baseRepo ?? 'acme/monorepo'
  const head = f.headRepo ?? base
  const actor = f.actor ?? 'octocat'
  const defaultBranch = f.defaultBranch ?? 'main'
  const repository = {
    full_name: base,
    name: base.split('/')[1] ?? base,
    private: !f.public,
    default_branch: defaultBranch
  }
  const payload: Payload = { repository, sender: { login: actor } }
  let ref = f.ref
  if (PR_PAYLOAD_EVENTS.includes(event)) {
    const headRepo =
      head.toLowerCase() === base.toLowerCase() ? repository : { full_name: head, name: head.split('/')[1] ?? head, fork: true }
    payload.pull_request = {
      number: 1,
      user: { login: actor },
      head: { ref: 'feature', repo: headRepo },
      base: { ref: f.baseRef ?? defaultBranch, repo: repository }
    }
    ref ??= event === 'pull_request_target' ? `refs/heads/${defaultBranch}` : 'refs/pull/1/merge'
  } else if (event === 'merge_group') {
    const target = f.baseRef ?? queueTarget(ref) ?? defaultBranch
    payload.merge_group = { base_ref: target.startsWith('refs/') ? target : `refs/heads/${target}` }
    ref ??= `refs/heads/gh-readonly-queue/${target.replace(/^refs\/heads\//, '')}/pr-1-${'0'.repeat(40)}`
  } else if (event === 'schedule') {
    // GitHub's schedule payload has no repository: the default branch is then unknown to the action.
    if (f.defaultBranch === undefined) delete payload.repository
  }
  ref ??= `refs/heads/${defaultBranch}`
  if (event === 'push') payload.ref = ref
  return { event, ref, actor, repository: base, payload }
}

/**
 * GITHUB_REF is always a full ref (refs/heads/…, refs/tags/…, refs/pull/…): a short name would be
 * taken as a ref that is no branch, and the run explained as one that cannot write. Branch flags
 * take a branch's name, not its ref. Either mistake is refused, saying what was probably meant.
 */
function checkRefFlags(f: RunFlags): void {
  if (f.ref !== undefined && f.ref !== '' && !f.ref.startsWith('refs/')) {
    const name = f.ref.replace(/^heads\//, '')
    throw new UsageError(
      `--ref '${f.ref}' is not a full ref: it would be taken as a ref that is no branch, so the run could never write. ` +
        `Did you mean --ref refs/heads/${name} (the branch ${name}), or --ref refs/tags/${name} (a tag)?`
    )
  }
  for (const [flag, value] of [
    ['--default-branch', f.defaultBranch],
    ['--base-ref', f.baseRef]
  ] as const) {
    if (value === undefined || !value.startsWith('refs/')) continue
    // A merge queue's target is given either way (payload.merge_group.base_ref is a full ref).
    if (flag === '--base-ref' && f.event === 'merge_group') continue
    const name = value.replace(/^refs\/heads\//, '')
    throw new UsageError(`${flag} takes a branch's name, not a ref: did you mean ${flag} ${name}?`)
  }
}

function queueTarget(ref: string | undefined): string | null {
  const m = /^refs\/heads\/gh-readonly-queue\/(.+)\/pr-\d+-[0-9a-f]+$/.exec(ref ?? '')
  return m ? m[1] : null
}

function runFromPayloadFile(f: RunFlags, event: string): RunInput {
  // The payload says who the repositories are; a flag that would say otherwise is a contradiction.
  const clashing = (['headRepo', 'baseRepo', 'baseRef', 'defaultBranch', 'public'] as const).filter(k => f[k] !== undefined)
  if (clashing.length > 0) {
    const names = clashing.map(k => '--' + k.replace(/[A-Z]/g, c => '-' + c.toLowerCase()))
    throw new UsageError(
      `--payload carries the repository and pull request; it does not take ${names.join(', ')} (only --event, --ref, --actor).`
    )
  }
  let payload: Payload
  try {
    // A FIFO or a device (/dev/zero) would hang the command or fill its memory.
    if (!statSync(f.payload as string).isFile()) throw new Error('not a regular file')
    payload = JSON.parse(readFileSync(f.payload as string, 'utf8')) as Payload
  } catch (e) {
    throw new UsageError(`--payload ${f.payload}: ${e instanceof Error ? e.message : String(e)}`)
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new UsageError(`--payload ${f.payload}: not a JSON object (a webhook payload).`)
  }
  const repository = String(payload.repository?.full_name ?? '')
  const ref = f.ref ?? refOfPayload(payload, event)
  const actor = f.actor ?? String(payload.sender?.login ?? '')
  return { event, ref, actor, repository, payload }
}

/** The GITHUB_REF GitHub sets for a payload, when --ref does not say. */
function refOfPayload(payload: Payload, event: string): string {
  if (typeof payload.ref === 'string' && payload.ref.startsWith('refs/')) return payload.ref
  // create / delete: the short name of the ref, and whether it is a tag or a branch.
  if (typeof payload.ref === 'string' && payload.ref !== '' && (payload.ref_type === 'tag' || payload.ref_type === 'branch')) {
    return `refs/${payload.ref_type === 'tag' ? 'tags' : 'heads'}/${payload.ref}`
  }
  if (payload.pull_request) {
    if (event !== 'pull_request_target') return `refs/pull/${payload.pull_request.number ?? 0}/merge`
    // pull_request_target runs on the pull request's base branch.
    if (typeof payload.pull_request.base?.ref === 'string') return `refs/heads/${payload.pull_request.base.ref}`
  }
  if (typeof payload.merge_group?.head_ref === 'string') return payload.merge_group.head_ref
  // release: the release's tag.
  if (event === 'release' && typeof payload.release?.tag_name === 'string') return `refs/tags/${payload.release.tag_name}`
  return `refs/heads/${payload.repository?.default_branch ?? 'main'}`
}
