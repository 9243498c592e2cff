// What the engine knows while it audits one repository, shared by the facts and the rules.

import type { NxConfig, Setup } from '../../core/types.js'
import type { Candidate } from './facts/tokens.js'
import type { DeployJob } from './rules/deploy-without-rebuild.js'
import type { IdUse, JobNx } from './facts/jobs.js'
import type { Files, Follower } from './follow.js'
import type { Callers } from './reach.js'
import type { Entry, Job, Loc, Workflow } from './workflow.js'

export interface Repo {
  /**
   * The workflows (paths relative to the root: `.github/workflows/ci.yml`), in file order. An
   * iterable is read once, one workflow at a time: each is judged and let go before the next
   * is read, so the audit's memory grows with its largest file, not with the number of files.
   */
  workflows: Map<string, Workflow> | Iterable<Workflow>
  /** nx.json as the kit reads it (parseNxJson), its text for line numbers; null when there is none. */
  nxJson: { file: string; text: string; config: NxConfig } | null
  /** The other files audit follows (package.json, local actions, nested nx.json), read on demand. */
  files?: Files
}

export interface Options {
  setup: Setup | null
  public: boolean
}

export interface Context {
  nxJson: Repo['nxJson']
  files: Files
  follow: Follower
  /** Some workflow uses the kit: findings speak of what it does; else of what the guide recommends. */
  kit: boolean
  /** Folders where workflows run Nx ('.' = the root). */
  nxDirs: Set<string>
  /**
   * The workflows that call, or can be called as, a local reusable workflow: the only ones kept
   * whole until the end, since a caller is judged with its callee and a callee with its callers.
   */
  linked: Map<string, Workflow>
  /** The local callers of each reusable workflow (among `linked`). */
  callers: Callers
  /** What each job runs, worked out once. */
  jobs: WeakMap<Job, JobNx>
  /** Nx steps that pull requests run with no token (workspace-id-access). */
  idUses: IdUse[]
  /** Tokens in env: of jobs that run Nx, gathered as each workflow is read (the three env-token rules). */
  candidates: Candidate[]
  /** Jobs that ship what was built from the cache (deploy-without-rebuild), judged at the end. */
  deploys: DeployJob[]
  /** What nxJsonFindings needs of the workflows, gathered as each is read. */
  keyInWorkflows: boolean
  /** A kit step sets require-encryption: true: with no key, the kit fails its runs. */
  requireEncryption: boolean
  keyInSecret: boolean
  /** The first workflow line that brings Nx Cloud in. */
  cloudUse: Loc | null
  /** Steps judged again for callers' inputs so far (MAX_CALLED_STEPS). */
  calledSteps: number
  /** secretTokenUses of each reusable workflow, worked out once. */
  secretTokens: WeakMap<Workflow, Entry[]>
}
