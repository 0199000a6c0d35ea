import type { JWT } from '@fastify/jwt'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { UnsupportedSetupError } from './errors.js'

/** @fastify/jwt's request.jwtVerify (or a namespace's), in both its forms: with a callback, or answering a promise. */
export type RequestVerify = (this: FastifyRequest, options?: unknown, next?: VerifyCallback) => Promise<unknown> | undefined
export type VerifyCallback = (error: Error | null, user?: unknown) => void

/** One @fastify/jwt registration: its decorator (app.jwt or app.jwt.<namespace>) and its request.*Verify method. */
export interface JwtVerifier {
  /** undefined for the registration without a namespace. */
  namespace: string | undefined
  jwt: JWT
  method: string
}

/** Marks the request methods this plugin has guarded, and keeps the method it wraps. */
export const kGuarded = Symbol('fastify-jwt-revoke.guarded')

export type Prototype = Record<PropertyKey, unknown>

function isJwtDecorator (value: unknown): value is JWT {
  const { verify, lookupToken } = (value ?? {}) as Partial<JWT>
  return typeof verify === 'function' && typeof lookupToken === 'function'
}

/** app.jwt, and every namespace's app.jwt.<namespace>, in the order they were registered. */
function jwtDecorators (fastify: FastifyInstance): Array<{ namespace: string | undefined, jwt: JWT }> {
  const root: unknown = fastify.jwt
  const found: Array<{ namespace: string | undefined, jwt: JWT }> = isJwtDecorator(root) ? [{ namespace: undefined, jwt: root }] : []
  for (const [namespace, jwt] of Object.entries(root as object)) {
    if (isJwtDecorator(jwt)) found.push({ namespace, jwt })
  }
  return found
}

/**
 * The prototype of the requests of this plugin's context: @fastify/jwt decorates it (or an ancestor's) with its
 * request methods, and every route of this context and its children, registered before or after the plugin, makes
 * its requests from it or from a prototype that inherits from it. Fastify keeps it under a symbol it does not export.
 */
export function requestPrototype (fastify: FastifyInstance): Prototype {
  const symbol = Object.getOwnPropertySymbols(fastify).find((s) => s.description === 'fastify.Request')
  /* c8 ignore next: every Fastify 5 release sets it on each context; a future one that does not must fail loudly here */
  if (symbol === undefined) throw new UnsupportedSetupError('this Fastify version keeps no request prototype the plugin can find')
  return ((fastify as unknown as Record<symbol, { prototype: Prototype }>)[symbol] as { prototype: Prototype }).prototype
}

function isVerifyMethod (value: unknown): value is RequestVerify {
  return typeof value === 'function' && (value.name === 'requestVerify' || kGuarded in value)
}

/** The names of the request methods @fastify/jwt added, outermost context first, each in the order it was added. */
function verifyMethods (prototype: Prototype): string[] {
  // Read through descriptors: a request getter (ip, host) must not run on the prototype itself.
  const levels: Prototype[] = []
  for (let level: Prototype | null = prototype; level !== null; level = Object.getPrototypeOf(level) as Prototype | null) levels.unshift(level)
  const names = levels.flatMap((level) => Object.getOwnPropertyNames(level).filter((name) => isVerifyMethod(Object.getOwnPropertyDescriptor(level, name)?.value)))
  return [...new Set(names)]
}

/**
 * Pairs every @fastify/jwt registration with its request method. A method keeps its default name (`jwtVerify`,
 * `<namespace>JwtVerify`) unless the app renamed it with @fastify/jwt's `jwtVerify` option; renamed ones are paired in
 * the order they were registered, the order @fastify/jwt adds both in.
 */
export function jwtVerifiers (fastify: FastifyInstance, prototype: Prototype): JwtVerifier[] {
  const decorators = jwtDecorators(fastify)
  const unclaimed = verifyMethods(prototype)
  const defaultName = (namespace: string | undefined): string => namespace === undefined ? 'jwtVerify' : `${namespace}JwtVerify`
  const byDefaultName = decorators.map(({ namespace }) => {
    const name = defaultName(namespace)
    const at = unclaimed.indexOf(name)
    if (at >= 0) unclaimed.splice(at, 1)
    return at >= 0 ? name : undefined
  })
  const renamed = byDefaultName.filter((name) => name === undefined).length
  if (renamed !== unclaimed.length) {
    throw new UnsupportedSetupError(`@fastify/jwt has ${decorators.length} registration(s) but the request has verify methods ${JSON.stringify(verifyMethods(prototype))}`)
  }
  return decorators.map(({ namespace, jwt }, index) => ({ namespace, jwt, method: byDefaultName[index] ?? unclaimed.shift() as string }))
}
