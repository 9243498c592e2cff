// Every rule of the audit, once. A rule id is typed from this list; SARIF's rule table, the
// engine's checks and docs/audit-rules.md's sections follow it.

import { deployWithoutRebuild } from './rules/deploy-without-rebuild.js'
import { inheritedEnvToken } from './rules/inherited-env-token.js'
import { noEncryptionKey } from './rules/no-encryption-key.js'
import { nxJsonReadWriteToken } from './rules/nx-json-read-write-token.js'
import { stepEnvToken } from './rules/step-env-token.js'
import { unpinnedAction } from './rules/unpinned-action.js'
import { untrustedTriggerToken } from './rules/untrusted-trigger-token.js'
import { workflowUnreadable } from './rules/workflow-unreadable.js'
import { workspaceIdAccess } from './rules/workspace-id-access.js'
import { unsafePrCheckout } from './rules/unsafe-pr-checkout.js'
import { actionsCacheNxCache } from './rules/actions-cache-nx-cache.js'
import { deprecatedBucketCache } from './rules/deprecated-bucket-cache.js'
import { readWriteSecretWithoutEnvironment } from './rules/read-write-secret-without-environment.js'
import { kitStepFails } from './rules/kit-step-fails.js'

export const RULES = [
  nxJsonReadWriteToken,
  noEncryptionKey,
  stepEnvToken,
  inheritedEnvToken,
  untrustedTriggerToken,
  deployWithoutRebuild,
  workspaceIdAccess,
  unpinnedAction,
  workflowUnreadable,
  unsafePrCheckout,
  actionsCacheNxCache,
  deprecatedBucketCache,
  readWriteSecretWithoutEnvironment,
  kitStepFails
] as const

export type RuleId = (typeof RULES)[number]['id']
