#!/usr/bin/env node
import { cli } from './main.js'
import { processIo } from './common.js'

process.exitCode = await cli(process.argv.slice(2), processIo())
