// Event-loop stalls, told apart by whether this process ran through them. A timer that should fire every millisecond
// and fires late saw a stall; the process's CPU time over that gap (all its threads: the collector's helpers count)
// says whose it was. Running for at least half of it: this process's own work (code or garbage collection).
// Running less: the process was not scheduled (on 2 cores shared with a busy redis-server, another task had them).

/** A gap past this is a stall. */
const STALL_MS = 10

export interface Stalls {
  /** The longest stall of this process's own work, in ms (0 when none passed STALL_MS). */
  ownMs: number
  /** The longest stall during which this process mostly did not run, in ms. */
  descheduledMs: number
  /** The longest of any kind, as monitorEventLoopDelay would see it. */
  longestMs: number
}

/** Starts watching; the function it answers stops and tells the longest stalls of each kind. */
export function watchStalls (): () => Stalls {
  const stalls: Stalls = { ownMs: 0, descheduledMs: 0, longestMs: 0 }
  let last = performance.now()
  let lastCpu = process.cpuUsage()
  const timer = setInterval(() => {
    const now = performance.now()
    const cpu = process.cpuUsage()
    // The 1 ms the timer waits on purpose is not a stall.
    const stalled = now - last - 1
    if (stalled > STALL_MS) {
      const ranMs = (cpu.user + cpu.system - lastCpu.user - lastCpu.system) / 1000
      if (ranMs >= stalled / 2) stalls.ownMs = Math.max(stalls.ownMs, stalled)
      else stalls.descheduledMs = Math.max(stalls.descheduledMs, stalled)
      stalls.longestMs = Math.max(stalls.longestMs, stalled)
    }
    last = now
    lastCpu = cpu
  }, 1)
  return () => {
    clearInterval(timer)
    return stalls
  }
}
