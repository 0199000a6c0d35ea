import type { FastifyInstance } from 'fastify'
import { DecoratorExistsError } from './errors.js'

/** The decorators an app may rename or skip with the `decorators` option (for one of its own, or another plugin's). */
export type RenamableDecorator = 'authenticate' | 'revoke' | 'revokeSubject' | 'revokeSession' | 'isRevoked' | 'revokeToken'

/** The `decorators` option: a decorator's name, or false to leave it out. */
export type DecoratorNames = Partial<Record<RenamableDecorator, string | false>>

type Decorator = RenamableDecorator | 'jwtRevoke'

const ORDER: Decorator[] = ['jwtRevoke', 'authenticate', 'revoke', 'revokeSubject', 'revokeSession', 'isRevoked', 'revokeToken']

/** Adds one of the plugin's decorators under the name the app chose, or not at all when it chose false. */
export type Decorate = (decorator: Decorator, value: unknown) => void

function isTaken (fastify: FastifyInstance, decorator: Decorator, name: string): boolean {
  return decorator === 'revokeToken' ? fastify.hasRequestDecorator(name) : fastify.hasDecorator(name)
}

function takenError (decorator: Decorator, name: string): Error {
  // jwtRevoke holds the plugin's store and stats for the context: it cannot move, and a second one means a second plugin.
  if (decorator === 'jwtRevoke') return new DecoratorExistsError('jwtRevoke', 'fastify-jwt-revoke is registered once per context (its child contexts share it)')
  const where = decorator === 'revokeToken' ? 'request' : 'instance'
  return new DecoratorExistsError(name, `to keep the existing ${where} decorator, give the plugin's ${decorator} another name ({ decorators: { ${decorator}: 'otherName' } }) or leave it out ({ decorators: { ${decorator}: false } })`)
}

/**
 * Checks every name the plugin is about to decorate with before it adds any: an app that already has an
 * `authenticate` (the pattern @fastify/jwt's README teaches) gets an error naming the option, and nothing is changed,
 * instead of Fastify's FST_ERR_DEC_ALREADY_PRESENT halfway through the registration.
 */
export function claimDecorators (fastify: FastifyInstance, names: DecoratorNames): Decorate {
  const chosen = new Map<Decorator, string>()
  for (const decorator of ORDER) {
    const name = decorator === 'jwtRevoke' ? decorator : names[decorator] ?? decorator
    if (name === false) continue
    const clash = [...chosen].some(([other, otherName]) => otherName === name && (other === 'revokeToken') === (decorator === 'revokeToken'))
    if (clash || isTaken(fastify, decorator, name)) throw takenError(decorator, name)
    chosen.set(decorator, name)
  }
  return (decorator, value) => {
    const name = chosen.get(decorator)
    if (name === undefined) return
    if (decorator === 'revokeToken') fastify.decorateRequest(name, value)
    else fastify.decorate(name, value)
  }
}
