import test from 'ava';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { splitAccessUnits, splitNalUnits, nalType } from '../../../tools/synthetic/es-reader.js';
import { splitAdtsFrames, splitAlawBlocks, splitMpegAudioFrames } from '../../../tools/synthetic/audio-frames.js';
import {
  findPackageRoot,
  fixturesDir,
  loadAudioFixture,
  loadCatalog,
  loadVideoFixture,
} from '../../../tools/synthetic/fixtures.js';
import { ElementaryStreamError } from '../../../tools/synthetic/errors.js';

const nal = (...bytes: number[]) => Buffer.from(bytes);

test('splitNalUnits handles 3- and 4-byte start codes and drops trailing zero bytes', (t) => {
  const es = Buffer.concat([
    nal(0, 0, 0, 1, 0x67, 0x42, 0x00), // SPS ending in a zero that is trailing_zero_8bits before the next code
    nal(0, 0, 0, 1, 0x68, 0xce),
    nal(0, 0, 1, 0x65, 0x88, 0x80, 0x00, 0x00), // IDR then x265-style zeros before a 3-byte code
    nal(0, 0, 1, 0x41, 0x9a),
  ]);
  const nals = splitNalUnits(es);
  t.deepEqual(
    nals.map((n) => [...n]),
    [
      [0x67, 0x42],
      [0x68, 0xce],
      [0x65, 0x88, 0x80],
      [0x41, 0x9a],
    ],
  );
  t.throws(() => splitNalUnits(Buffer.from([1, 2, 3, 4])), { instanceOf: ElementaryStreamError });
});

test('splitAccessUnits groups parameter sets with the next slice and splits on first_mb_in_slice == 0', (t) => {
  const es = Buffer.concat([
    nal(0, 0, 0, 1, 0x67, 0x42),
    nal(0, 0, 0, 1, 0x68, 0xce),
    nal(0, 0, 1, 0x65, 0x88, 0x01), // IDR slice, first_mb 0 (top bit set)
    nal(0, 0, 1, 0x65, 0x40, 0x01), // second slice of the same picture (first_mb != 0)
    nal(0, 0, 1, 0x06, 0x05, 0x01), // SEI opens the next access unit
    nal(0, 0, 1, 0x41, 0x9a, 0x01), // P slice, first_mb 0
    nal(0, 0, 1, 0x41, 0x9a, 0x02), // another picture
  ]);
  const aus = splitAccessUnits('h264', es);
  t.is(aus.length, 3);
  t.deepEqual(
    aus.map((a) => a.nals.map((n) => nalType('h264', n))),
    [[7, 8, 5, 5], [6, 1], [1]],
  );
  t.deepEqual(
    aus.map((a) => [a.key, a.hasParameterSets]),
    [
      [true, true],
      [false, false],
      [false, false],
    ],
  );
});

test('HEVC: VPS/SPS/PPS go with the IDR; first_slice_segment_in_pic_flag starts a frame', (t) => {
  const es = Buffer.concat([
    nal(0, 0, 0, 1, 0x40, 0x01, 0x0c),
    nal(0, 0, 0, 1, 0x42, 0x01, 0x01),
    nal(0, 0, 0, 1, 0x44, 0x01, 0xc1),
    nal(0, 0, 0, 1, 0x28, 0x01, 0xaf), // IDR_W_RADL (20), first slice
    nal(0, 0, 0, 1, 0x02, 0x01, 0xd0), // TRAIL_R (1), first slice
    nal(0, 0, 0, 1, 0x02, 0x01, 0x50), // TRAIL_R, not the first slice segment
  ]);
  const aus = splitAccessUnits('h265', es);
  t.deepEqual(
    aus.map((a) => a.nals.map((n) => nalType('h265', n))),
    [
      [32, 33, 34, 20],
      [1, 1],
    ],
  );
  t.true(aus[0]!.key && aus[0]!.hasParameterSets);
  t.false(aus[1]!.key);
});

for (const [codec, size] of [
  ['h264', 'small'],
  ['h265', 'small'],
  ['h264', 'large'],
  ['h265', 'large'],
] as const) {
  test(`fixture ${size} ${codec}: 50 frames, IDR with parameter sets at 0 and 25, no other key frames`, async (t) => {
    const fx = await loadVideoFixture(codec, size);
    t.is(fx.frames.length, 50);
    t.deepEqual(
      fx.frames.flatMap((f, i) => (f.key ? [i] : [])),
      [0, 25],
    );
    t.true(fx.frames[25]!.hasParameterSets);
    t.is(fx.info.fps, 25);
    t.false(fx.info.bFrames);
    // Every byte of the stream except start codes and zero padding lands in some frame.
    const raw = await readFile(path.join(fixturesDir(), fx.info.file));
    const total = fx.frames.reduce((n, f) => n + f.bytes, 0);
    t.true(total <= raw.length && total > raw.length - 4 * 60);
  });
}

test('audio fixtures split into whole packets', async (t) => {
  const catalog = await loadCatalog();
  const aac = catalog.audio.find((a) => a.codec === 'aac')!;
  const adts = splitAdtsFrames(await readFile(path.join(fixturesDir(), aac.file)));
  t.is(adts.sampleRate, aac.sampleRate);
  t.is(adts.ticks90k, (1024 * 90000) / aac.sampleRate);
  t.is(
    adts.frames.reduce((n, f) => n + f.length, 0),
    aac.bytes,
  );
  t.true(adts.frames.length >= 30);
  const alaw = splitAlawBlocks(Buffer.alloc(16000 + 100), 8000);
  t.is(alaw.frames.length, 50);
  t.is(alaw.ticks90k, 3600);
  t.throws(() => splitAdtsFrames(Buffer.from([0xff, 0xf1, 0x60, 0x40, 0xff, 0xff, 0xfc])), {
    instanceOf: ElementaryStreamError,
  });
});

test('MPEG audio fixtures split into one frame per packet; PCM into 40 ms blocks', async (t) => {
  const mp2 = await loadAudioFixture('mp2');
  t.is(mp2.audio.frames.length, 28);
  t.true(mp2.audio.frames.every((f) => f.length === 576));
  t.is(mp2.audio.ticks90k, 6480);
  const mp3 = await loadAudioFixture('mp3');
  t.is(mp3.audio.ticks90k, 3240);
  t.is(
    mp3.audio.frames.reduce((n, f) => n + f.length, 0),
    mp3.info.bytes,
  );
  const pcm = await loadAudioFixture('pcm');
  t.is(pcm.audio.frames.length, 50);
  t.true(pcm.audio.frames.every((f) => f.length === 640));
  t.is(pcm.audio.ticks90k, 3600);
  const bytes = await readFile(path.join(fixturesDir(), mp2.info.file));
  t.throws(() => splitMpegAudioFrames('mp3', bytes), { instanceOf: ElementaryStreamError });
  t.throws(() => splitMpegAudioFrames('mp2', bytes.subarray(0, 1000)), { instanceOf: ElementaryStreamError });
});

test('findPackageRoot works from a dist/ location (compiled code)', (t) => {
  const root = findPackageRoot();
  t.is(findPackageRoot(path.join(root, 'dist', 'lib', 'synthetic', 'fixtures.js')), root);
  t.is(fixturesDir(), path.join(root, 'test', 'fixtures'));
});

test('fixtures stay under 3 MB in total', async (t) => {
  const catalog = await loadCatalog();
  const total = [...catalog.video, ...catalog.audio, ...catalog.pictures].reduce((n, f) => n + f.bytes, 0);
  t.true(total < 3_000_000, `${total} bytes`);
});
