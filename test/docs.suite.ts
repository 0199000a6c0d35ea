// The documents a user reads: every relative link of README.md, docs/*.md, CONTRIBUTING.md and the examples' READMEs
// leads to a file this repository holds (not one git ignores, such as the generated api-docs/), and an #anchor to a
// heading of that page; the README's Quick start is examples/basic.ts as it is (which test/example/server.test.ts runs
// and `npm run typecheck` compiles); the README stays short and speaks of the project, not of its history.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import t from 'tap'

const root = join(import.meta.dirname, '..')
const read = (file: string): string => readFileSync(join(root, file), 'utf8')

const pages = [
  'README.md', 'CONTRIBUTING.md', 'CHANGELOG.md', 'examples/auth-server/README.md',
  ...readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)
]

/** The text outside fenced code blocks and HTML comments, where a `[x](y)` is a link. */
function prose (markdown: string): string {
  return markdown.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '').replace(/<!--[\s\S]*?-->/g, '')
}

/** GitHub's anchor of each heading: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
function anchors (markdown: string): Set<string> {
  const seen = new Map<string, number>()
  const result = new Set<string>()
  for (const [, heading] of prose(markdown).matchAll(/^#{1,6} (.+)$/gm)) {
    const base = (heading as string).toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').trim().replace(/\s/g, '-')
    const count = seen.get(base) ?? 0
    seen.set(base, count + 1)
    result.add(count === 0 ? base : `${base}-${count}`)
  }
  return result
}

/** The paths git ignores, of those given: one `git check-ignore` for all (it exits 1 when it ignores none). */
function ignoredByGit (paths: string[]): Set<string> {
  try {
    // Outside a git checkout (the peer matrix's copy) git says so on stderr and exits 128: nothing is ignored there.
    return new Set(execFileSync('git', ['check-ignore', '--stdin'], { cwd: root, input: paths.join('\n'), encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'] }).split('\n'))
  } catch {
    return new Set()
  }
}

t.test('every relative link of the documents resolves to a file of the repository, and every anchor to a heading', async (t) => {
  const targets: string[] = []
  for (const page of pages) {
    for (const [, target] of prose(read(page)).matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/i.test(target as string)) continue
      const [path = '', anchor] = (target as string).split('#')
      const file = path === '' ? page : relative(root, join(root, dirname(page), path))
      targets.push(`${page}: ${target as string} (${file})`)
      if (!existsSync(join(root, file)) || file.startsWith('..')) {
        t.fail(`${page}: ${target} leads nowhere (${file})`)
        continue
      }
      if (anchor !== undefined) {
        t.ok(file.endsWith('.md') && anchors(read(file)).has(anchor), `${page}: ${target}: ${file} has a heading #${anchor}`)
      }
    }
  }
  const files = targets.map((link) => /\((.+)\)$/.exec(link)?.[1] ?? '')
  const ignored = ignoredByGit(files)
  t.same(targets.filter((_, i) => ignored.has(files[i] ?? '')), [], 'no link leads to a file git ignores')
  t.ok(targets.length > 30, `${targets.length} links checked`)
})

t.test('the README\'s Quick start is examples/basic.ts, as it is', async (t) => {
  const readme = read('README.md')
  const quickStart = readme.slice(readme.indexOf('## Quick start'))
  const code = /```ts\n([\s\S]*?)\n```/.exec(quickStart)?.[1]
  t.equal(code, read('examples/basic.ts').trimEnd())
})

t.test('the README is for users: short, no issue numbers, commit hashes or plans', async (t) => {
  const readme = read('README.md')
  t.ok(readme.split('\n').length <= 400, `${readme.split('\n').length} lines`)
  t.notMatch(readme, /\bissues? \d/i)
  t.notMatch(readme, /house plan/i)
  t.same(readme.match(/\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{7,40}\b/g), null, 'no commit hash')
})

t.test('CHANGELOG.md has one Unreleased section', async (t) => {
  t.equal(read('CHANGELOG.md').match(/^## .*unreleased/gim)?.length, 1)
})
