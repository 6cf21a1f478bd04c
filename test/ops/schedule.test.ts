import test from 'ava';
import { ExitCode } from '../../lib/errors.js';
import { runSchedule, type Clock, type PassRecord, type PassResult } from '../../lib/ops/schedule.js';

/** A fake clock: sleep advances time instantly (or stops early when aborted). */
function fakeClock(start = 0) {
  let now = start;
  const sleeps: number[] = [];
  const clock: Clock & { advance(ms: number): void } = {
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
    sleep: (ms, signal) => {
      sleeps.push(ms);
      if (!signal.aborted) now += ms;
      return Promise.resolve();
    },
  };
  return { clock, sleeps };
}

function recorderLog() {
  const lines: string[] = [];
  const push = (...a: unknown[]) => {
    lines.push(a.map(String).join(' '));
  };
  return { log: { debug: push, info: push, warn: push, error: push }, lines };
}

const ok: PassResult = { exitCode: 0, interrupted: false };
const MIN = 60_000;

test('once: one pass, its exit code', async (t) => {
  const { clock } = fakeClock();
  const { log } = recorderLog();
  let passes = 0;
  const code = await runSchedule({
    mode: 'once',
    intervalMs: 10 * MIN,
    clock,
    log,
    signal: new AbortController().signal,
    pass: () => {
      passes++;
      return Promise.resolve({ exitCode: 1, interrupted: false });
    },
  });
  t.is(passes, 1);
  t.is(code, 1);
});

test('once: an interrupted pass exits non-zero; an abort before start runs nothing', async (t) => {
  const { clock } = fakeClock();
  const { log } = recorderLog();
  const ac = new AbortController();
  const code = await runSchedule({
    mode: 'once',
    intervalMs: MIN,
    clock,
    log,
    signal: ac.signal,
    pass: () => {
      ac.abort();
      return Promise.resolve({ exitCode: 0, interrupted: true });
    },
  });
  t.is(code, ExitCode.INTERRUPTED);
  let ran = false;
  const pass = () => {
    ran = true;
    return Promise.resolve(ok);
  };
  const pre = await runSchedule({ mode: 'once', intervalMs: MIN, clock, log, signal: ac.signal, pass });
  t.is(pre, ExitCode.INTERRUPTED);
  t.false(ran);
});

test('once: a pass that throws propagates (the CLI maps it)', async (t) => {
  const { clock } = fakeClock();
  const { log } = recorderLog();
  const ends: PassRecord[] = [];
  await t.throwsAsync(
    runSchedule({
      mode: 'once',
      intervalMs: MIN,
      clock,
      log,
      signal: new AbortController().signal,
      pass: () => Promise.reject(new Error('input gone')),
      onPassEnd: (r) => void ends.push(r),
    }),
    { message: 'input gone' },
  );
  t.is(ends.length, 1);
  t.truthy(ends[0]!.error);
});

test('cron: start-to-start interval, no overlap, a long pass delays the next (logged)', async (t) => {
  const { clock, sleeps } = fakeClock(1_000_000);
  const { log, lines } = recorderLog();
  const ac = new AbortController();
  const durations = [2 * MIN, 3 * MIN, 25 * MIN, 1 * MIN, 0];
  const starts: number[] = [];
  const ends: number[] = [];
  let running = 0;
  const code = await runSchedule({
    mode: 'cron',
    intervalMs: 10 * MIN,
    clock,
    log,
    signal: ac.signal,
    pass: () => {
      t.is(running, 0, 'passes never overlap');
      running++;
      starts.push(clock.now());
      clock.advance(durations[starts.length - 1]!);
      ends.push(clock.now());
      if (starts.length === durations.length) ac.abort();
      running--;
      return Promise.resolve(ok);
    },
  });
  t.is(code, 0);
  const rel = starts.map((s) => (s - 1_000_000) / MIN);
  // 0 (2 min) -> 10 (3 min) -> 20 (25 min, ends at 45) -> 45 at once -> 55.
  t.deepEqual(rel, [0, 10, 20, 45, 55]);
  t.deepEqual(
    sleeps.map((s) => s / MIN),
    [8, 7, 9],
  );
  t.is(lines.filter((l) => l.includes('longer than the 10 min interval')).length, 1);
});

test('cron: abort during the wait ends at once with 0; abort during a pass lets it finish cleanly', async (t) => {
  const { log } = recorderLog();
  const ac = new AbortController();
  let now = 0;
  let passes = 0;
  const clock: Clock = {
    now: () => now,
    // A wait that ends only through its signal: if the schedule's wait did not listen to the service's signal,
    // SIGTERM (the abort below) would not end it and the schedule would never return.
    sleep: (_ms, signal) =>
      new Promise<void>((resolve) => {
        signal.addEventListener('abort', () => resolve(), { once: true });
        queueMicrotask(() => ac.abort()); // SIGTERM arrives while waiting
      }),
  };
  const pass = () => {
    passes++;
    return Promise.resolve(ok);
  };
  const code = await runSchedule({ mode: 'cron', intervalMs: MIN, clock, log, signal: ac.signal, pass });
  t.is(code, 0);
  t.is(passes, 1);

  const ac2 = new AbortController();
  const records: PassRecord[] = [];
  const code2 = await runSchedule({
    mode: 'cron',
    intervalMs: MIN,
    clock: { now: () => now, sleep: () => Promise.resolve() },
    log,
    signal: ac2.signal,
    pass: (signal) => {
      ac2.abort();
      t.true(signal.aborted, 'the pass sees the same signal');
      now += 1000;
      return Promise.resolve({ exitCode: 130, interrupted: true });
    },
    onPassEnd: (r) => void records.push(r),
  });
  t.is(code2, 0, 'stopping the service is a normal end');
  t.is(records.length, 1);
  t.is(records[0]!.nextAt, undefined, 'no next pass after an abort');
});

test('cron: a failing pass is logged and the schedule goes on', async (t) => {
  const { clock } = fakeClock();
  const { log, lines } = recorderLog();
  const ac = new AbortController();
  let passes = 0;
  const records: PassRecord[] = [];
  await runSchedule({
    mode: 'cron',
    intervalMs: MIN,
    clock,
    log,
    signal: ac.signal,
    pass: () => {
      passes++;
      if (passes === 1) return Promise.reject(new Error('NFS went away'));
      ac.abort();
      return Promise.resolve(ok);
    },
    onPassStart: () => {
      throw new Error('status volume full');
    },
    onPassEnd: (r) => void records.push(r),
  });
  t.is(passes, 2);
  t.true(lines.some((l) => l.includes('pass failed: NFS went away')));
  t.true(lines.some((l) => l.includes('could not record the pass start: status volume full')));
  t.is(records[0]!.nextAt, MIN);
});

test('cron: after each pass one line says when the next starts, in the given zone; none after an overrun', async (t) => {
  const start = Date.UTC(2026, 11, 1, 16, 40, 0);
  const { clock } = fakeClock(start);
  const infos: unknown[][] = [];
  const { log } = recorderLog();
  const ac = new AbortController();
  const durations = [20_000, 12 * MIN, 30_000];
  let passes = 0;
  await runSchedule({
    mode: 'cron',
    intervalMs: 10 * MIN,
    clock,
    log: { ...log, info: (...args: unknown[]) => void infos.push(args) },
    signal: ac.signal,
    timeZone: 'Europe/Amsterdam',
    pass: () => {
      clock.advance(durations[passes++]!);
      if (passes === durations.length) ac.abort();
      return Promise.resolve(ok);
    },
  });
  // Pass 1 (16:40, 20 s): next at 16:50 UTC = 17:50 in Amsterdam, 9 min 40 s away. Pass 2 (16:50, 12 min) overruns:
  // the warning says the next starts now, no second line. Pass 3 is stopped: nothing is next.
  t.deepEqual(infos, [
    [
      { event: 'next-pass', at: '2026-12-01T16:50:00.000Z' },
      'next pass at 2026-12-01 17:50:00 Europe/Amsterdam (in 10 min)',
    ],
  ]);
});
