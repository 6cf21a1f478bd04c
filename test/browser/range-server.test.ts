/**
 * The browser check's file server (range-server.ts), without a browser: what a `<video>` element relies on, i.e.
 * 206 with the exact Content-Range, 416 past the end, HEAD with the length and no body, and nothing served from
 * outside the folder.
 */
import test from 'ava';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { tmp } from '../helpers/cli.js';
import { BLANK_PAGE, parseRange, startRangeServer, type RangeServer } from './range-server.js';

const SIZE = 1000;
const BYTES = Buffer.from(Array.from({ length: SIZE }, (_, i) => (i * 7) % 256));

async function serve(t: Parameters<typeof tmp>[0]): Promise<RangeServer> {
  const dir = await tmp(t, 'hiksync-range-server-');
  await fs.mkdir(path.join(dir, 'root', 'cam', 'video'), { recursive: true });
  await fs.writeFile(path.join(dir, 'root', 'cam', 'video', 'a b.mp4'), BYTES);
  await fs.writeFile(path.join(dir, 'root', 'empty.jpg'), '');
  await fs.writeFile(path.join(dir, 'secret.txt'), 'outside the served folder');
  const server = await startRangeServer(path.join(dir, 'root'));
  t.teardown(() => server.close());
  return server;
}

const FILE = '/cam/video/a%20b.mp4';

test('parseRange: the forms of RFC 9110 for one range, clipped to the file', (t) => {
  t.deepEqual(parseRange('bytes=0-', SIZE), { start: 0, end: 999 });
  t.deepEqual(parseRange('bytes=10-19', SIZE), { start: 10, end: 19 });
  t.deepEqual(parseRange('bytes=990-5000', SIZE), { start: 990, end: 999 });
  t.deepEqual(parseRange('bytes=-100', SIZE), { start: 900, end: 999 });
  t.deepEqual(parseRange('bytes=-5000', SIZE), { start: 0, end: 999 });
  t.deepEqual(parseRange('bytes=999-999', SIZE), { start: 999, end: 999 });
  t.is(parseRange('bytes=1000-', SIZE), 'unsatisfiable');
  t.is(parseRange('bytes=-0', SIZE), 'unsatisfiable');
  t.is(parseRange('bytes=0-', 0), 'unsatisfiable');
  // What a server may ignore (then the whole file, 200).
  t.is(parseRange(undefined, SIZE), 'ignore');
  t.is(parseRange('bytes=0-1,5-6', SIZE), 'ignore');
  t.is(parseRange('items=0-1', SIZE), 'ignore');
  t.is(parseRange('bytes=5-1', SIZE), 'ignore');
  t.is(parseRange('bytes=-', SIZE), 'ignore');
});

test('GET without Range: 200, the whole file, Accept-Ranges: bytes, the type from the extension', async (t) => {
  const s = await serve(t);
  const r = await fetch(s.origin + FILE);
  t.is(r.status, 200);
  t.is(r.headers.get('accept-ranges'), 'bytes');
  t.is(r.headers.get('content-type'), 'video/mp4');
  t.is(r.headers.get('content-length'), String(SIZE));
  t.deepEqual(Buffer.from(await r.arrayBuffer()), BYTES);
});

test('GET with Range: 206 with the exact Content-Range and bytes (closed, open, suffix, clipped)', async (t) => {
  const s = await serve(t);
  const cases: Array<[string, number, number]> = [
    ['bytes=10-19', 10, 19],
    ['bytes=900-', 900, 999],
    ['bytes=-24', 976, 999],
    ['bytes=995-2000', 995, 999],
    ['bytes=0-0', 0, 0],
  ];
  for (const [range, start, end] of cases) {
    const r = await fetch(s.origin + FILE, { headers: { Range: range } });
    t.is(r.status, 206, range);
    t.is(r.headers.get('content-range'), `bytes ${start}-${end}/${SIZE}`, range);
    t.is(r.headers.get('content-length'), String(end - start + 1), range);
    t.deepEqual(Buffer.from(await r.arrayBuffer()), BYTES.subarray(start, end + 1), range);
  }
  t.deepEqual(
    s.requests.map((q) => [q.method, q.path, q.status, q.range]),
    cases.map(([range]) => ['GET', '/cam/video/a b.mp4', 206, range]),
    'every request is recorded with its range',
  );
});

test('a range past the end: 416 with Content-Range: bytes */size; several ranges: 200 with the whole file', async (t) => {
  const s = await serve(t);
  const past = await fetch(s.origin + FILE, { headers: { Range: `bytes=${SIZE}-` } });
  t.is(past.status, 416);
  t.is(past.headers.get('content-range'), `bytes */${SIZE}`);
  await past.arrayBuffer();
  const empty = await fetch(`${s.origin}/empty.jpg`, { headers: { Range: 'bytes=0-' } });
  t.is(empty.status, 416, 'no byte of an empty file can be served');
  await empty.arrayBuffer();
  const multi = await fetch(s.origin + FILE, { headers: { Range: 'bytes=0-1,10-11' } });
  t.is(multi.status, 200);
  t.is((await multi.arrayBuffer()).byteLength, SIZE);
});

test('HEAD: the headers of the GET (length, ranges) and no body', async (t) => {
  const s = await serve(t);
  const whole = await fetch(s.origin + FILE, { method: 'HEAD' });
  t.is(whole.status, 200);
  t.is(whole.headers.get('content-length'), String(SIZE));
  t.is(whole.headers.get('accept-ranges'), 'bytes');
  t.is((await whole.arrayBuffer()).byteLength, 0);
  const part = await fetch(s.origin + FILE, { method: 'HEAD', headers: { Range: 'bytes=100-199' } });
  t.is(part.status, 206);
  t.is(part.headers.get('content-range'), `bytes 100-199/${SIZE}`);
  t.is(part.headers.get('content-length'), '100');
  t.is((await part.arrayBuffer()).byteLength, 0);
});

test('the blank page at /, 404 for a missing file or a folder, nothing from outside the folder, 405 for POST', async (t) => {
  const s = await serve(t);
  const page = await fetch(`${s.origin}/`);
  t.is(page.status, 200);
  t.is(await page.text(), BLANK_PAGE);
  for (const p of ['/missing.mp4', '/cam/video', '/../secret.txt', '/%2e%2e/secret.txt', '/cam/..%2f..%2fsecret.txt']) {
    const r = await fetch(s.origin + p);
    t.true(r.status === 404 || r.status === 403, `${p}: ${r.status}`);
    t.false((await r.text()).includes('outside the served folder'), p);
  }
  const post = await fetch(s.origin + FILE, { method: 'POST', body: 'x' });
  t.is(post.status, 405);
  t.is(post.headers.get('allow'), 'GET, HEAD');
  await post.arrayBuffer();
});

test('close() returns while a client still holds a keep-alive connection', async (t) => {
  const dir = await tmp(t, 'hiksync-range-server-');
  await fs.writeFile(path.join(dir, 'f.mp4'), BYTES);
  const s = await startRangeServer(dir);
  const r = await fetch(`${s.origin}/f.mp4`, { headers: { Range: 'bytes=0-9', Connection: 'keep-alive' } });
  t.is(r.status, 206);
  await r.arrayBuffer();
  await s.close();
  await t.throwsAsync(fetch(`${s.origin}/f.mp4`), undefined, 'the port no longer answers');
});
