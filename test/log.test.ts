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
