/**
 * Reuse of the remux's 1 MiB working buffers (read buffers, the access-unit assembler's buffer) across the tasks of
 * one thread. A fresh 1 MiB buffer per task costs its page faults on first touch, and most recordings are short
 * (a few MiB): that first touch was the largest item of the worker profile. Per thread (module state): workers do
 * one task at a time, tests may run several remuxes at once in one thread, so buffers are taken and given back.
 */

export const POOLED_SIZE = 1024 * 1024;
/** Two read buffers and two assembler buffers of one remux, plus one more. */
const MAX_POOLED = 5;
/** The most bytes the pool holds. */
export const MAX_POOLED_BYTES = MAX_POOLED * POOLED_SIZE;
const free: Buffer[] = [];

/** A buffer of POOLED_SIZE bytes (contents undefined). */
export function takeBuffer(): Buffer {
  return free.pop() ?? Buffer.allocUnsafeSlow(POOLED_SIZE);
}

/**
 * Hands buffers back for reuse. Only when nothing can still write into them or read from them (no pending read, no
 * view waiting to be written): on a failure path simply drop them instead.
 */
export function giveBuffers(bufs: Array<Buffer | null | undefined>): void {
  for (const b of bufs) {
    if (
      b &&
      b.length === POOLED_SIZE &&
      b.byteOffset === 0 &&
      b.buffer.byteLength === POOLED_SIZE &&
      free.length < MAX_POOLED &&
      !free.includes(b)
    )
      free.push(b);
  }
}
