// The part of @actions/core the action programs use, from the package's own modules: workflow
// commands (command.js), file commands (file-command.js) and the job summary (summary.js).
// `@actions/core` itself also loads its OIDC client, and with it @actions/http-client and undici,
// which this kit never uses: evaluating that was most of the token step's start-up. The package's
// `exports` name only its root, so its modules are named by path, as actions-store.ts does for
// @actions/cache; the lock file pins them and the runner-level tests run them.
//
// Each function behaves as @actions/core's function of the same name.

import { EOL } from 'node:os'
import { issueCommand } from '../../node_modules/@actions/core/lib/command.js'
import { issueFileCommand, prepareKeyValueMessage } from '../../node_modules/@actions/core/lib/file-command.js'
import { toCommandValue } from '../../node_modules/@actions/core/lib/utils.js'

export { summary } from '../../node_modules/@actions/core/lib/summary.js'

export function exportVariable(name: string, value: string): void {
  process.env[name] = toCommandValue(value)
  if (process.env.GITHUB_ENV) issueFileCommand('ENV', prepareKeyValueMessage(name, value))
  else issueCommand('set-env', { name }, toCommandValue(value))
}

export function setSecret(secret: string): void {
  issueCommand('add-mask', {}, secret)
}

export function setOutput(name: string, value: string): void {
  if (process.env.GITHUB_OUTPUT) return issueFileCommand('OUTPUT', prepareKeyValueMessage(name, value))
  process.stdout.write(EOL)
  issueCommand('set-output', { name }, toCommandValue(value))
}

export function saveState(name: string, value: string): void {
  if (process.env.GITHUB_STATE) return issueFileCommand('STATE', prepareKeyValueMessage(name, value))
  issueCommand('save-state', { name }, toCommandValue(value))
}

export function getState(name: string): string {
  return process.env[`STATE_${name}`] || ''
}

export function setFailed(message: string): void {
  process.exitCode = 1
  error(message)
}

export function debug(message: string): void {
  issueCommand('debug', {}, message)
}

export function error(message: string): void {
  issueCommand('error', {}, message)
}

export function warning(message: string): void {
  issueCommand('warning', {}, message)
}

export function notice(message: string): void {
  issueCommand('notice', {}, message)
}

export function info(message: string): void {
  process.stdout.write(message + EOL)
}
