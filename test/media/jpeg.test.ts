import test from 'ava';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { copyPicture, findJpeg } from '../../lib/media/jpeg.js';
import { ffmpeg, ffprobe } from '../helpers/media-tools.js';
import { tempDir } from './test-streams.js';

const tmp = tempDir();
test.after.always(() => tmp.cleanup());
let jpegPromise: Promise<Buffer> | undefined;
function jpeg(): Promise<Buffer> {
  jpegPromise ??= (async () => {
    const file = path.join(tmp.dir, 'pic.jpg');
    await ffmpeg(
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=320x240:rate=1',
      '-frames:v',
      '1',
      '-q:v',
      '6',
      '-pix_fmt',
      'yuvj420p',
      file,
    );
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
