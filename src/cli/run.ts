// The command line: `explain` and `audit`. Returns the exit code: 0 clean, 1 findings at or above
// --fail-on (audit) or a run the action would fail (explain), 2 bad usage, 3 an internal error (a bug).

import { audit, AUDIT_USAGE } from './audit/command.js'
import { type Io, UsageError } from './common.js'
import { explain, EXPLAIN_USAGE } from './explain.js'
import { flagError, suggestion } from './flags.js'

/**
 * The package version. scripts/bundle.mjs writes package.json's version into the bundle in place
 * of this placeholder (and fails if it is not there), so `npx nx-cloud-access --version` needs no
 * package.json at run time. Run from the sources, it prints the placeholder.
 */
const VERSION: string = '0.0.0-nx-cloud-access-source'

const USAGE = `Usage: nx-cloud-access <command> [options]

Commands:
  explain   what would a run get (read-write, read-only or none), and why
  audit     is this repository set up safely? (nx.json and .github/workflows)

Options:
  -h, --help      print this help
  -v, --version   print the version of nx-cloud-access

Run 'nx-cloud-access <command> --help' for a command's options.
`

export async function run(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv
  try {
    switch (command) {
      case 'explain':
        return await explain(rest, io)
      case 'audit':
        return await audit(rest, io)
      case '--help':
      case '-h':
      case 'help':
        io.out(USAGE)
        return 0
      case '--version':
      case '-v':
      case 'version':
        io.out(`${VERSION}\n`)
        return 0
      case undefined:
        io.err(USAGE)
        return 2
      default:
        throw new UsageError(`Unknown command '${command}'${suggestion(command, ['explain', 'audit', '--help', '--version'])}`)
    }
  } catch (caught) {
    // parseArgs reports unknown flags and missing values in its own words: said again in the command's.
    const usage = command === 'explain' ? EXPLAIN_USAGE : command === 'audit' ? AUDIT_USAGE : USAGE
    const e = flagError(caught, command ?? 'nx-cloud-access', usage) ?? caught
    if (e instanceof UsageError) {
      io.err(`nx-cloud-access: ${e.message}\n`)
      if (command === 'explain' || command === 'audit') {
        io.err(`Run 'nx-cloud-access ${command} --help' for its options.\n`)
      }
      return 2
    }
    // Anything else is a bug of ours: one line, not a stack trace through the minified bundle.
    io.err(`nx-cloud-access: internal error: ${e instanceof Error ? e.message : String(e)}\n`)
    io.err(`This is a bug in nx-cloud-access ${VERSION}; please report it with the command you ran: ${ISSUES}\n`)
    return 3
  }
}

const ISSUES = 'https://github.com/nx-cloud-access/nx-cloud-access/issues'

export { AUDIT_USAGE, EXPLAIN_USAGE }
