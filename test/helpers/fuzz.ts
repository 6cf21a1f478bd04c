/**
 * The fuzz budget: one knob for every fuzz property (test/hikvision/fuzz.test.ts and the `*.fuzz.test.ts` files),
 * so CI runs thousands of cases quickly and `npm run fuzz` runs many more of the same properties.
 *
 * - FUZZ_RUNS: runs of a property of weight 1. The default (CI_RUNS) keeps the whole fuzz set under a minute on
 *   a loaded 2-core machine; `npm run fuzz` sets 50 times that. A property that costs more per input asks for
 *   a smaller weight, so the knob scales everything alike.
 * - FUZZ_SEED: the seed every property starts from. Default: a fixed one, so a CI failure is the same on every
 *   machine and every rerun. 'random': a new seed per test process (`npm run fuzz` uses it to explore). On a
 *   failure fast-check prints the seed and the path of the shrunk counterexample; FUZZ_SEED=<seed> with the same
 *   FUZZ_RUNS replays it.
 * - FUZZ_DEADLINE_MS: how much CPU time ONE input may take (default 2000 ms, generous: inputs take milliseconds). A
 *   parser that is super-linear on some input fails with that input as the counterexample. CPU time, not wall time:
 *   other load on a shared machine stretches wall time (2.2 s for a 10 ms input at load average 27) but not the
 *   work an input costs. A true endless loop never
 *   returns to be measured: ava's timeout stops it (and fails the run).
 * - FUZZ_TALLY: a file; every property appends its numRuns there (how the README's case count is measured).
 */
import { appendFileSync } from 'node:fs';
import fc from 'fast-check';

/** Runs of a weight-1 property in CI. */
export const CI_RUNS = 200;
const FIXED_SEED = 20261201;
const DEFAULT_DEADLINE_MS = 2000;

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return n;
}

function seedFromEnv(): number {
  const raw = process.env.FUZZ_SEED;
  if (raw === undefined || raw === '') return FIXED_SEED;
  if (raw === 'random') return (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new Error(`FUZZ_SEED must be an integer or 'random', got ${raw}`);
  return n | 0;
}

export const FUZZ_RUNS = positiveInt('FUZZ_RUNS', CI_RUNS);
export const FUZZ_SEED = seedFromEnv();
export const FUZZ_DEADLINE_MS = positiveInt('FUZZ_DEADLINE_MS', DEFAULT_DEADLINE_MS);

/** Runs for a property of this weight (1 = the budget; 0.25 for one whose inputs cost four times more). */
export function fuzzRuns(weight = 1): number {
  return Math.max(1, Math.round(FUZZ_RUNS * weight));
}

/** fast-check parameters of one fuzz property: its runs from the budget, the shared seed. */
export function fuzzParams<T>(weight = 1): fc.Parameters<T> {
  const numRuns = fuzzRuns(weight);
  const tally = process.env.FUZZ_TALLY;
  if (tally) appendFileSync(tally, `${numRuns}\n`);
  // The error a failing input threw (a RangeError, a DeadlineError) in the report, not only the counterexample.
  return { numRuns, seed: FUZZ_SEED, includeErrorInReport: true };
}

export class DeadlineError extends Error {
  constructor(ms: number) {
    super(`one input took ${Math.round(ms)} ms of CPU time, more than FUZZ_DEADLINE_MS=${FUZZ_DEADLINE_MS}`);
    this.name = 'DeadlineError';
  }
}

/**
 * The predicate, failing (with the input as counterexample) when one call costs more CPU time than FUZZ_DEADLINE_MS.
 * Works for sync predicates and for ones that return a promise (measured when it settles; the process's CPU time,
 * so tests of the same file running meanwhile count too: a bound, never an excuse).
 */
export function withDeadline<A extends unknown[], R>(predicate: (...args: A) => R): (...args: A) => R {
  return (...args: A): R => {
    const t0 = process.cpuUsage();
    const check = (): void => {
      const used = process.cpuUsage(t0);
      const ms = (used.user + used.system) / 1000;
      if (ms > FUZZ_DEADLINE_MS) throw new DeadlineError(ms);
    };
    const r = predicate(...args);
    if (r instanceof Promise) {
      return r.then((v: unknown) => {
        check();
        return v;
      }) as R;
    }
    check();
    return r;
  };
}

/**
 * Random bytes of minLength..maxLength, made from a seed by xorshift32: fast for large inputs (fc.uint8Array makes
 * one arbitrary per byte, seconds per hundred 64 KiB arrays). It shrinks by length and seed, not byte by byte: use
 * fc.uint8Array for small inputs whose counterexamples should shrink to a few bytes.
 */
export function randomBytes(maxLength: number, minLength = 0): fc.Arbitrary<Buffer> {
  return fc
    .tuple(fc.integer({ min: minLength, max: maxLength }), fc.integer({ min: 1, max: 0x7fffffff }))
    .map(([length, seed]) => xorshiftBytes(length, seed));
}

/** Buffer's allocating statics; Buffer.concat allocates through allocUnsafe, so it is seen too. */
const ALLOCATORS = ['alloc', 'allocUnsafe', 'allocUnsafeSlow'] as const;

/**
 * The largest Buffer allocation made while `fn` runs (and, for a promise, until it settles), with `fn`'s result.
 * How a test proves a parser allocates nothing from a size it read: the largest allocation stays near the size of
 * the input whatever the input claims. The spy is global: an async `fn` belongs in a `test.serial`.
 */
export async function largestAllocation<R>(fn: () => R | Promise<R>): Promise<{ largest: number; result: R }> {
  const statics = Buffer as unknown as Record<string, (size: number, ...rest: unknown[]) => Buffer>;
  const originals = ALLOCATORS.map((n) => statics[n]!);
  let largest = 0;
  ALLOCATORS.forEach((n, i) => {
    const original = originals[i]!;
    statics[n] = (size: number, ...rest: unknown[]): Buffer => {
      largest = Math.max(largest, size);
      return original.call(Buffer, size, ...rest);
    };
  });
  try {
    const result = await fn();
    return { largest, result };
  } finally {
    ALLOCATORS.forEach((n, i) => (statics[n] = originals[i]!));
  }
}

/** `length` bytes of xorshift32 from `seed` (0 counts as 1): fast, never repeating within a test's sizes. */
export function xorshiftBytes(length: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}
