import { readFileSync } from 'node:fs'

/** The package's version, from its package.json: two levels up in a clone (lib/cli), three in the package (dist/lib/cli). */
export function packageVersion (): string {
  for (const path of ['../../package.json', '../../../package.json']) {
    try {
      const manifest = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as { name?: unknown, version?: unknown }
      if (manifest.name === 'fastify-jwt-revoke' && typeof manifest.version === 'string') return manifest.version
    /* c8 ignore next 2: from dist/lib/cli, the first path is dist/package.json, which does not exist */
    } catch {}
  }
  /* c8 ignore next: both paths are tried from lib/cli and from dist/lib/cli; a file moved elsewhere says so */
  return 'unknown (package.json not found)'
}
