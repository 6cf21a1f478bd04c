import test from 'ava';
import { createLogger, flushLogs } from '../lib/log.js';

function sink(isTTY = false) {
  const lines: string[] = [];
  return { stream: { isTTY, write: (s: string) => void lines.push(s) }, lines };
}

test('json: one JSON object per line, level filtered', async (t) => {
  const { stream, lines } = sink();
  const log = createLogger({ format: 'json', level: 'info' }, stream);
  log.debug('hidden');
  log.info('pass done', { written: 3 });
  log.warn({ event: 'retention-blocked', camera: 'garden' });
  await flushLogs();
  t.is(lines.length, 2);
  t.true(lines.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n')));
  const first: unknown = JSON.parse(lines[0]!);
  t.like(first, { message: 'pass done', level: 'INFO', written: 3 });
  t.like(JSON.parse(lines[1]!), { level: 'WARN', event: 'retention-blocked', camera: 'garden' });
});

test('json: compact lines for people reading docker logs: time, level, message, the event fields; no _logMeta', async (t) => {
  const { stream, lines } = sink();
  const clock = () => new Date('2026-12-01T16:40:00.000Z');
  const log = createLogger({ format: 'json', level: 'info', clock }, stream);
  log.info({ event: 'next-pass', at: '2026-12-01T16:50:00.000Z' }, 'next pass at 17:50:00 (in 10 min)');
  log.warn('camera gone', { camera: 'garden' });
  log.error({ event: 'retention-blocked', camera: 'garden' });
  await flushLogs();
  t.deepEqual(lines, [
    '{"time":"2026-12-01T16:40:00.000Z","level":"INFO","message":"next pass at 17:50:00 (in 10 min)",' +
      '"event":"next-pass","at":"2026-12-01T16:50:00.000Z"}\n',
    '{"time":"2026-12-01T16:40:00.000Z","level":"WARN","message":"camera gone","camera":"garden"}\n',
    '{"time":"2026-12-01T16:40:00.000Z","level":"ERROR","event":"retention-blocked","camera":"garden"}\n',
  ]);
});

test('pretty: an event is its message (its fields are for JSON); other values are still shown', async (t) => {
  const { stream, lines } = sink();
  const log = createLogger({ format: 'pretty', level: 'info' }, stream);
  log.info({ event: 'next-pass', at: '2026-12-01T16:50:00.000Z' }, 'next pass at 17:50:00 (in 10 min)');
  log.info('scan', { cameras: 2 });
  await flushLogs();
  t.regex(lines[0]!, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} INFO next pass at 17:50:00 \(in 10 min\)\n$/);
  t.regex(lines[1]!, / INFO scan \{ cameras: 2 \}\n$/);
});

test('pretty: readable single line, no colour codes when not a terminal', async (t) => {
  const { stream, lines } = sink(false);
  const log = createLogger({ format: 'pretty', level: 'debug' }, stream);
  log.debug('scan', { cameras: 2 });
  log.error('boom');
  await flushLogs();
  t.is(lines.length, 2);
  t.regex(lines[0]!, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} DEBUG scan \{ cameras: 2 \}\n$/);
  t.false(lines.join('').includes('\u001b['));
});

test('warn level drops info', async (t) => {
  const { stream, lines } = sink();
  const log = createLogger({ format: 'json', level: 'warn' }, stream);
  log.info('no');
  log.error('yes');
  await flushLogs();
  t.is(lines.length, 1);
});
