// Packages the token step needs only on some runs, evaluated on first use rather than at start-up
// (the token step runs on every CI job; each of these costs ~2 ms to evaluate). ncc bundles a
// literal require('…') and runs the package's module only when it is called; jest's ESM loader has
// no `require`, so there Node's createRequire stands in.

import { createRequire } from 'node:module'
import type * as JsoncParser from 'jsonc-parser'
import type Picomatch from 'picomatch'

const nodeRequire = (name: string): unknown => createRequire(import.meta.url)(name)

/** For nx.json with comments or trailing commas: plain JSON never needs it. */
export function jsoncParser(): typeof JsoncParser {
  // A literal require() is what ncc bundles without evaluating it at start-up (see above).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (typeof require === 'function' ? require('jsonc-parser') : nodeRequire('jsonc-parser')) as typeof JsoncParser
}

/** For write-branches with glob characters: exact branch names never need it. */
export function picomatch(): typeof Picomatch {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (typeof require === 'function' ? require('picomatch') : nodeRequire('picomatch')) as typeof Picomatch
}
