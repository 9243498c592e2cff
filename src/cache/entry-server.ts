import { runServer } from './server-main.js'

await runServer()
