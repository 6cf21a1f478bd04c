import test from 'ava';
import { EventEmitter } from 'node:events';
import { installSignalHandlers } from '../../lib/ops/signals.js';
import { ExitCode } from '../../lib/errors.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

test('first signal aborts; a second one forces the exit', async (t) => {
  const target = new EventEmitter();
  const exits: number[] = [];
  let flushed = 0;
  const h = installSignalHandlers({
    log: quiet,
    target,
    exit: (c) => void exits.push(c),
    beforeForcedExit: () => void flushed++,
  });
  t.false(h.signal.aborted);
  target.emit('SIGTERM', 'SIGTERM');
  t.true(h.signal.aborted);
  t.is(h.received(), 'SIGTERM');
  t.deepEqual(exits, []);
  target.emit('SIGINT', 'SIGINT');
  await new Promise((r) => setTimeout(r, 10));
  t.deepEqual(exits, [ExitCode.INTERRUPTED]);
  t.is(flushed, 1);
  h.dispose();
  t.is(target.listenerCount('SIGTERM'), 0);
});

test('the grace timeout forces the exit when the program does not end', async (t) => {
  const target = new EventEmitter();
  const exits: number[] = [];
  const h = installSignalHandlers({ log: quiet, target, graceMs: 30, exit: (c) => void exits.push(c) });
  target.emit('SIGINT', 'SIGINT');
  const keepAlive = setTimeout(() => undefined, 200); // the grace timer is unref'd: keep this test's loop alive
  await new Promise((r) => setTimeout(r, 100));
  clearTimeout(keepAlive);
  t.deepEqual(exits, [ExitCode.INTERRUPTED]);
  h.dispose();
});

test('dispose cancels the grace timer after a clean stop', async (t) => {
  const target = new EventEmitter();
  const exits: number[] = [];
  const h = installSignalHandlers({ log: quiet, target, graceMs: 20, exit: (c) => void exits.push(c) });
  target.emit('SIGTERM', 'SIGTERM');
  h.dispose();
  await new Promise((r) => setTimeout(r, 60));
  t.deepEqual(exits, []);
});
