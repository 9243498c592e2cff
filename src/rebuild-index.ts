import { runRebuildCheck } from './rebuild.js'

await runRebuildCheck()
