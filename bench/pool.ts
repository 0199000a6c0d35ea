/** Runs task(0) .. task(total - 1) with at most `concurrency` of them in flight. */
export async function runConcurrently (total: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0
  async function worker (): Promise<void> {
    while (next < total) await task(next++)
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker))
}
