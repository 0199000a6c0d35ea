/** What a server child tells the parent over IPC. */
export type ChildMessage =
  | { type: 'ready', port: number }
  /** The plugin refused the variant's options at register (mirror mode before it exists): not a failure of the run. */
  | { type: 'unavailable', reason: string }
  | { type: 'failed', error: string }
  /** Cumulative since the child started: the parent takes differences between two of them. */
  | { type: 'usage', cpuMicros: number, served: number }

/** What the parent asks of a server child. */
export type ParentMessage = { type: 'usage' } | { type: 'close' }
