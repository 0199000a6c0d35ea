import { request as httpRequest } from 'node:http'
import WebSocket from 'ws'

export interface Closed { code: number, reason: string }

export interface LiveSocket {
  ws: WebSocket
  /** Every message the server sent, parsed. */
  messages: Array<Record<string, unknown>>
  closed: Promise<Closed>
  /** The next message of this type. */
  next (type: string): Promise<Record<string, unknown>>
}

/** A real WebSocket client on GET /ws, the access token in the Authorization header; resolves once the server said hello. */
export function openSocket (base: string, token: string): Promise<LiveSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws`, { headers: { authorization: `Bearer ${token}` } })
    const messages: Array<Record<string, unknown>> = []
    const waiting: Array<{ type: string, resolve: (message: Record<string, unknown>) => void }> = []
    const closed = new Promise<Closed>((resolve) => {
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }))
    })
    const socket: LiveSocket = {
      ws,
      messages,
      closed,
      next: (type) => new Promise((resolve) => { waiting.push({ type, resolve }) })
    }
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as Record<string, unknown>
      messages.push(message)
      if (message.type === 'hello') resolve(socket)
      const index = waiting.findIndex((waiter) => waiter.type === message.type)
      if (index >= 0) waiting.splice(index, 1)[0]?.resolve(message)
    })
    ws.on('unexpected-response', (_request, response) => reject(new Error(`GET /ws answered ${response.statusCode}`)))
    ws.on('error', reject)
  })
}

export interface LiveEvents {
  /** The event names received so far. */
  events: string[]
  /** Resolves with every event name once the server ends the stream. */
  ended: Promise<string[]>
  readonly done: boolean
  abort (): void
}

/** A streaming HTTP reader of GET /events (server-sent events); resolves once the `hello` event arrived. */
export function openEvents (base: string, token: string): Promise<LiveEvents> {
  return new Promise((resolve, reject) => {
    const events: string[] = []
    let done = false
    let finish: (events: string[]) => void = () => {}
    const ended = new Promise<string[]>((resolve) => { finish = resolve })
    const request = httpRequest(`${base}/events`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } }, (response) => {
      if (response.statusCode !== 200) {
        response.resume()
        reject(new Error(`GET /events answered ${response.statusCode}`))
        return
      }
      let buffer = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => {
        buffer += chunk
        let end: number
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const name = /^event: (.+)$/m.exec(block)?.[1]
          if (name === undefined) continue
          events.push(name)
          if (name === 'hello') resolve(live)
        }
      })
      response.on('end', () => {
        done = true
        finish(events)
      })
      response.on('error', () => {})
    })
    const live: LiveEvents = { events, ended, get done () { return done }, abort: () => request.destroy() }
    request.on('error', (error) => { if (!done) reject(error) })
    request.end()
  })
}
