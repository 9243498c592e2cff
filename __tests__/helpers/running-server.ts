// The cache action's running server, as a later step of the job reaches it: through the URL and
// bearer token `main` exported, and stopped by the pid it saved in its state.

import type { ActionRun } from './run-action.js'

/** Ends the server `main` started (it may have ended already). */
export function stopServer(main: ActionRun): void {
  try {
    process.kill(Number(main.state['nca-pid']), 'SIGTERM')
  } catch {
    // Gone already.
  }
}

/** GET of one task hash, with the bearer token `main` exported for Nx. */
export function getEntry(main: ActionRun, hash: string): Promise<Response> {
  return fetch(`${main.env.NX_SELF_HOSTED_REMOTE_CACHE_SERVER}/v1/cache/${hash}`, {
    headers: { authorization: `Bearer ${main.env.NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN}` }
  })
}
