// The example app's suites, in one process. Each is a module of its own under test/example/, but as test files of
// their own each spent most of its time loading the app (Fastify, Swagger, the rate limiter, argon2) and tap's
// machinery: about 2.5 CPU-seconds apiece, nine times over, on a two-core machine that runs the whole suite.
// The example's server process is tested apart (test/example/server.test.ts): it starts processes, not an app.
import t from 'tap'

// The nine suites one after the other; tap's 30 s per file is for one suite.
t.setTimeout(240_000)

await import('./example/admin.js')
await import('./example/flow.js')
await import('./example/http.js')
await import('./example/instances.js')
await import('./example/oauth.js')
await import('./example/rate-limit.js')
await import('./example/refresh.js')
await import('./example/sessions.js')
await import('./example/validation.js')
