#!/usr/bin/env node
// The CLI's command: the built code in the published package, the TypeScript source in a clone (run through tsx, a
// devDependency), so that `npx fastify-jwt-revoke ...` works in both without a build step. Nothing else lives here.
import { existsSync } from 'node:fs'

const source = new URL('../lib/cli/bin.ts', import.meta.url)
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api')
  register()
  await import(source.href)
} else {
  await import(new URL('../dist/lib/cli/bin.js', import.meta.url).href)
}
