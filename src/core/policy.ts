// The policy, pure: decide(Config, RunFacts, NxConfig, ambient env) → Decision.
// "Why did this run get read-only?" is answered in this file. Nothing here touches the process:
// the action, the cache action and the command line all call decide() on plain data.
// The contract is docs/POLICY.md (#setups, #decision, #no-token, #exports, #encryption).

import { picomatch } from './lazy-packages.js'
import { envFileSetting, nxCloudEnvToken, nxEnvironment, readWriteEnvFileTokens } from './env-files.js'
import type { Env } from './inputs.js'
import { tokenLevel } from './nx-config.js'
import {
  type Access,
  type Config,
  type Decision,
  type NxConfig,
  type PolicyConfig,
  type RunFacts,
  type TokenSource,
  PolicyError
} from './types.js'

interface WriteGrant {
  write: boolean
  /** A clause: "a push to main, which matches write-branches (main)". */
  why: string
}

/** Variables that carry an Nx token, read from the job's environment. */
export const TOKEN_VARIABLES = ['NX_CLOUD_ACCESS_TOKEN', 'NX_CLOUD_AUTH_TOKEN', 'NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN'] as const

/** Everything that points Nx at a remote cache: the token variables and the self-hosted server. */
const REMOTE_CACHE_VARIABLES = [...TOKEN_VARIABLES, 'NX_SELF_HOSTED_REMOTE_CACHE_SERVER'] as const

/**
 * Every secret value of a run: the secret inputs' values, nx.json's token and key, and the Nx
 * token and key variables of the job's environment. Masked before anything is printed.
 */
export function secretsOf(inputValues: readonly string[], nx: NxConfig, ambient: Env): string[] {
  return [
    ...inputValues,
    nx.accessToken,
    nx.encryptionKey,
    ...(nx.envFileTokens ?? []).map(t => t.value),
    ...(nx.committedTokens ?? []).map(t => t.value),
    ...(nx.envFiles ? readWriteEnvFileTokens(nx.envFiles).map(t => t.value) : []),
    nx.envFiles ? (nxEnvironment(nx.envFiles, ambient).NX_CLOUD_ENCRYPTION_KEY ?? '') : '',
    ...TOKEN_VARIABLES.map(v => ambient[v] ?? ''),
    ambient.NX_CLOUD_ENCRYPTION_KEY ?? ''
  ].filter((s, i, all) => s !== '' && all.indexOf(s) === i)
}

function writeBranchGlobs(config: PolicyConfig, facts: RunFacts): string[] {
  return config.writeBranches ?? [facts.defaultBranch]
}

/** Does the policy let this run write? Trust first, then event, then branch. */
export function writeGrant(config: PolicyConfig, facts: RunFacts): WriteGrant {
  switch (config.setup) {
    case 'off':
      return { write: false, why: 'Nx Cloud is turned off for this job' }
    case 'shared-read-write':
      return { write: true, why: 'every run may write' }
    case 'ci-read-write':
      return facts.trusted
        ? { write: true, why: `every trusted CI run may write, and this is ${facts.trustReason}` }
        : { write: false, why: `${facts.trustReason} is untrusted` }
    case 'main-only': {
      if (!facts.trusted) return { write: false, why: `${facts.trustReason} is untrusted` }
      if (!config.writeEvents.includes(facts.event)) {
        return facts.event.startsWith('pull_request')
          ? { write: false, why: 'a pull request never writes' }
          : { write: false, why: `the event ${facts.event} is not in write-events (${config.writeEvents.join(', ')})` }
      }
      if (facts.branch === null) return { write: false, why: facts.noBranchReason }
      const globs = writeBranchGlobs(config, facts)
      const shown = globs.join(', ') + (config.writeBranches === null ? `, the ${defaultBranchWords(facts)}` : '')
      if (!branchMatcher(globs)(facts.branch)) {
        return { write: false, why: `the branch ${facts.branch} does not match write-branches (${shown})` }
      }
      return { write: true, why: `a trusted ${facts.event} to ${facts.branch} matches write-branches (${shown})` }
    }
  }
}

/** Whole-name, case-sensitive globs; names with no glob character are compared as they are. */
function branchMatcher(globs: string[]): (branch: string) => boolean {
  if (!globs.some(g => /[*?[\]{}()!+@\\]/.test(g))) return branch => globs.includes(branch)
  return picomatch()(globs, { dot: true })
}

function defaultBranchWords(facts: RunFacts): string {
  switch (facts.defaultBranchSource) {
    case 'payload':
      return 'default branch'
    case 'api':
      return 'default branch from the API'
    case 'fallback':
      return 'fallback, as neither the payload nor the API (github-token) gave the default branch'
  }
}

interface TokenChoice {
  access: Access
  source: TokenSource
  value: string
  /** The whole chain after the write grant, for the detail: "so it reads only, with read-only-token". */
  clause: string
  /** The same, short, for the reason; absent when it is the clause. */
  short?: string
  /** What to change, one sentence, where the run gets less than the setup could give it. */
  fix?: string
}

function chooseToken(config: Config, facts: RunFacts, nx: NxConfig, grant: WriteGrant, warnings: string[]): TokenChoice {
  if (config.setup === 'off') return { access: 'none', source: 'none', value: '', clause: '' }
  const selfHosted = config.selfHostedCacheUrl !== ''
  // An Nx Cloud token committed in nx.json is no key to a self-hosted cache.
  const nxToken = selfHosted ? '' : nx.accessToken

  if (config.setup === 'shared-read-write') {
    // The read-write-token secret goes only to trusted runs; an untrusted one gets nx.json's
    // token, which anyone who can read the repository has anyway, or no token.
    if (config.readWriteToken !== '' && facts.trusted) {
      return { access: 'read-write', source: 'read-write-token', value: config.readWriteToken, clause: 'with read-write-token' }
    }
    const untrusted = facts.trusted
      ? ''
      : `but ${facts.trustReason} is untrusted, so ${config.readWriteToken !== '' ? 'the read-write-token secret is withheld and ' : ''}`
    if (nxToken !== '') {
      return {
        access: 'read-write',
        source: 'nx.json',
        value: nxToken,
        clause: untrusted === '' ? "with nx.json's token" : `${untrusted}it uses nx.json's token`
      }
    }
    if (!facts.trusted) {
      const choice = tokenless(
        config,
        nx,
        `${untrusted}it may use only nx.json's token, and ${selfHosted ? 'that is no key to a self-hosted cache' : 'nx.json has none'}`
      )
      if (choice.access === 'none') {
        warnings.push(
          `Setup shared-read-write: ${facts.trustReason} is untrusted and gets only the token committed in nx.json, which ${selfHosted ? 'is no key to a self-hosted cache' : 'holds none'}, so this run uses no remote cache.`
        )
      }
      return choice
    }
    const choice = tokenless(config, nx, 'but no token is set')
    if (choice.access === 'none') {
      warnings.push(
        "Setup shared-read-write found no read-write token: nx.json has none and 'read-write-token' is empty, so this run uses no remote cache."
      )
    }
    return choice
  }

  let withheld = ''
  let writeFix: string | undefined
  if (grant.write) {
    if (config.readWriteToken !== '') {
      return {
        access: 'read-write',
        source: 'read-write-token',
        value: config.readWriteToken,
        clause: 'so it writes with read-write-token'
      }
    }
    withheld = "but 'read-write-token' is empty, "
    writeFix = "Pass the read-write CI access token as 'read-write-token' (check the secret's name in the workflow)."
    warnings.push(
      "This run may write, but input 'read-write-token' is empty, so it reads only: secrets are withheld from forks and Dependabot, or the secret's name in the workflow is wrong."
    )
  }
  if (config.readOnlyToken !== '') {
    return {
      access: 'read-only',
      source: 'read-only-token',
      value: config.readOnlyToken,
      clause: `${withheld}so it reads only, with read-only-token`,
      fix: writeFix
    }
  }
  if (nxToken !== '') {
    return {
      access: 'read-only',
      source: 'nx.json',
      value: nxToken,
      clause: `${withheld}so it reads only, with nx.json's token`,
      fix: writeFix
    }
  }
  const where = selfHosted ? "'read-only-token'" : "'read-only-token' or nx.json"
  const why = facts.secretsWithheld ? `; ${facts.secretsWithheld}` : ''
  return tokenless(config, nx, `${withheld}so it may only read, but no read-only token is set (${where}${why})`, {
    short: `${withheld === '' ? 'and' : "but 'read-write-token' is empty, and"} no read-only token is set${facts.secretsWithheld ? ` (${facts.secretsWithheld})` : ''}`,
    // Else tokenless's hint, in an nxCloudId workspace; a run GitHub gives no secrets cannot be given one.
    fix: writeFix ?? (nx.cloudId !== '' || facts.secretsWithheld ? undefined : "Pass a read-only CI access token as 'read-only-token'.")
  })
}

/**
 * A run left with no token. Nx would still connect through nx.json's `nxCloudId` at the workspace
 * ID access level, which the kit cannot read: only when `workspace-id-access` says that level is
 * read-only does the run connect (with no token); otherwise Nx Cloud is turned off for it.
 */
function tokenless(config: Config, nx: NxConfig, why: string, said: { short?: string; fix?: string } = {}): TokenChoice {
  const short = said.short ?? why
  if (nx.cloudId !== '' && config.workspaceIdAccess === 'read-only' && config.selfHostedCacheUrl === '') {
    return {
      access: 'read-only',
      source: 'nx.json',
      value: '',
      clause: `${why}, so it connects through nx.json's nxCloudId with no token, and the workspace ID access level set in Nx Cloud decides (read-only, as workspace-id-access says)`,
      short: `${short}, so it reads through nx.json's nxCloudId with no token (workspace-id-access: read-only)`
    }
  }
  const hint =
    nx.cloudId !== '' && config.selfHostedCacheUrl === ''
      ? "Set the workspace ID access level to read-only in Nx Cloud, then workspace-id-access: read-only, to let such runs read through nx.json's nxCloudId."
      : undefined
  const fix = said.fix ?? hint
  return {
    access: 'none',
    source: 'none',
    value: '',
    clause: `${why}, so no remote cache is used`,
    short: `${short}, so no remote cache is used`,
    fix
  }
}

/** `access` reports what the exported token can do: one that decodes as read-only reads only. */
function truthful(choice: TokenChoice): TokenChoice {
  if (choice.access !== 'read-write' || tokenLevel(choice.value) !== 'read-only') return choice
  const which = choice.source === 'nx.json' ? "nx.json's token" : `input '${choice.source}'`
  return {
    ...choice,
    access: 'read-only',
    clause: `${choice.clause}, but ${which} decodes as read-only, so it reads only`,
    short: `but ${which} decodes as read-only, so it reads only`
  }
}

/** The setup's premises, checked on the tokens themselves (legacy tokens decode to their level). */
function checkPremises(config: Config, facts: RunFacts, nx: NxConfig, warnings: string[]): void {
  const nxLevel = tokenLevel(nx.accessToken)
  if (config.setup === 'main-only' || config.setup === 'ci-read-write') {
    // Wherever Nx reads it: nx.json in either layout, the file its `extends` names, the env files.
    const committed = nx.committedTokens ?? [{ file: nx.path ?? 'nx.json', key: 'nxCloudAccessToken', value: nx.accessToken }]
    for (const t of committed) {
      if (tokenLevel(t.value) !== 'read-write') continue
      const via =
        t.file === (nx.path ?? 'nx.json') ? '' : ` (the file ${nx.path ?? 'nx.json'} extends, which Nx merges into it on every run)`
      throw new PolicyError(
        `Input 'setup' is ${config.setup}, but ${t.file}${via} commits a read-write Nx Cloud token: anyone who can read the repository can write to the cache. Accepted: a read-only token in nx.json (keep the read-write one in a secret), or setup shared-read-write.`
      )
    }
    const inFiles = nx.envFiles
      ? readWriteEnvFileTokens(nx.envFiles)
      : (nx.envFileTokens ?? []).filter(t => tokenLevel(t.value) === 'read-write')
    for (const t of inFiles) {
      throw new PolicyError(
        `Input 'setup' is ${config.setup}, but ${t.file} sets ${t.name} to a read-write Nx Cloud token: Nx reads that file on every run of the workspace, so every run could write, pull requests included. Accepted: no Nx Cloud token in the workspace's env files (keep the read-write token in a secret, passed as read-write-token).`
      )
    }
  }
  if (tokenLevel(config.readOnlyToken) === 'read-write') {
    throw new PolicyError(
      "Input 'read-only-token' holds a read-write token (it decodes as read-write): untrusted runs would write to the cache. Accepted: a read-only access token."
    )
  }
  if (tokenLevel(config.readWriteToken) === 'read-only') {
    warnings.push("Input 'read-write-token' decodes as a read-only token: are the read-write and read-only secrets swapped?")
  }
  if (config.setup === 'shared-read-write') {
    if (facts.repositoryPrivate === false) {
      warnings.push('Setup shared-read-write in a public repository: anyone who can read nx.json can write to the cache.')
    }
    if (config.readWriteToken === '' && nxLevel === 'read-only') {
      warnings.push("Setup shared-read-write, but nx.json's token decodes as read-only: nobody can write to the cache.")
    }
  }
}

interface EncryptionChoice {
  state: 'enabled' | 'disabled'
  exportKey: string
  /** Set when GitHub withheld the key from this run: it goes without the remote cache instead of failing. */
  withheld?: string
}

function chooseEncryption(
  config: Config,
  facts: RunFacts,
  nx: NxConfig,
  access: Access,
  ambient: Env,
  notices: string[],
  warnings: string[]
): EncryptionChoice {
  if (config.setup === 'off') return { state: 'disabled', exportKey: '' }
  const input = config.encryptionKey
  const ambientKey = ambient.NX_CLOUD_ENCRYPTION_KEY ?? ''
  if (nx.encryptionKey !== '') {
    if (input !== '' && input !== nx.encryptionKey) {
      throw new PolicyError(
        "Input 'encryption-key' differs from the key in nx.json: the cache would split in two. Accepted: the same key as nx.json, or leave encryption-key empty."
      )
    }
    if (ambientKey !== '' && ambientKey !== nx.encryptionKey) {
      throw new PolicyError(
        "NX_CLOUD_ENCRYPTION_KEY in the job's environment differs from the key in nx.json: the cache would split in two. Accepted: remove it from env:, or give it nx.json's key."
      )
    }
    if (ambientKey !== '') {
      warnings.push(
        "NX_CLOUD_ENCRYPTION_KEY is set in the job's environment although nx.json has the key: Nx hashes that variable into every task, so this job will not share cache entries with runs that do not set it. Remove it from env:."
      )
    }
    if (input !== '') {
      notices.push(
        "Input 'encryption-key' is the key nx.json already holds: not exported, since Nx hashes NX_CLOUD_ENCRYPTION_KEY into every task and CI would stop sharing entries with laptops."
      )
    }
    return { state: 'enabled', exportKey: '' }
  }
  if (input !== '') {
    if (ambientKey !== '' && ambientKey !== input) {
      notices.push("NX_CLOUD_ENCRYPTION_KEY from the job's environment is overridden by input 'encryption-key' for every later step.")
    }
    return { state: 'enabled', exportKey: input }
  }
  if (ambientKey !== '') return { state: 'enabled', exportKey: '' }
  if (config.requireEncryption && access !== 'none' && config.selfHostedCacheUrl === '') {
    // A secret GitHub does not give this run cannot be found: the run is not failed for it.
    if (facts.secretsWithheld) return { state: 'disabled', exportKey: '', withheld: facts.secretsWithheld }
    throw new PolicyError(
      "Input 'require-encryption' is true, but 'encryption-key' is empty and no key was found: set 'encryption-key' (make one with: openssl rand -hex 16), or NX_CLOUD_ENCRYPTION_KEY in the environment, or nxCloudEncryptionKey in nx.json (or set 'require-encryption: false')."
    )
  }
  // docs/POLICY.md#encryption: no key is not a failure by default, but a write without one is said.
  if (access === 'read-write' && config.selfHostedCacheUrl === '') warnings.push(UNENCRYPTED_WRITE)
  return { state: 'disabled', exportKey: '' }
}

/** The warning of a run that writes to Nx Cloud with no end-to-end encryption key. */
export const UNENCRYPTED_WRITE =
  "This run writes to the Nx Cloud cache unencrypted: no key in 'encryption-key', NX_CLOUD_ENCRYPTION_KEY or nx.json, so what it uploads is stored as Nx Cloud receives it, readable and replaceable by anyone who reaches that storage. Make a key (openssl rand -hex 16), keep it in a secret passed as 'encryption-key' (and give developers the same NX_CLOUD_ENCRYPTION_KEY), or set 'require-encryption: true' to fail such runs."

/**
 * docs/POLICY.md#read-write-secret-exposed: the read-write secret handed to a run that may not write. GitHub gives
 * repository secrets to every same-repository pull request, whose workflow its author can change.
 */
export function readWriteSecretExposed(grantWhy: string, facts: RunFacts): string {
  return `Input 'read-write-token' is set on a run that may not write (${facts.trustReason}: ${grantWhy}). The read-write secret reached a run that anyone who can push a branch controls: a branch or pull request can change the workflow it runs and print the secret. Move it into a GitHub environment whose deployment branches are only the protected ones: add the read-write token there as an environment secret, delete the repository (or organization) secret of that name, and request the environment only on runs that may write, as the README's quick start does: environment: { name: "\${{ (github.event_name == 'push' || github.event_name == 'workflow_dispatch') && github.ref == 'refs/heads/main' && 'nx-cloud-write' || '' }}", deployment: false }.`
}

export function decide(config: Config, facts: RunFacts, nx: NxConfig, ambient: Env): Decision {
  // A pre-deploy rebuild must not read or write any cache, nor may any later Nx command of the
  // job restore old outputs over it: rebuild-command forces skip-cache.
  const rebuild = config.rebuildCommand !== ''
  const skipCache = config.skipCache || rebuild
  const notices: string[] = []
  const warnings: string[] = []
  checkPremises(config, facts, nx, warnings)
  const grant = writeGrant(config, facts)
  if (!grant.write && config.readWriteToken !== '') warnings.push(readWriteSecretExposed(grant.why, facts))
  let token = offWhereNxWouldNotDoIt(config, nx, ambient, truthful(chooseToken(config, facts, nx, grant, warnings)), warnings)
  // The key Nx sees: the job's NX_CLOUD_ENCRYPTION_KEY, or the env files' where the job leaves it empty.
  const keyEnv = nx.envFiles
    ? { ...ambient, NX_CLOUD_ENCRYPTION_KEY: nxEnvironment(nx.envFiles, ambient).NX_CLOUD_ENCRYPTION_KEY }
    : ambient
  const encryption = chooseEncryption(config, facts, nx, token.access, keyEnv, notices, warnings)
  if (encryption.withheld !== undefined) token = withoutKey(token, encryption.withheld, facts, notices)
  else if (facts.secretsWithheld && token.access === 'none' && config.setup !== 'off') {
    notices.push(noCacheWithoutSecrets(facts.secretsWithheld, facts, config, nx))
  }
  workspaceNotes(config, nx, notices, warnings)

  const exports = remoteCacheExports(config, token, nx, ambient, notices)
  refuseAServerTheKitDidNotChoose(nx, ambient, exports)
  if (encryption.exportKey !== '') exports.NX_CLOUD_ENCRYPTION_KEY = encryption.exportKey
  if (skipCache) exports.NX_SKIP_NX_CACHE = 'true'

  const secrets = secretsOf([config.readWriteToken, config.readOnlyToken, config.encryptionKey, config.githubToken], nx, ambient)

  // The detail: which rule decided, as one sentence with every clause. The reason: the same rule,
  // short, with the skipped cache as a sentence of its own.
  const skip = skipCache
    ? `; the cache is skipped for the rest of the job (NX_SKIP_NX_CACHE=true)${rebuild ? ' because rebuild-command is set' : ''}`
    : ''
  const skipped = skipCache
    ? ` The cache is skipped for the rest of the job (NX_SKIP_NX_CACHE=true)${rebuild ? ', as rebuild-command is set' : ''}.`
    : ''
  const off = 'off: Nx Cloud is turned off for this job (NX_NO_CLOUD=true)'
  const detail = config.setup === 'off' ? `${off}${skip}.` : `${config.setup}: ${grant.why}, ${token.clause}${skip}.`
  const reason = config.setup === 'off' ? `${off}.${skipped}` : `${config.setup}: ${grant.why}, ${token.short ?? token.clause}.${skipped}`

  return {
    setup: config.setup,
    access: token.access,
    tokenSource: token.source,
    reason,
    detail,
    fix: token.fix ?? null,
    encryption: encryption.state,
    skipCache,
    facts,
    exports,
    secrets,
    notices,
    warnings
  }
}

/**
 * What Nx runs with once it has loaded the workspace's env files over the job's environment
 * (core/env-files.ts mirrors Nx's loadRootEnvFiles and Nx Cloud's environment.js).
 */
function nxView(nx: NxConfig, job: Env): { env: Env; token: string; tokenFrom: string } {
  const env = nx.envFiles ? nxEnvironment(nx.envFiles, job) : { ...job }
  const files = nx.envFiles ?? { root: [], cloud: null }
  const fromEnv = nxCloudEnvToken(files, env)
  if (fromEnv.value !== '') {
    const name = fromEnv.name
    const file = fromEnv.cloudFile ?? ((job[name] ?? '') === '' ? (envFileSetting(files, name)?.file ?? null) : null)
    return { env, token: fromEnv.value, tokenFrom: file !== null ? `${file} sets ${name}` : `${name} is set in the job's environment` }
  }
  // Only the env files' tokens are in play here: nx.json's is the kit's choice already.
  const fileToken = (nx.envFiles ? [] : (nx.envFileTokens ?? [])).find(t => (job[t.name] ?? '') === '')
  if (fileToken) return { env, token: fileToken.value, tokenFrom: `${fileToken.file} sets ${fileToken.name}` }
  return { env, token: '', tokenFrom: '' }
}

/**
 * A run given Nx Cloud access that Nx would not use as chosen gets none, with a warning, so that
 * `access` says what Nx does: NX_NO_CLOUD=true in the job's environment (an opt-out the action
 * does not override) or in an env file of the workspace, `neverConnectToCloud` in nx.json (Nx 24's
 * isNxCloudDisabled), or a read through nxCloudId with no token while the env files give Nx a
 * token (Nx would take it: an empty variable does not hide it).
 */
function offWhereNxWouldNotDoIt(config: Config, nx: NxConfig, ambient: Env, token: TokenChoice, warnings: string[]): TokenChoice {
  if (config.setup === 'off' || config.selfHostedCacheUrl !== '' || token.access === 'none') return token
  const off = (but: string, fix: string): TokenChoice => ({
    access: 'none',
    source: 'none',
    value: '',
    clause: `${token.clause}, but ${but}, so no remote cache is used`,
    short: `but ${but}, so no remote cache is used`,
    fix
  })
  const could = token.access === 'read-write' ? 'write' : 'read'
  // Nx turns Nx Cloud off for exactly 'true', nothing else.
  if (ambient.NX_NO_CLOUD === 'true') {
    warnings.push(
      `NX_NO_CLOUD=true is set in the job's environment (workflow- or job-level env:), so Nx does not use Nx Cloud and this run gets no remote cache, although it could ${could}. Remove it from env: to use Nx Cloud, or use setup: off to say so.`
    )
    return off(
      "NX_NO_CLOUD=true in the job's environment turns Nx Cloud off",
      "Remove NX_NO_CLOUD from the workflow's or job's env: to use Nx Cloud, or use setup: off to say so."
    )
  }
  if (nx.neverConnectToCloud) {
    warnings.push(
      `${nx.path ?? 'nx.json'} sets neverConnectToCloud, so Nx never connects to Nx Cloud and this run gets no remote cache, although it could ${could}. Remove it from nx.json to use Nx Cloud, or use setup: off to say so.`
    )
    return off(
      `${nx.path ?? 'nx.json'} sets neverConnectToCloud, which turns Nx Cloud off`,
      `Remove neverConnectToCloud from ${nx.path ?? 'nx.json'} to use Nx Cloud, or use setup: off to say so.`
    )
  }
  const blank = token.value === '' ? { NX_CLOUD_ACCESS_TOKEN: '', NX_CLOUD_AUTH_TOKEN: '' } : { NX_CLOUD_ACCESS_TOKEN: token.value }
  const view = nxView(nx, { ...ambient, ...blank })
  if (view.env.NX_NO_CLOUD === 'true') {
    const file = nx.envFiles ? envFileSetting(nx.envFiles, 'NX_NO_CLOUD')?.file : undefined
    warnings.push(
      `${file ?? 'An env file of the workspace'} sets NX_NO_CLOUD=true, and Nx loads it into every run, so Nx does not use Nx Cloud and this run gets no remote cache, although it could ${could}. Remove it from that file to use Nx Cloud, or use setup: off to say so.`
    )
    return off(
      `${file ?? 'an env file'} sets NX_NO_CLOUD=true, which turns Nx Cloud off`,
      `Remove NX_NO_CLOUD from ${file ?? "the workspace's env files"} to use Nx Cloud, or use setup: off to say so.`
    )
  }
  if (token.value === '' && view.token !== '') {
    warnings.push(
      `${view.tokenFrom}: Nx would use that token instead of reading through nxCloudId with no token, and the kit cannot know its level, so this run gets no remote cache. Keep Nx Cloud tokens out of the workspace's env files and the job's env:.`
    )
    return off(
      `${view.tokenFrom}, which Nx would use instead`,
      `Remove that token (${view.tokenFrom}): keep Nx Cloud tokens out of the workspace's env files and the job's env:.`
    )
  }
  return token
}

/** docs/POLICY.md#no-token: one notice for a run GitHub gives no secrets and that is left with no remote cache. */
function noCacheWithoutSecrets(withheld: string, facts: RunFacts, config: Config, nx: NxConfig): string {
  const how =
    config.selfHostedCacheUrl !== ''
      ? 'a self-hosted cache needs a token, which such runs cannot have'
      : nx.cloudId !== ''
        ? "to let such runs read, set the workspace ID access level to read-only in Nx Cloud (Settings, Access Control), then 'workspace-id-access: read-only'"
        : "to let such runs read, connect the workspace (nxCloudId in nx.json), set the workspace ID access level to read-only in Nx Cloud, then 'workspace-id-access: read-only'"
  return `${withheld}, so this run (${facts.trustReason}) has no Nx Cloud token and runs without the remote cache; it is not failed for it (${how}).`
}

/**
 * Nx uses a self-hosted remote cache wherever NX_SELF_HOSTED_REMOTE_CACHE_SERVER is set and Nx Cloud
 * is not (nx tasks-runner/cache.js getHttpCache), so a server the env files give Nx, where the kit
 * exported none, would serve every run (pull requests included) with whatever token sits beside it,
 * while `access` says otherwise. An empty export does not hide it: refused.
 */
function refuseAServerTheKitDidNotChoose(nx: NxConfig, ambient: Env, exports: Record<string, string>): void {
  if (!nx.envFiles || (exports.NX_SELF_HOSTED_REMOTE_CACHE_SERVER ?? '') !== '') return
  const name = 'NX_SELF_HOSTED_REMOTE_CACHE_SERVER'
  if ((nxEnvironment(nx.envFiles, { ...ambient, ...exports })[name] ?? '') === '') return
  const file = envFileSetting(nx.envFiles, name)?.file ?? "the workspace's env files"
  throw new PolicyError(
    `${file} sets ${name}: Nx loads that file into every run and would use that remote cache, pull requests included, which this step does not choose. Accepted: no remote cache settings in the workspace's env files (give the server to input 'self-hosted-cache-url' and its tokens as secrets).`
  )
}

/** No key, because GitHub withholds secrets from this run: no remote cache, rather than a failure. */
function withoutKey(token: TokenChoice, withheld: string, facts: RunFacts, notices: string[]): TokenChoice {
  notices.push(
    `${withheld}, so 'encryption-key' is empty here and no key was found: this run (${facts.trustReason}) uses no remote cache instead of failing. To let such runs read, commit the key in nx.json (nxCloudEncryptionKey), as Nx Cloud's security guide does.`
  )
  return {
    access: 'none',
    source: 'none',
    value: '',
    clause: `${token.clause}, but no encryption key was found (${withheld}, and nx.json has none), so no remote cache is used`,
    short: `but no encryption key was found (${withheld}, and nx.json has none), so no remote cache is used`,
    fix: "Commit the key in nx.json (nxCloudEncryptionKey), as Nx Cloud's security guide does, to let such runs read."
  }
}

/** What the workspace itself tells about the inputs: an nxCloudId-less read-only level, no nx.json. */
function workspaceNotes(config: Config, nx: NxConfig, notices: string[], warnings: string[]): void {
  if (config.workspaceIdAccess === 'read-only' && nx.cloudId === '' && config.setup !== 'off') {
    notices.push(
      `Input 'workspace-id-access' is read-only, but ${nx.path ?? 'nx.json'} has no nxCloudId: Nx has no workspace ID to connect with, so this input changes nothing.`
    )
  }
  if (nx.baseExtends !== undefined) {
    warnings.push(
      `${nx.extendsFile} (which ${nx.path ?? 'nx.json'} extends) has its own extends '${nx.baseExtends}', which Nx reads no further than one level, so neither Nx nor the kit reads it: move what it holds into ${nx.extendsFile} or nx.json.`
    )
  }
  if (nx.path === null && nx.lookedAt !== undefined) {
    warnings.push(
      `No nx.json at ${nx.lookedAt}: nothing is taken from it (no token, no encryption key, no nxCloudId). Is 'working-directory' the folder of the Nx workspace?`
    )
  }
}

/**
 * The variables that point Nx at a remote cache, or turn it off, for the rest of the job. The
 * action owns all of them: the chosen ones are set, and any other one the job's env: carried is
 * blanked (NX_NO_CLOUD=true is exactly what makes Nx use an ambient self-hosted token, so none may
 * survive), each with a notice.
 */
function remoteCacheExports(config: Config, token: TokenChoice, nx: NxConfig, ambient: Env, notices: string[]): Record<string, string> {
  const exports: Record<string, string> = {}
  const selfHosted = config.selfHostedCacheUrl !== ''
  if (config.setup === 'off' || selfHosted || token.access === 'none') exports.NX_NO_CLOUD = 'true'
  // Connected through nxCloudId with no token: no token variable may reach Nx.
  const viaCloudId = token.access !== 'none' && token.source === 'nx.json' && token.value === ''
  if (viaCloudId) for (const name of TOKEN_VARIABLES) exports[name] = ''
  const chosen: Record<string, string> = {}
  if (token.value !== '' && selfHosted) {
    chosen.NX_SELF_HOSTED_REMOTE_CACHE_SERVER = config.selfHostedCacheUrl
    chosen.NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN = token.value
  } else if (token.value !== '') {
    chosen.NX_CLOUD_ACCESS_TOKEN = token.value
    // Nx prefers NX_CLOUD_AUTH_TOKEN over NX_CLOUD_ACCESS_TOKEN: when the job's environment or the
    // env files (loaded and expanded together, as Nx loads them) would give Nx another token, the
    // choice goes in NX_CLOUD_AUTH_TOKEN too, which a non-empty job value makes Nx's.
    if (
      (ambient.NX_CLOUD_AUTH_TOKEN ?? '') !== '' ||
      nxView(nx, { ...ambient, NX_CLOUD_ACCESS_TOKEN: token.value }).token !== token.value
    ) {
      chosen.NX_CLOUD_AUTH_TOKEN = token.value
    }
  }
  // Without a token no self-hosted server is set: Nx 24 aborts the whole run on a 401 from the cache.
  for (const name of REMOTE_CACHE_VARIABLES) {
    const value = chosen[name] ?? ''
    const current = ambient[name] ?? ''
    if (value !== '') exports[name] = value
    if (current !== '' && current !== value) {
      exports[name] = value
      notices.push(
        `${name} was set in the job's environment (workflow- or job-level env:) and is ${value === '' ? 'blanked' : 'overridden'} for every later step by this run's choice; a step-level env: would still win, so keep Nx tokens out of env:.`
      )
    }
  }
  return exports
}
