import { randomInt } from 'node:crypto'

/**
 * A 64-bit fingerprint of a string, as two 32-bit halves, computed without allocating (the check runs it on every
 * request). Two multiply-xor lanes over the UTF-16 code units, each rotated so that high bits reach low ones, then
 * mixed into each other; seeded at random per process, so nobody can aim ids at a chosen collision. The mirror keeps
 * fingerprints, not entries: two entries may share one (see MirrorEntries for what that may cost and why it never
 * refuses a valid token).
 */
export class Fingerprint {
  /** The half that also picks the slot. */
  low = 0
  high = 0
  readonly #seed1 = randomInt(2 ** 32) | 0
  readonly #seed2 = randomInt(2 ** 32) | 0

  /** Sets low and high to the fingerprint of text. */
  of (text: string): void {
    let h1 = this.#seed1 ^ 0xdeadbeef
    let h2 = this.#seed2 ^ 0x41c6ce57
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i)
      h1 = Math.imul(h1 ^ code, 0x9e3779b1)
      h1 = (h1 << 13) | (h1 >>> 19)
      h2 = Math.imul(h2 ^ code, 0x5f356495)
      h2 = (h2 << 17) | (h2 >>> 15)
    }
    h1 ^= text.length
    h1 = Math.imul(h1 ^ (h1 >>> 16), 0x85ebca6b)
    h1 ^= Math.imul(h2 ^ (h2 >>> 13), 0xc2b2ae35)
    h2 = Math.imul(h2 ^ (h2 >>> 16), 0x85ebca6b)
    h2 ^= Math.imul(h1 ^ (h1 >>> 13), 0xc2b2ae35)
    h1 ^= h1 >>> 16
    this.low = h1 >>> 0
    this.high = h2 >>> 0
  }
}
