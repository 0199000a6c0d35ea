#!/usr/bin/env node
// `npm test`'s pretest step: the tests start their own redis-server processes (and redis-cli for the cluster tests), so
// both must be on PATH before the first test. When one is missing and this is root on a system with apt-get (a fresh
// Debian machine), it installs Debian's packages; anywhere else it stops at once with one line saying how to install
// them here. It finds the programs on PATH only, as the tests do.
import { execFileSync } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

/** The Debian package that ships each program the tests run. */
const packages = { 'redis-server': 'redis-server', 'redis-cli': 'redis-tools' }

function onPath (program) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue
    try {
      accessSync(join(dir, program), constants.X_OK)
      return true
    } catch {}
  }
  return false
}

const missing = () => Object.keys(packages).filter((program) => !onPath(program))

function howToInstall (programs) {
  const names = programs.join(' and ')
  const debian = [...new Set(programs.map((program) => packages[program]))].join(' ')
  if (onPath('apt-get')) return `${names} not found on PATH: install them with \`sudo apt-get install -y ${debian}\`, then run npm test again`
  if (process.platform === 'darwin') return `${names} not found on PATH: install them with \`brew install redis\`, then run npm test again`
  return `${names} not found on PATH: install Redis (the redis-server and redis-cli programs) with this system's package manager, then run npm test again`
}

const absent = missing()
if (absent.length > 0) {
  const root = process.getuid?.() === 0
  if (!root || !onPath('apt-get')) {
    console.error(howToInstall(absent))
    process.exit(1)
  }
  const debian = [...new Set(absent.map((program) => packages[program]))]
  console.log(`${absent.join(' and ')} not found on PATH: installing Debian's ${debian.join(' ')} (apt-get)`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...debian], { stdio: 'inherit', env })
  } catch {
    console.error(`apt-get could not install ${debian.join(' ')} (its output is above)`)
    process.exit(1)
  }
  const still = missing()
  if (still.length > 0) {
    console.error(`installed ${debian.join(' ')}, but ${still.join(' and ')} is still not on PATH`)
    process.exit(1)
  }
}
