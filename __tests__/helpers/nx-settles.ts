// What Nx's OWN modules settle on for a workspace, in a given environment (the job's plus what the
// token step exported): started as nx.js starts, in a child process, so nothing is cached between
// workspaces. See __tests__/token-step/nx-agreement.e2e.test.ts for which module says what.

import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { REPO_ROOT } from './run-action.js'
import { machineEnv } from './runner-env.js'

const NX = join(REPO_ROOT, 'node_modules', 'nx', 'dist')

export interface NxSettles {
  disabled: boolean
  token: string
  key: string
  cloudId: string
  /** NX_SELF_HOSTED_REMOTE_CACHE_SERVER once the env files are loaded: Nx's HTTP remote cache where Nx Cloud is not used. */
  selfHostedServer: string
}

/** Nx's own modules, started as nx.js starts, in the job's environment after the step. */
export function whatNxSettlesOn(ws: string, env: Record<string, string>): NxSettles {
  const req = (p: string): string => `require(${JSON.stringify(join(NX, p))})`
  const script = `
    (async () => {
      await ${req('bin/workspace-env.js')}.loadWorkspaceEnv(${JSON.stringify(ws)});
      const { ACCESS_TOKEN } = ${req('src/nx-cloud/utilities/environment.js')};
      const nxJson = ${req('src/config/nx-json.js')}.readNxJson(${JSON.stringify(ws)});
      const options = ${req('src/nx-cloud/utilities/get-cloud-options.js')}.getCloudOptions(${JSON.stringify(ws)});
      const disabled = !!${req('src/utils/nx-cloud-utils.js')}.isNxCloudDisabled(nxJson);
      process.stdout.write(JSON.stringify({
        disabled,
        token: ACCESS_TOKEN || options.accessToken || '',
        key: process.env.NX_CLOUD_ENCRYPTION_KEY || options.encryptionKey || '',
        cloudId: options.nxCloudId || '',
        selfHostedServer: process.env.NX_SELF_HOSTED_REMOTE_CACHE_SERVER || ''
      }));
    })().catch(e => { process.stderr.write(String(e && e.stack || e)); process.exit(1) })`
  const r = spawnSync(process.execPath, ['-e', script], {
    cwd: ws,
    env: { ...machineEnv(), NX_WORKSPACE_ROOT_PATH: ws, NX_WORKSPACE_DATA_DIRECTORY: join(ws, '.nx', 'workspace-data'), ...env },
    encoding: 'utf8'
  })
  if (r.status !== 0) throw new Error(r.stderr)
  return JSON.parse(r.stdout) as NxSettles
}
