#!/usr/bin/env node
import { runCli } from './run.js'

const code = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr })
// Worker pools (KSG) and runtimes may hold the event loop open; the exit code is final here.
process.stdout.write('', () => process.exit(code))
