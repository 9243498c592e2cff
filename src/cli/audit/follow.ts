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
  /**
   * The file nx.json's `extends` names, as Nx resolves it from the workspace folder `dir`, relative
   * to the root; null when it does not resolve or leaves the repository. Absent: not followed.
   */
  resolveExtends?(spec: string, dir: string): string | null
}

// `nx …`, `nx-cloud …`, `npx [-y] nx@21 …`, `pnpm [exec|dlx] nx`, `yarn nx`, `npm exec [--] nx`, `node_modules/.bin/nx`,
// and `./nx`, the wrapper `nx init` commits in a repository without package.json.
// An npx flag stops at a shell separator: were it `-\S+`, a flag list could run across the next
// `;npx`, and every npx of a hostile line would rescan the rest of it (quadratic).
const NX_COMMAND =
  /(?:^|[\s;&|(`])(?:(?:npx|pnpx|bunx)\s+(?:-[^\s;&|()`]+\s+)*|(?:pnpm|yarn|bun)\s+(?:exec\s+|dlx\s+)?|npm\s+exec\s+(?:--\s+)?|(?:\.\/)?node_modules\/\.bin\/|\.\/)?nx(?:-cloud)?(?:@\S+)?(?=$|[\s;&|)`])/

/** A script's commands: lines continued with a trailing backslash are one command. */
export function commandLines(run: string): string[] {
  return run.replace(/\\\r?\n/g, ' ').split('\n')
}

/**
 * A line with quoted text blanked (a commit message that mentions `nx migrate` runs no Nx) and its
 * comment cut. A quoted variable (`"$TARGET"`) keeps its text. One pass: an unclosed quote ends the
 * scan with the rest of the line as it is, so a line of unclosed quotes is not rescanned from each.
 */
function unquote(line: string): string {
  if (!/["'#]/.test(line)) return line
  let out = ''
  let i = 0
  while (i < line.length) {
    const c = line[i]
    if (c === '#' && (i === 0 || /\s/.test(line[i - 1]))) return out
    if (c !== '"' && c !== "'") {
      out += c
      i++
      continue
    }
    let j = i + 1
    while (j < line.length && line[j] !== c) j += c === '"' && line[j] === '\\' ? 2 : 1
    if (j >= line.length) return out + line.slice(i)
    const quoted = line.slice(i, j + 1)
    out += /^["']\$\{?[A-Za-z_]/.test(quoted) ? quoted.slice(1, -1) : '""'
    i = j + 1
  }
  return out
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
const NPM_SCRIPT_ALIASES: Record<string, string> = {
  test: 'test',
  t: 'test',
  tst: 'test',
  start: 'start',
  stop: 'stop',
  restart: 'restart'
}

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
// Each test is linear: no `.*` between two words (a hostile line of `gcloud gcloud …` would make
// such a regex rescan the rest of the line from every match).
const DEPLOY_COMMANDS: [(c: string, words: string[]) => boolean, string][] = [
  [c => /^(?:npm|pnpm|yarn(?:\s+npm)?|bun)\s+(?:-[^\s]+\s+)*publish\b/.test(c), 'publishes to a registry'],
  [c => /\bchangesets?\s+publish\b/.test(c), 'runs changeset publish'],
  [c => /\bsemantic-release\b/.test(c), 'runs semantic-release'],
  [
    c => /\bdocker\s+(?:image\s+)?push\b/.test(c) || (/\bdocker\s+buildx\s+build\b/.test(c) && /\s--push\b/.test(c)),
    'pushes a container image'
  ],
  [c => /\b(?:vsce|ovsx)\s+publish\b/.test(c), 'publishes an editor extension'],
  [
    (c, w) =>
      /\bnx\s+(?:run\s+[^\s:]+:)?(?:deploy|publish)\b/.test(c) ||
      (/\bnx\s+(?:run-many|affected)\b/.test(c) && nxTargets(w).some(t => t === 'deploy' || t === 'publish')),
    'runs an Nx deploy target'
  ],
  [
    c =>
      /\b(?:firebase\s+deploy|netlify\s+deploy|vercel\s+(?:deploy|--prod)|wrangler\s+(?:deploy|publish|pages\s+deploy)|fly(?:ctl)?\s+deploy|gh-pages|kubectl\s+(?:apply|rollout|set\s+image)|helm\s+(?:upgrade|install)|aws\s+(?:s3\s+(?:sync|cp)|ecs|lambda|cloudformation|deploy)|surge)\b/.test(
        c
      ) ||
      ((/\bgcloud\s/.test(c) || /\baz\s/.test(c)) && /\b(?:deploy|upload)\b/.test(c)),
    'deploys with a cloud CLI'
  ],
  [(_c, w) => deployScript(w), 'runs a deploy script']
]

/** The targets of `nx run-many|affected -t a,b --targets=c`. */
function nxTargets(words: string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < words.length; i++) {
    const m = /^(?:-t|--targets?)(?:=(.*))?$/.exec(words[i])
    if (!m) continue
    const list = m[1] ?? words[i + 1] ?? ''
    out.push(...list.split(','))
  }
  return out
}

/** `./deploy.sh`, `scripts/publish.mjs`, `node tools/release.js`, `ts-node tools/publish-builds`. */
function deployScript(words: string[]): boolean {
  const base = (w: string | undefined): string => (w ?? '').slice((w ?? '').lastIndexOf('/') + 1)
  const named = (b: string): boolean => /^(?:deploy|publish|release)(?:[\w-]*)?(?:\.[\w.-]*)?$/.test(b)
  if (/\//.test(words[0] ?? '') || /\.(?:sh|js|mjs|cjs|ts|mts|py)$/.test(words[0] ?? '')) {
    const b = base(words[0])
    if (/^(?:deploy|publish|release)[\w.-]*\.(?:sh|js|mjs|cjs|ts|mts|py)$/.test(b)) return true
  }
  const i = words[0] === 'npx' ? 1 : 0
  return /^(?:node|tsx|ts-node|bash|sh|python3?)$/.test(words[i] ?? '') && named(base(words[i + 1]))
}

/**
 * Actions that ship what the job built, as data: matched by the end of the action's repository name, whatever its owner
 * (a fork or a renamed copy of a known action ships the same way), each with why it is here and,
 * for an action that ships only with some inputs, what decides it.
 */
export const DEPLOY_ACTIONS: { name: RegExp; why: string; when?: (step: Step) => boolean; reason: string }[] = [
  { name: /\/deploy-pages$/i, why: 'deploys GitHub Pages', reason: 'actions/deploy-pages publishes the uploaded Pages artifact' },
  {
    name: /\/(?:actions-gh-pages|github-pages-deploy-action|gh-pages(?:-action)?|ghaction-github-pages)$/i,
    why: 'deploys GitHub Pages',
    reason: 'pushes a folder to the gh-pages branch, which GitHub Pages serves'
  },
  {
    name: /\/github-push-action$/i,
    why: 'pushes a built folder to a Pages branch',
    when: s => /pages|deploy|dist|site|docs/i.test(s.with.get('branch')?.value ?? ''),
    reason: 'ad-m/github-push-action and its copies push commits to a branch; to gh-pages (or a deploy branch) that is a deploy'
  },
  { name: /\/npm-publish$/i, why: 'publishes to a registry', reason: 'JS-DevTools/npm-publish and its copies run npm publish' },
  {
    name: /\/(?:wrangler-action|pages-action|vercel-action|actions-netlify|netlify-actions?|webapps-deploy|static-web-apps-deploy|functions-action|amazon-ecs-deploy-task-definition|deploy-[\w-]+|action-hosting-deploy|firebase-action)$/i,
    why: 'deploys with a deploy action',
    reason: "hosting providers' deploy actions upload the built site or app"
  },
  {
    name: /\/build-push-action$/i,
    why: 'pushes a container image',
    when: s => truthyInput(s, 'push'),
    reason: 'docker/build-push-action (and copies) push the image when push: is true, or an expression that is on some runs'
  },
  {
    name: /changesets?[-_/]action$/i,
    why: 'publishes with a changesets action',
    when: s => (s.with.get('publish')?.value ?? '').trim() !== '',
    reason: 'changesets/action (and forks such as dotansimha/changesets-action) run their publish: input, which publishes'
  }
]

/** An input that is `true`, or an expression that may be (push: ${{ github.ref == 'refs/heads/main' }}). */
function truthyInput(step: Step, name: string): boolean {
  const v = (step.with.get(name)?.value ?? '').trim()
  return /^true$/i.test(v) || v.includes('${{')
}

/** The inputs of an action that are commands it runs (changesets' publish:). */
function commandInputs(step: Step): string[] {
  if (!/changesets?[-_/]action$/i.test(actionName(step.uses))) return []
  const publish = step.with.get('publish')?.value ?? ''
  return publish.trim() === '' ? [] : [publish]
}

/** An action's repository without its ref and path: `ad-m/github-push-action@v1` → ad-m/github-push-action. */
function actionName(uses: string): string {
  return uses.trim().split('@', 1)[0].split('/').slice(0, 2).join('/')
}

/** Words without which no command deploys: most commands are ruled out by this one test. */
const DEPLOY_WORDS = /publish|release|deploy|push|gh-pages|kubectl|helm|aws|gcloud|\baz\b|surge|upload|vercel|\bfly/

export function deployCommand(command: string): string | null {
  const c = command.trim()
  if (!DEPLOY_WORDS.test(c)) return null
  if (/\bpkg-pr-new\b/.test(c)) return null
  // A rehearsal ships nothing: --dry-run (npm, pnpm, yarn, changeset, nx release).
  if (/\s--dry-run(?:=true)?(?=$|\s)/.test(c)) return null
  // `nx release` and `nx release publish` publish; `nx release version|changelog|plan` do not.
  const release = /\bnx\s+release\b(.*)$/.exec(c)
  if (release && !/^\s*(?:version|changelog|plan)\b/.test(release[1]) && !/\s--skip-publish\b/.test(release[1])) return 'runs nx release'
  const words = c.split(/\s+/)
  for (const [test, why] of DEPLOY_COMMANDS) if (test(c, words)) return why
  return null
}

function deployAction(step: Step): string | null {
  const uses = step.uses.trim()
  if (uses === '' || uses.startsWith('./') || uses.startsWith('docker://')) return null
  const name = actionName(uses)
  for (const a of DEPLOY_ACTIONS) if (a.name.test(name) && (a.when?.(step) ?? true)) return a.why
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
  /** actions/cache entries it saves or restores (path and key), to follow a build handed over through a cache. */
  caches: string[]
}

const plain = (inputs: Record<string, string>): boolean => Object.keys(inputs).length === 0

const empty = (): Use => ({ nx: [], deploys: [], uploads: [], downloads: [], caches: [] })

/**
 * Adds what `from` runs to `into`, each thing once: a script or local action called ten times at
 * each of eight levels (a hostile repository) then adds its few commands, not 10^8 copies of them.
 */
function merge(into: Use, from: Use): Use {
  const nxKey = (n: Use['nx'][number]): string => `${n.command}\u0000${n.dir}\u0000${n.via ?? ''}`
  const seen = new Set(into.nx.map(nxKey))
  for (const n of from.nx) {
    const key = nxKey(n)
    if (seen.has(key)) continue
    seen.add(key)
    into.nx.push({ ...n })
  }
  for (const list of ['deploys', 'uploads', 'downloads', 'caches'] as const) {
    const have = new Set(into[list])
    for (const x of from[list]) {
      if (have.has(x)) continue
      have.add(x)
      into[list].push(x)
    }
  }
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

const RUN_CACHE_CHARS = 4 << 20

export class Follower {
  private scripts = new Map<string, { dir: string; scripts: Record<string, string> } | null>()
  private actions = new Map<string, Action | null>()
  /** What each script runs (by package folder and name), worked out once. */
  private scriptUses = new Map<string, Use>()
  /** What each step runs, by folder and inputs (a reusable workflow's, a local action's `with:`), worked out once. */
  private stepUses = new WeakMap<Step, Map<string, Use>>()
  /** The local actions being followed (by path): one that uses itself, directly or not, is not followed again. */
  private following = new Set<string>()
  /** Each local action's steps with those of the local actions they use, once each. */
  private nestedSteps = new Map<string, Step[]>()

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

  /** What each run: script runs in a folder (the same `pnpm install` in every job), worked out once. */
  private runUses = new Map<string, Use>()
  /** Characters of run: text the cache holds: it starts over past RUN_CACHE_CHARS, so it cannot grow with the number of files. */
  private runChars = 0

  /** The commands of a run: script, followed into package.json scripts. */
  runUse(run: string, dir: string, depth = 0, via: string | null = null, seen: Set<string> = new Set()): Use {
    if (depth > 0 || via !== null) return this.workRunUse(run, dir, depth, via, seen)
    const key = `${dir}\u0000${run}`
    const known = this.runUses.get(key)
    if (known) return known
    const use = this.workRunUse(run, dir, depth, via, seen)
    if (this.runChars + key.length > RUN_CACHE_CHARS) {
      this.runUses.clear()
      this.runChars = 0
    }
    this.runUses.set(key, use)
    this.runChars += key.length
    return use
  }

  private workRunUse(run: string, dir: string, depth: number, via: string | null, seen: Set<string>): Use {
    const use = empty()
    let cwd = dir
    for (const raw of commandLines(run)) {
      const line = unquote(raw)
      for (const part of line.split(/&&|\|\||;|\|/)) {
        const command = part
          .trim()
          .replace(/^(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)+/, '')
          .replace(/^(?:sudo|time|exec|env)\s+/, '')
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
        let inner = this.scriptUses.get(key)
        if (!inner) {
          inner = this.runUse(body, pkg.dir, depth + 1, null, new Set([...seen, key]))
          this.scriptUses.set(key, inner)
        }
        // Words after the script name reach its commands (`pnpm run build --skip-nx-cache`).
        merge(use, {
          ...inner,
          nx: inner.nx.map(n => ({
            command: call.rest === '' ? n.command : `${n.command} ${call.rest}`,
            dir: n.dir,
            via: via ?? call.name
          }))
        })
      }
    }
    return use
  }

  /** A step: its run: script, or the local action it uses; `inputs` are a reusable workflow's. */
  stepUse(step: Step, dir: string, depth = 0, inputs: Record<string, string> = {}): Use {
    const key = plain(inputs) ? dir : `${dir}\u0000${JSON.stringify(Object.entries(inputs).sort())}`
    const known = this.stepUses.get(step)?.get(key)
    if (known) return known
    const use = this.workStepUse(step, dir, depth, inputs)
    const byKey = this.stepUses.get(step) ?? new Map<string, Use>()
    byKey.set(key, use)
    this.stepUses.set(step, byKey)
    return use
  }

  private workStepUse(step: Step, dir: string, depth: number, inputs: Record<string, string>): Use {
    const here = folder(dir, interpolate(step.workingDirectory ?? '', inputs) ?? '') ?? dir
    const use = empty()
    const run = plain(inputs) ? step.run : (interpolate(step.run, inputs) ?? step.run)
    if (run.trim() !== '') merge(use, this.runUse(run, here))
    const deploy = deployAction(step)
    if (deploy) use.deploys.push(deploy)
    // An action input that is a command (changesets' publish:) runs as a run: script would.
    for (const command of commandInputs(step)) merge(use, this.runUse(command, here))
    const uses = step.uses.trim()
    if (/^actions\/cache(?:\/(?:save|restore))?@/i.test(uses)) {
      const path = (step.with.get('path')?.value ?? '').trim()
      // A cache of dependencies or tools hands over no build.
      if (path !== '' && !/node_modules|\.npm\b|pnpm|yarn|\.cache\/|ms-playwright|Cypress|pip|\.gradle|\.m2|NODE_MODULES/i.test(path))
        use.caches.push(`${path}\u0000${step.with.get('key')?.value ?? ''}`)
    }
    if (/^actions\/upload-(?:pages-)?artifact@/i.test(uses)) use.uploads.push(step.with.get('name')?.value || '*')
    if (/^actions\/download-artifact@/i.test(uses)) use.downloads.push(step.with.get('name')?.value || '*')
    const path = uses.startsWith('./') && depth < 8 ? folder('.', uses.slice(2)) : null
    const action = path !== null && !this.following.has(path) ? this.action(uses) : null
    if (path !== null && action) {
      const withInputs: Record<string, string> = {}
      for (const [k, e] of step.with) withInputs[k] = e.value
      this.following.add(path)
      try {
        for (const s of action.steps) {
          const inner = this.stepUse(s, here, depth + 1, withInputs)
          merge(use, { ...inner, nx: inner.nx.map(n => ({ ...n, via: n.via ?? `action ${uses}` })) })
        }
      } finally {
        this.following.delete(path)
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
  actionSteps(step: Step): Step[] {
    const uses = step.uses.trim()
    const path = uses.startsWith('./') ? folder('.', uses.slice(2)) : null
    if (path === null) return []
    const known = this.nestedSteps.get(path)
    if (known) return known
    const action = this.following.has(path) ? null : this.action(uses)
    if (!action) return []
    this.following.add(path)
    const steps = new Set<Step>()
    try {
      for (const s of action.steps) {
        steps.add(s)
        for (const inner of this.actionSteps(s)) steps.add(inner)
      }
    } finally {
      this.following.delete(path)
    }
    const list = [...steps]
    this.nestedSteps.set(path, list)
    return list
  }
}
