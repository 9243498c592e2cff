// Which runs a token in env: reaches, rated by its triggers: pull requests are the serious case;
// pushes to any branch and the merge queue next; runs only the repository's writers start (pushes to
// named branches, tags, releases, manual runs) are low; pushes to main and schedules are what setup
// main-only itself lets write, so they are no finding. A value written as setup 1 inline
// (`github.ref == 'refs/heads/main' && secrets.RW || secrets.RO`) is evaluated for each kind of run.

import { tokenLevel } from '../../core/nx-config.js'
import { type RunKind, condition, secretsFor } from './expressions.js'
import type { Trigger, Workflow } from './workflow.js'

type Rating = 'high' | 'medium' | 'low'

export interface Run extends RunKind {
  /** How a finding names these runs: "pull requests (pull_request)". */
  words: string
  rating: Rating | null
}

const PR_EVENTS = ['pull_request', 'pull_request_review', 'pull_request_review_comment']
const DEFAULT_BRANCHES = ['main', 'master']
const MAIN = 'refs/heads/main'

function pushRuns(t: Trigger): Run[] {
  const event = t.event
  const out: Run[] = []
  if (t.branches === null && t.tags === null) {
    out.push({ event, ref: MAIN, words: 'pushes to main', rating: null })
    out.push({ event, ref: 'refs/heads/feature', words: `pushes to any branch (${event})`, rating: 'medium' })
    return out
  }
  if (t.branchesIgnore !== null)
    out.push({ event, ref: 'refs/heads/feature', words: `pushes to any branch not ignored (${event})`, rating: 'medium' })
  for (const b of t.branches ?? []) {
    if (DEFAULT_BRANCHES.includes(b)) out.push({ event, ref: `refs/heads/${b}`, words: `pushes to ${b}`, rating: null })
    else if (/^\*\*?$/.test(b)) out.push({ event, ref: 'refs/heads/feature', words: `pushes to any branch (${event})`, rating: 'medium' })
    else out.push({ event, ref: `refs/heads/${b.replace(/\*+/g, 'x')}`, words: `pushes to ${b}`, rating: 'low' })
  }
  if (t.tags !== null) out.push({ event, ref: 'refs/tags/v1.0.0', words: 'tag pushes', rating: 'low' })
  return out
}

/** The kinds of run a workflow's own triggers start (workflow_call is judged by its callers). */
export function runsOf(on: Trigger[]): Run[] {
  const out: Run[] = []
  for (const t of on) {
    const e = t.event
    if (PR_EVENTS.includes(e))
      out.push({ event: e, ref: 'refs/pull/1/merge', baseRef: 'main', headRef: 'feature', words: `pull requests (${e})`, rating: 'high' })
    else if (e === 'push') out.push(...pushRuns(t))
    else if (e === 'merge_group')
      out.push({ event: e, ref: 'refs/heads/gh-readonly-queue/main/pr-1', words: 'the merge queue (merge_group)', rating: 'medium' })
    else if (e === 'schedule') out.push({ event: e, ref: MAIN, words: 'schedules', rating: null })
    else if (e === 'workflow_dispatch')
      out.push({ event: e, ref: 'refs/heads/feature', words: 'manual runs on any branch (workflow_dispatch)', rating: 'low' })
    else if (e === 'repository_dispatch') out.push({ event: e, ref: MAIN, words: 'repository_dispatch', rating: 'low' })
    else if (e === 'release') out.push({ event: e, ref: 'refs/tags/v1.0.0', words: 'releases', rating: 'low' })
    else if (e === 'workflow_call') continue
    else
      out.push({
        event: e,
        ref: MAIN,
        words: e,
        rating: e === 'pull_request_target' || e === 'workflow_run' || e === 'issue_comment' ? 'high' : 'medium'
      })
  }
  return out
}

/** A secret that by its name holds a read-only token (NX_CLOUD_READ_TOKEN, NX_READ_ONLY_TOKEN, …). */
function readOnlyName(name: string): boolean {
  return /(?:^|_)READ(?:_?ONLY)?(?!_?WRITE)|(?:^|_)RO(?:_|$)/i.test(name) && !/WRITE|(?:^|_)RW(?:_|$)/i.test(name)
}

/** Does this run get a token that may write (a secret not named read-only, or a committed token that is not read-only)? */
function getsWriteToken(value: string, run: RunKind): boolean {
  if (!value.includes('${{')) return tokenLevel(value.trim()) !== 'read-only'
  const given = secretsFor(value, run)
  if (!given.known) return true
  return given.secrets.some(s => !readOnlyName(s))
}

export const RATING_ORDER: Rating[] = ['low', 'medium', 'high']

/** The runs of `runs` that get a write token from `value`, and their worst rating. */
export function rate(value: string, runs: Run[]): { rating: Rating | null; words: string[] } {
  const reached = runs.filter(r => r.rating !== null && getsWriteToken(value, r))
  let rating: Rating | null = null
  for (const r of reached) if (rating === null || RATING_ORDER.indexOf(r.rating as Rating) > RATING_ORDER.indexOf(rating)) rating = r.rating
  return { rating, words: [...new Set(reached.map(r => r.words))] }
}

/** The jobs that call each local reusable workflow, by its file: built once per audit. */
export type Callers = Map<string, { caller: Workflow; job: Workflow['jobs'][number] }[]>

export function callersOf(workflows: Map<string, Workflow>): Callers {
  const out: Callers = new Map()
  for (const caller of workflows.values()) {
    if (caller.error) continue
    for (const job of caller.jobs) {
      const uses = job.uses.split('@', 1)[0]
      if (!uses.startsWith('./.github/workflows/')) continue
      const file = uses.slice(2)
      // Pushed, not copied: a file of 20,000 calls copied its list of callers 20,000 times.
      const list = out.get(file) ?? []
      list.push({ caller, job })
      out.set(file, list)
    }
  }
  return out
}

/**
 * The runs of a reusable workflow (`on: workflow_call`) that get a given secret: those of the local
 * callers that pass it (by name, or with `secrets: inherit`). Called from no workflow here, it is
 * called from other repositories: their runs are unknown, rated low.
 */
export function callerRuns(w: Workflow, callers: Callers, secret: (name: string) => boolean): Run[] {
  if (!(w.on ?? []).some(t => t.event === 'workflow_call')) return []
  const out: Run[] = []
  const calls = (callers.get(w.file) ?? []).filter(c => c.caller !== w)
  for (const { caller, job } of calls) {
    const passes = job.secretsInherit !== null || job.secrets.some(e => secret(e.name) && e.value.includes('secrets.'))
    // The caller's if: decides which of its runs reach the callee.
    if (passes) out.push(...runsOf(caller.on ?? []).filter(r => condition(job.if ?? '', r) !== false))
  }
  if (calls.length === 0)
    out.push({ event: 'workflow_call', ref: MAIN, words: 'callers in other repositories (workflow_call)', rating: 'low' })
  return out
}
