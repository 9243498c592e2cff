import { run } from './run.js'

await run()
// Saves still in flight when post reached its time limit are not waited for: post has reported
// them as not saved, and ends here.
process.exit()
