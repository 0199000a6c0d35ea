#!/usr/bin/env node
/* c8 ignore start: runs only as a child process (test/cli.test.ts spawns it); runCli holds all the logic and is tested in-process */
import { runCli } from './run.js'

process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env })
/* c8 ignore stop */
