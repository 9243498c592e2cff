// The command line: `explain` and `audit`. Returns the exit code: 0 clean, 1 findings at or above
// --fail-on (audit) or a run the action would fail (explain), 2 bad usage.

import { audit, AUDIT_USAGE } from './audit/command.js'
import { type Io, UsageError } from './common.js'
import { explain, EXPLAIN_USAGE } from './explain.js'

export const USAGE = `Usage: nx-cloud-access <command> [options]

Commands:
  explain   what would a run get (read-write, read-only or none), and why
  audit     is this repository set up safely? (nx.json and .github/workflows)

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
      case undefined:
        io.err(USAGE)
        return 2
      default:
        throw new UsageError(`Unknown command '${command}'. Accepted: explain, audit.`)
    }
  } catch (e) {
    // parseArgs reports unknown options and missing values with a code of its own.
    const code = (e as { code?: string }).code ?? ''
    if (e instanceof UsageError || code.startsWith('ERR_PARSE_ARGS')) {
      io.err(`nx-cloud-access: ${(e as Error).message}\n`)
      if (command === 'explain' || command === 'audit') {
        io.err(`Run 'nx-cloud-access ${command} --help' for its options.\n`)
      }
      return 2
    }
    throw e
  }
}

export { AUDIT_USAGE, EXPLAIN_USAGE }
