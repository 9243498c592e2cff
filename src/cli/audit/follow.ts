// What a job really runs, followed as far as the repository's own files go: the commands of its
// `run:` steps, the package.json scripts they call (npm, pnpm, yarn and bun forms, the `pnpm <script>`
// and `yarn <script>` shorthands, scripts calling scripts, in the package.json of the step's working
// directory), the steps of local composite actions (`uses: ./.github/actions/x`), and the steps of
// `parallel:` groups (read in place by workflow.ts). Not followed: remote actions and reusable
// workflows of other repositories, scripts run by a program (`node build.js`), pnpm --filter / -r and
// workspace forms, and install lifecycle scripts.

import { posix } from 'node:path'
import { interpolate } from './expressions.js'
import { type Action, type Job, type Step, readAction } from './workflow.js'

/** The repository's files, read lazily by path relative to the root; null when absent or unreadable. */
export interface Files {
  read(rel: string): string | null
}

// `nx …`, `nx-cloud …`, `npx [-y] nx@21 …`, `pnpm [exec|dlx] nx`, `yarn nx`, `npm exec [--] nx`, `node_modules/.bin/nx`.
export const NX_COMMAND =
  /(?:^|[\s;&|(`])(?:(?:npx|pnpx|bunx)\s+(?:-\S+\s+)*|(?:pnpm|yarn|bun)\s+(?:exec\s+|dlx\s+)?|npm\s+exec\s+(?:--\s+)?|(?:\.\/)?node_modules\/\.bin\/)?nx(?:-cloud)?(?:@\S+)?(?=$|[\s;&|)`])/

/** A script's commands: lines continued with a trailing backslash are one command. */
export function commandLines(run: string): string[] {
  return run.replace(/\\\r?\n/g, ' ').split('\n')
}

/** A line with quoted text blanked (a commit message that mentions `nx migrate` runs no Nx) and its comment cut. */
export function unquote(line: string): string {
  return line
    .replace(/"(?:[^"\\]|\\.)*"|'[^']*'/g, m => (/^["']\$\{?[A-Za-z_]/.test(m) ? m.slice(1, -1) : '""'))
    .replace(/(?:^|\s)#.*$/, '')
}

/** Does the line run Nx itself (not through a script)? */
export function lineRunsNx(line: string): boolean {
  return NX_COMMAND.test(unquote(line))
}

const PNPM_BUILTINS = new Set(
  'add audit bin cache config create dedupe deploy dlx doctor env exec fetch help i import init install install-test it licenses link list ln ls outdated pack patch patch-commit patch-remove prune publish rb rebuild recursive remove rm root run self-update server setup store un uninstall unlink up update why -r -w'.split(
    ' '
  )
)
const YARN_BUILTINS = new Set(
  'add audit autoclean bin cache check config constraints create dedupe dlx exec explain generate-lock-entry global help import info init install licenses link list login logout node npm outdated owner pack patch plugin policy publish rebuild remove run search set stage tag team unlink unplug up upgrade upgrade-interactive version versions why workspace workspaces'.split(
    ' '
  )
)
const NPM_SCRIPT_ALIASES: Record<string, string> = { test: 'test', t: 'test', tst: 'test', start: 'start', stop: 'stop', restart: 'restart' }

/** `npm run build -- --x`, `pnpm build`, `yarn run test:pr`, `bun run b` → the script name and the words after it. */
export function scriptCall(command: string): { name: string; rest: string } | null {
  const words = command.trim().split(/\s+/)
  const tool = words[0]
  let i = 1
  const flags = (): void => {
    while (i < words.length && /^-/.test(words[i])) {
      // A flag that takes a value in the next word names another package or folder: not followed.
      if (/^(?:--filter|-F|--dir|-C|--prefix|--cwd|--workspace|-w)$/.test(words[i])) return
      i++
    }
  }
  let name: string | undefined
  if (tool === 'npm') {
    flags()
    const sub = words[i]
    if (sub === 'run' || sub === 'run-script' || sub === 'rum' || sub === 'urn') {
      i++
      flags()
      name = words[i]
    } else if (sub && NPM_SCRIPT_ALIASES[sub]) name = NPM_SCRIPT_ALIASES[sub]
  } else if (tool === 'pnpm' || tool === 'yarn' || tool === 'bun') {
    flags()
    const sub = words[i]
    if (sub === 'run') {
      i++
      flags()
      name = words[i]
    } else if (sub && tool !== 'bun' && !(tool === 'pnpm' ? PNPM_BUILTINS : YARN_BUILTINS).has(sub) && !sub.startsWith('-')) name = sub
    else if (sub === 'test' || sub === 'start') name = sub
  }
  if (!name || /^[-"'$]/.test(name) || name.includes('${{')) return null
  return { name, rest: words.slice(i + 1).join(' ') }
}

// Commands that publish or deploy what was built. Not previews of a pull request (pkg-pr-new).
const DEPLOY_COMMANDS: [RegExp, string][] = [
  [/^(?:npm|pnpm|yarn(?:\s+npm)?|bun)\s+(?:-\S+\s+)*publish\b/, 'publishes to a registry'],
  [/\bchangesets?\s+publish\b/, 'runs changeset publish'],
  [/\bsemantic-release\b/, 'runs semantic-release'],
  [/\bdocker\s+(?:image\s+)?push\b|\bdocker\s+buildx\s+build\b.*--push\b/, 'pushes a container image'],
  [/\b(?:vsce|ovsx)\s+publish\b/, 'publishes an editor extension'],
  [/\bnx\s+(?:run\s+\S+:)?(?:deploy|publish)\b|\bnx\s+(?:run-many|affected)\b.*(?:-t|--targets?)[=\s]\S*\b(?:deploy|publish)\b/, 'runs an Nx deploy target'],
  [
    /\b(?:firebase\s+deploy|netlify\s+deploy|vercel\s+(?:deploy|--prod)|wrangler\s+(?:deploy|publish|pages\s+deploy)|fly(?:ctl)?\s+deploy|gh-pages\b|kubectl\s+(?:apply|rollout|set\s+image)|helm\s+(?:upgrade|install)|aws\s+(?:s3\s+(?:sync|cp)|ecs|lambda|cloudformation|deploy)|gcloud\s+.*\bdeploy\b|az\s+.*\b(?:deploy|upload)\b|surge\b)/,
    'deploys with a cloud CLI'
  ],
  [/^(?:\S*\/)?(?:deploy|publish|release)[\w.-]*\.(?:sh|js|mjs|cjs|ts|mts|py)\b|^(?:npx\s+)?(?:node|tsx|ts-node|bash|sh|python3?)\s+(?:\S*\/)?(?:deploy|publish|release)[\w.-]*(?:\s|$)/, 'runs a deploy script']
]
const DEPLOY_ACTIONS: [RegExp, string][] = [
  [/^actions\/deploy-pages@/i, 'deploys GitHub Pages'],
  [/^(?:peaceiris\/actions-gh-pages|JamesIves\/github-pages-deploy-action)@/i, 'deploys GitHub Pages'],
  [/^(?:JS-DevTools\/npm-publish)@/i, 'publishes to a registry'],
  [/^(?:cloudflare\/(?:wrangler-action|pages-action)|amondnet\/vercel-action|nwtgck\/actions-netlify|azure\/(?:webapps-deploy|static-web-apps-deploy|functions-action)|aws-actions\/amazon-ecs-deploy-task-definition|google-github-actions\/deploy-[\w-]+|FirebaseExtended\/action-hosting-deploy)@/i, 'deploys with a deploy action']
]

export function deployCommand(command: string): string | null {
  const c = command.trim()
  if (/\bpkg-pr-new\b/.test(c)) return null
  // `nx release` and `nx release publish` publish; `nx release version|changelog|plan` do not.
  const release = /\bnx\s+release\b(.*)$/.exec(c)
  if (release && !/^\s*(?:version|changelog|plan)\b/.test(release[1])) return 'runs nx release'
  for (const [re, why] of DEPLOY_COMMANDS) if (re.test(c)) return why
  return null
}

export function deployAction(step: Step): string | null {
  const uses = step.uses.trim()
  if (/^changesets\/action@/i.test(uses)) return (step.with.get('publish')?.value ?? '').trim() !== '' ? 'publishes with changesets/action' : null
  if (/^docker\/build-push-action@/i.test(uses)) return /^\s*true\s*$/i.test(step.with.get('push')?.value ?? '') ? 'pushes a container image' : null
  for (const [re, why] of DEPLOY_ACTIONS) if (re.test(uses)) return why
  return null
}

/** What a step (or job) runs, as far as it can be followed. */
export interface Use {
  /** The Nx commands, each with the words a script call passed on and the folder it runs in. */
  nx: { command: string; dir: string; via: string | null }[]
  /** What it does that deploys or publishes (one phrase each). */
  deploys: string[]
  /** Artifacts it uploads and downloads (names; '*' when unnamed). */
  uploads: string[]
  downloads: string[]
}

const empty = (): Use => ({ nx: [], deploys: [], uploads: [], downloads: [] })

function merge(into: Use, from: Use): Use {
  into.nx.push(...from.nx)
  into.deploys.push(...from.deploys)
  into.uploads.push(...from.uploads)
  into.downloads.push(...from.downloads)
  return into
}

/** A folder relative to the root, normalised ('.' for the root); null when it leaves the root. */
export function folder(base: string, dir: string): string | null {
  if (dir.trim() === '') return base
  const d = dir.trim().replace(/^\$\{?GITHUB_WORKSPACE\}?\/?/, '')
  const joined = posix.normalize(posix.isAbsolute(d) ? d.slice(1) : posix.join(base, d))
  if (joined === '..' || joined.startsWith('../')) return null
  return joined.replace(/\/+$/, '') || '.'
}

export class Follower {
  private scripts = new Map<string, { dir: string; scripts: Record<string, string> } | null>()
  private actions = new Map<string, Action | null>()

  constructor(private readonly files: Files) {}

  /** The scripts of the nearest package.json at or above a folder, as npm finds it. */
  packageScripts(dir: string): { dir: string; scripts: Record<string, string> } | null {
    if (this.scripts.has(dir)) return this.scripts.get(dir) ?? null
    let found: { dir: string; scripts: Record<string, string> } | null = null
    const text = this.files.read(dir === '.' ? 'package.json' : `${dir}/package.json`)
    if (text !== null) {
      try {
        const pkg = JSON.parse(text) as { scripts?: Record<string, unknown> }
        const scripts: Record<string, string> = {}
        for (const [k, v] of Object.entries(pkg.scripts ?? {})) if (typeof v === 'string') scripts[k] = v
        found = { dir, scripts }
      } catch {
        found = null
      }
    } else if (dir !== '.') {
      found = this.packageScripts(posix.dirname(dir) === '.' ? '.' : posix.dirname(dir))
    }
    this.scripts.set(dir, found)
    return found
  }

  /** A local action (`./path`): its action.yml or action.yaml, read once. */
  action(uses: string): Action | null {
    const path = folder('.', uses.replace(/^\.\//, ''))
    if (path === null) return null
    if (this.actions.has(path)) return this.actions.get(path) ?? null
    let found: Action | null = null
    for (const name of ['action.yml', 'action.yaml']) {
      const rel = path === '.' ? name : `${path}/${name}`
      const text = this.files.read(rel)
      if (text !== null) {
        found = readAction(rel, text)
        break
      }
    }
    this.actions.set(path, found)
    return found
  }

  /** The commands of a run: script, followed into package.json scripts. */
  runUse(run: string, dir: string, depth = 0, via: string | null = null, seen: Set<string> = new Set()): Use {
    const use = empty()
    let cwd = dir
    for (const raw of commandLines(run)) {
      const line = unquote(raw)
      for (const part of line.split(/&&|\|\||;|\|/)) {
        const command = part.trim().replace(/^(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)+/, '').replace(/^(?:sudo|time|exec|env)\s+/, '')
        if (command === '') continue
        const cd = /^cd\s+([^\s$`]+)\s*$/.exec(command)
        if (cd) {
          cwd = folder(cwd, cd[1]) ?? cwd
          continue
        }
        if (NX_COMMAND.test(` ${command}`)) use.nx.push({ command, dir: cwd, via })
        const deploy = deployCommand(command)
        if (deploy) use.deploys.push(deploy)
        const call = scriptCall(command)
        if (!call || depth > 8) continue
        const pkg = this.packageScripts(cwd)
        const body = pkg?.scripts[call.name]
        if (!pkg || body === undefined) continue
        const key = `${pkg.dir}\u0000${call.name}`
        if (seen.has(key)) continue
        const inner = this.runUse(body, pkg.dir, depth + 1, via ?? call.name, new Set([...seen, key]))
        // Words after the script name reach its commands (`pnpm run build --skip-nx-cache`).
        for (const n of inner.nx) if (call.rest !== '') n.command = `${n.command} ${call.rest}`
        merge(use, inner)
      }
    }
    return use
  }

  /** A step: its run: script, or the local action it uses; `inputs` are a reusable workflow's. */
  stepUse(step: Step, dir: string, depth = 0, inputs: Record<string, string> = {}): Use {
    const here = folder(dir, interpolate(step.workingDirectory ?? '', inputs) ?? '') ?? dir
    const use = empty()
    if (step.run.trim() !== '') merge(use, this.runUse(step.run, here))
    const deploy = deployAction(step)
    if (deploy) use.deploys.push(deploy)
    const uses = step.uses.trim()
    if (/^actions\/upload-(?:pages-)?artifact@/i.test(uses)) use.uploads.push(step.with.get('name')?.value || '*')
    if (/^actions\/download-artifact@/i.test(uses)) use.downloads.push(step.with.get('name')?.value || '*')
    if (uses.startsWith('./') && depth < 8) {
      const action = this.action(uses)
      if (action) {
        const withInputs: Record<string, string> = {}
        for (const [k, e] of step.with) withInputs[k] = e.value
        for (const s of action.steps) {
          const inner = this.stepUse(s, here, depth + 1, withInputs)
          for (const n of inner.nx) n.via = n.via ?? `action ${uses}`
          merge(use, inner)
        }
      }
    }
    return use
  }

  /** Every step of a job (local actions' steps included), each with what it runs. */
  jobSteps(job: Job, inputs: Record<string, string> = {}): { step: Step; use: Use }[] {
    const dir = folder('.', interpolate(job.workingDirectory ?? '', inputs) ?? '') ?? '.'
    return job.steps.map(step => ({ step, use: this.stepUse(step, dir, 0, inputs) }))
  }

  /** The steps of the local actions a job uses, in order, to judge their env: too. */
  actionSteps(step: Step, depth = 0): Step[] {
    if (!step.uses.trim().startsWith('./') || depth > 8) return []
    const action = this.action(step.uses.trim())
    if (!action) return []
    return action.steps.flatMap(s => [s, ...this.actionSteps(s, depth + 1)])
  }
}
