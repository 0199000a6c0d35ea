// `node --import ./test/loader/register.mjs file.ts` runs a TypeScript file of this repository (see strip-types.mjs).
import { register } from 'node:module'

register('./strip-types.mjs', import.meta.url)
