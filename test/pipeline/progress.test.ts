import test from 'ava';
import { createProgress, formatDuration } from '../../lib/pipeline/progress.js';

function recorder() {
  const lines: string[] = [];
  const push = (...a: unknown[]) => void lines.push(a.map(String).join(' '));
  return { lines, log: { debug: push, info: push, warn: push, error: push } };
}

test('without a terminal: a progress line every interval with files, bytes, MB/s and ETA', async (t) => {
  const { lines, log } = recorder();
  let now = 0;
  const p = createProgress({ tty: false, log, intervalMs: 20, now: () => now });
  p.start(4, 400e6);
  now = 2000;
  p.advance(1, 100e6);
  await new Promise((r) => setTimeout(r, 70));
  p.stop();
  t.true(lines.length >= 1);
  t.is(lines[0], 'progress: 1/4 files, 100.0 MB/400.0 MB, 50.0 MB/s, ETA 6s');
  t.is(p.etaSeconds(), 6);
  const count = lines.length;
  await new Promise((r) => setTimeout(r, 50));
  t.is(lines.length, count, 'stop() ends the periodic lines');
});

test('ETA is unknown until there is a rate; durations read as s, m, h', (t) => {
  const { log } = recorder();
  const p = createProgress({ tty: false, log, now: () => 0 });
  p.start(0, 0);
  t.is(p.etaSeconds(), Infinity);
  p.stop();
  t.is(formatDuration(Infinity), '?');
  t.is(formatDuration(42), '42s');
  t.is(formatDuration(125), '2m05s');
  t.is(formatDuration(3 * 3600 + 7 * 60), '3h07m');
});

test('wrap() passes log lines straight through when no bar is shown', (t) => {
  const { lines, log } = recorder();
  const p = createProgress({ tty: false, log });
  p.wrap(log).warn('careful');
  t.deepEqual(lines, ['careful']);
});

test('on a terminal: the bar library the caller loaded draws the bar; nothing is logged as progress', (t) => {
  const { lines, log } = recorder();
  const calls: string[] = [];
  class MultiBar {
    create(total: number, value: number) {
      calls.push(`create ${total} ${value}`);
      return { update: (v: number) => void calls.push(`update ${v}`) };
    }
    stop() {
      calls.push('stop');
    }
    log(s: string) {
      calls.push(`log ${s.trim()}`);
    }
  }
  const bars = { MultiBar, Presets: { shades_classic: {} } } as unknown as NonNullable<
    Parameters<typeof createProgress>[0]['bars']
  >;
  const p = createProgress({ tty: true, log, bars, now: () => 0 });
  p.start(3, 300);
  p.advance(1, 100);
  p.stop();
  t.deepEqual(calls, ['create 3 0', 'update 1', 'stop']);
  t.deepEqual(lines, []);
});
