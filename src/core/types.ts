// The plain data that flows through the kit: inputs → Config, GitHub → RunFacts,
// nx.json → NxConfig, and decide() → Decision. No behaviour lives here.

import type { WorkspaceEnv } from './env-files.js'

export const SETUPS = ['main-only', 'ci-read-write', 'shared-read-write', 'off'] as const
export type Setup = (typeof SETUPS)[number]

export type Access = 'read-write' | 'read-only' | 'none'
export type TokenSource = 'read-write-token' | 'read-only-token' | 'nx.json' | 'none'
/** What a legacy Nx Cloud token says of itself when decoded; `unknown` is not judged. */
export type TokenLevel = 'read-write' | 'read-only' | 'unknown'
/**
 * `workspace-id-access`: the workspace ID access level the workflow's author has set in Nx Cloud,
 * which a run with no token gets through nx.json's `nxCloudId`. `read-write` is never accepted.
 */
export const WORKSPACE_ID_ACCESS = ['none', 'read-only'] as const
export type WorkspaceIdAccess = (typeof WORKSPACE_ID_ACCESS)[number]

/** The inputs that say who may write: read by every part that applies the policy (token step, cache action). */
export interface PolicyConfig {
  setup: Setup
  /** Globs; `null` means "the repository's default branch". */
  writeBranches: string[] | null
  writeEvents: string[]
  skipCache: boolean
  /** For the default-branch look-up only. */
  githubToken: string
}

/** The token step's inputs: the policy's, and the tokens, the key and where Nx runs. */
export interface Config extends PolicyConfig {
  readWriteToken: string
  readOnlyToken: string
  encryptionKey: string
  requireEncryption: boolean
  /**
   * `rebuild-command`: the pre-deploy rebuild the composite runs after this step. When set, the
   * cache is skipped for the rest of the job whatever `skip-cache` says; '' when unset.
   */
  rebuildCommand: string
  selfHostedCacheUrl: string
  workingDirectory: string
  /** `workspace-id-access`; readInputs always sets it, and absent reads as `none`. */
  workspaceIdAccess?: WorkspaceIdAccess
}

export interface RunFacts {
  event: string
  ref: string
  trusted: boolean
  /** Why the run is (un)trusted, as a phrase: "a push", "a pull request from the fork a/b". */
  trustReason: string
  /** The run's branch for `main-only`; `null` when it has none (PRs, tags, other events). */
  branch: string | null
  /** Why there is no branch, when there is none. */
  noBranchReason: string
  defaultBranch: string
  defaultBranchSource: 'payload' | 'api' | 'fallback'
  /** `repository.private` from the payload; `null` when the payload does not say. */
  repositoryPrivate: boolean | null
  /** The pull request the payload names (pull_request events and pull_request_target); absent or null otherwise. */
  pullRequest?: PullRequestFacts | null
  /**
   * Why GitHub gives this run none of the repository's Actions secrets (a pull request from a
   * fork, a Dependabot run), as a phrase; `null` when the run gets them.
   */
  secretsWithheld?: string | null
}

/** A pull request as a reviewer names it: `#7 feature → main`, from a fork or not. */
export interface PullRequestFacts {
  number: number | null
  /** Branch names: head.ref, base.ref. */
  head: string
  base: string
  /** owner/name of the head repository, '' when it was deleted. */
  headRepo: string
  fork: boolean
}

export interface NxConfig {
  /** Path of the nx.json read, or `null` when there is none. */
  path: string | null
  /** Where nx.json was looked for when there is none (the action warns, naming it). */
  lookedAt?: string
  accessToken: string
  encryptionKey: string
  url: string
  cloudId: string
  /**
   * Nx Cloud tokens that the workspace's env files set (`.local.env`, `.env.local`, `.env`, loaded
   * by Nx into every run, and `nx-cloud.env`, read by Nx Cloud's client): Nx uses one wherever
   * the job's environment leaves that variable empty.
   */
  envFileTokens?: EnvFileToken[]
  /** nx.json's `neverConnectToCloud`: Nx 24 then never connects, as under NX_NO_CLOUD=true. */
  neverConnectToCloud?: boolean
  /** nx.json's `extends` as written, when it has one. */
  extends?: string
  /** The file that `extends` named, read and merged under nx.json as Nx merges it. */
  extendsFile?: string
  /** That file's own `extends`, which Nx 24 does not follow (one level only), nor the kit. */
  baseExtends?: string
  /** Every Nx Cloud token committed in nx.json or the file it extends, used or not (absent: nx.json's accessToken). */
  committedTokens?: CommittedNxToken[]
  /**
   * The workspace's env files, parsed (core/env-files.ts): what Nx's environment becomes is worked
   * out from them and the job's. Absent: none were read.
   */
  envFiles?: WorkspaceEnv
}

export interface CommittedNxToken {
  file: string
  /** Where in the file: `nxCloudAccessToken`, `tasksRunnerOptions.default.options.accessToken`. */
  key: string
  value: string
}

export interface EnvFileToken {
  file: string
  name: 'NX_CLOUD_AUTH_TOKEN' | 'NX_CLOUD_ACCESS_TOKEN'
  value: string
}

export interface Decision {
  setup: Setup
  access: Access
  tokenSource: TokenSource
  /**
   * Which rule decided, in a sentence or two (`main-only: a pull request never writes, so it reads
   * only, with read-only-token.`): the `reason` output, the log line and the summary's cause.
   */
  reason: string
  /** The whole chain of the rule, every clause: `explain --json` and the summary's details. */
  detail: string
  /** What to change, in one sentence, where the run got less than the setup could give it; else null. */
  fix: string | null
  encryption: 'enabled' | 'disabled'
  skipCache: boolean
  facts: RunFacts
  /** Variables for every later step of the job (GITHUB_ENV), secrets included. */
  exports: Record<string, string>
  /** Every secret value involved in this run: masked before anything is printed. */
  secrets: string[]
  notices: string[]
  warnings: string[]
}

/** A run the kit refuses: one line, naming the input and what is accepted. Nothing is exported. */
export class PolicyError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'PolicyError'
  }
}
