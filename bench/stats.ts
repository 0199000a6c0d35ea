export function median (values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] as number : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

/** Round r's order: the list rotated by r, and reversed on odd rounds, so no server always runs first or last. */
export function roundOrder<T> (items: readonly T[], round: number): T[] {
  const shift = round % Math.max(items.length, 1)
  const rotated = [...items.slice(shift), ...items.slice(0, shift)]
  return round % 2 === 1 ? rotated.reverse() : rotated
}

/** The value below which `fraction` of the sorted samples lie (nearest rank). */
export function percentile (sorted: ArrayLike<number>, fraction: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] as number
}
