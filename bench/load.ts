import autocannon from 'autocannon'
import { percentile } from './stats.js'

export interface LoadOptions {
  url: string
  /** Bearer tokens, one per request, cycled through by each connection. */
  tokens: string[]
  connections: number
  /** Seconds of measured load. */
  duration: number
  /** Requests per second in all, or undefined for as many as the server answers (saturation). */
  rate?: number | undefined
}

export interface LoadResult {
  requests: number
  seconds: number
  /** Milliseconds, to the microsecond: autocannon's own histogram keeps whole milliseconds only. */
  p50: number
  p99: number
  /** Non-2xx answers, errors and timeouts: a 503 is the plugin failing closed when Redis misses storeTimeout. */
  failed: number
}

async function fire (options: LoadOptions, limit: { duration: number } | { amount: number }, latencies?: number[]): Promise<autocannon.Result> {
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon({
      url: options.url,
      connections: options.connections,
      requests: options.tokens.map((token) => ({ method: 'GET', headers: { authorization: `Bearer ${token}` } })),
      // autocannon only stops at a sample tick: with its default of 1 s, a 0.5 s run would last a whole second.
      sampleInt: 100,
      ...(options.rate === undefined ? {} : { overallRate: options.rate }),
      ...limit
    }, (error: unknown, done) => { if (error === null || error === undefined) resolve(done); else reject(error) })
    // Every answer, a 503 too: a client waits for it all the same.
    if (latencies !== undefined) instance.on('response', (_client, _status, _bytes, ms) => { latencies.push(ms) })
  })
  return result
}

/** A quarter of the duration (a second at most) first: the JIT and the connections warm up outside the measured window. */
export async function warmUp (options: LoadOptions): Promise<void> {
  await fire(options, { duration: Math.min(1, options.duration / 4) })
}

/** Drives the server for `duration` seconds. */
export async function drive (options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = []
  const result = await fire(options, { duration: options.duration }, latencies)
  const sorted = Float64Array.from(latencies).sort()
  return {
    requests: result['2xx'],
    seconds: result.duration,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    failed: result.non2xx + result.errors + result.timeouts
  }
}
