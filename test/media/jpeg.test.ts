import test from 'ava';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { copyPicture, findJpeg } from '../../lib/media/jpeg.js';
import { ffmpegLavfi, ffprobe } from '../helpers/media-tools.js';
import { tempDir } from './test-streams.js';

const tmp = tempDir();
test.after.always(() => tmp.cleanup());
let jpegPromise: Promise<Buffer> | undefined;
function jpeg(): Promise<Buffer> {
  jpegPromise ??= (async () => {
    const file = path.join(tmp.dir, 'pic.jpg');
    await ffmpegLavfi('testsrc=size=320x240:rate=1', '-frames:v', '1', '-q:v', '6', '-pix_fmt', 'yuvj420p', file);
    return readFileSync(file);
  })();
  return jpegPromise;
}

/** The same picture with a comment segment holding FF D9 right after SOI. */
function withTrickyComment(j: Buffer): Buffer {
  const text = Buffer.from([0x41, 0xff, 0xd9, 0x42, 0xff, 0xd9]);
  const com = Buffer.concat([Buffer.from([0xff, 0xfe, 0, text.length + 2]), text]);
  return Buffer.concat([j.subarray(0, 2), com, j.subarray(2)]);
}

test('finds SOI..EOI with padding around it', async (t) => {
  const j = await jpeg();
  const buf = Buffer.concat([Buffer.alloc(33, 0), j, Buffer.alloc(4000, 0)]);
  t.deepEqual(findJpeg(buf), { start: 33, end: 33 + j.length });
});

test('an FF D9 inside a segment is not the end; FF D9 padding after EOI is not part of the picture', async (t) => {
  const j = withTrickyComment(await jpeg());
  const buf = Buffer.concat([j, Buffer.from([0xff, 0xd9, 0xff, 0xd9, 0, 0])]);
  t.deepEqual(findJpeg(buf), { start: 0, end: j.length });
});

test('a cut picture or garbage is not a JPEG', async (t) => {
  const j = await jpeg();
  t.is(findJpeg(j.subarray(0, j.length - 1)), null);
  t.is(findJpeg(j.subarray(0, 300)), null);
  t.is(findJpeg(Buffer.alloc(1000, 0xff)), null);
  // A stray SOI pattern followed by non-JPEG bytes is skipped; the real picture after it is found.
  const stray = Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x12, 0x34]);
  t.deepEqual(findJpeg(Buffer.concat([stray, j])), { start: stray.length, end: stray.length + j.length });
});

test('copyPicture writes the picture verbatim and reports absolute offsets', async (t) => {
  const j = withTrickyComment(await jpeg());
  const src = path.join(tmp.dir, 'hiv00000.pic');
  const before = Buffer.alloc(4096, 0);
  writeFileSync(src, Buffer.concat([before, Buffer.alloc(10, 0), j, Buffer.alloc(2000, 0), Buffer.alloc(100, 9)]));
  const output = path.join(tmp.dir, 'out.jpg');
  const r = await copyPicture({ source: src, startOffset: 4096, endOffset: 4096 + 10 + j.length + 2000, output });
  t.deepEqual(r, { bytes: j.length, start: 4106, end: 4106 + j.length });
  t.true(readFileSync(output).equals(j));
  const probe = await ffprobe('-show_streams', output);
  t.is(probe.streams[0]?.width, 320);
});

test('copyPicture: no complete JPEG is BadContentError, a short file is TruncatedSourceError; no output left', async (t) => {
  const j = await jpeg();
  const src = path.join(tmp.dir, 'hiv00001.pic');
  writeFileSync(src, Buffer.concat([j.subarray(0, 1000), Buffer.alloc(100, 0)]));
  const output = path.join(tmp.dir, 'bad.jpg');
  await t.throwsAsync(copyPicture({ source: src, startOffset: 0, endOffset: 1100, output }), {
    name: 'BadContentError',
  });
  await t.throwsAsync(copyPicture({ source: src, startOffset: 0, endOffset: 1101, output }), {
    name: 'TruncatedSourceError',
  });
  t.false(existsSync(output));
});

/** FF D8 FF E0 <length>: a false SOI whose first segment ends at `target`. */
function falseSoi(b: Buffer, at: number, target: number): void {
  b[at] = 0xff;
  b[at + 1] = 0xd8;
  b[at + 2] = 0xff;
  b[at + 3] = 0xe0;
  b.writeUInt16BE(target - (at + 4), at + 4);
}

/**
 * Many false SOIs whose walks all run on through the same long stretch before failing (a crafted range, or one
 * pathological enough): 'segments', a chain of 64 KiB APP1 segments with false SOIs inside each one, jumping to
 * the next link; 'entropy', false SOIs in the first 64 KiB jumping to one SOS followed by entropy-coded data
 * without a marker up to a bad one at the end.
 */
function falseSoisIntoOneLongWalk(size: number, kind: 'segments' | 'entropy'): Buffer {
  const b = Buffer.alloc(size, 0x11);
  const last = size - 8; // every walk fails there (a marker no JPEG has): none is 'incomplete'
  if (kind === 'segments') {
    const links: number[] = [];
    for (let p = 0; p < last; p += 0xfff2) links.push(p);
    links.push(last);
    for (let k = 0; k + 1 < links.length; k++) {
      const [p, next] = [links[k]!, links[k + 1]!];
      b[p] = 0xff;
      b[p + 1] = 0xe1;
      b.writeUInt16BE(next - p - 2, p + 2);
      for (let at = p + 8; at + 6 <= next - 8; at += 6) falseSoi(b, at, next);
    }
    b[last] = 0xff;
    b[last + 1] = 0x00;
  } else {
    const target = 0xff10;
    for (let at = 0; at + 6 <= 0xff00; at += 6) falseSoi(b, at, target);
    b[target] = 0xff;
    b[target + 1] = 0xda;
    b.writeUInt16BE(2, target + 2);
    b[last] = 0xff;
    b[last + 1] = 0xc8; // JPG (reserved): ends the entropy-coded data, then has no length that fits
    b.writeUInt16BE(0, last + 2);
  }
  return b;
}

for (const kind of ['segments', 'entropy'] as const) {
  test(`false SOIs that all lead into one long walk (${kind}) cost linear time, not one walk each`, (t) => {
    // 64 MiB (the largest picture range): linear is a few seconds at worst on a loaded machine, while one walk per
    // false SOI took 7.5-12.6 s for 16 MiB and grows with the square (minutes here). The bound sits between.
    const b = falseSoisIntoOneLongWalk(64 * 1024 * 1024, kind);
    const t0 = performance.now();
    const found = findJpeg(b);
    const ms = performance.now() - t0;
    t.is(found, null);
    t.true(ms < 60_000, `${Math.round(ms)} ms`);
  });
}

test('SOI then EOI without a scan is not a picture (it was copied as a 4-byte .jpg)', async (t) => {
  const empty = Buffer.from([0xff, 0xd8, 0xff, 0xd9]);
  t.is(findJpeg(empty), null);
  t.is(findJpeg(Buffer.from([0xff, 0xd8, 0xff, 0xd8, 0xff, 0xd9])), null);
  // Tables but no scan: still no picture.
  t.is(findJpeg(Buffer.from([0xff, 0xd8, 0xff, 0xfe, 0, 3, 0x41, 0xff, 0xd9])), null);
  const j = await jpeg();
  t.deepEqual(findJpeg(Buffer.concat([empty, j])), { start: empty.length, end: empty.length + j.length });
});
