/**
 * Fuzzing the MPEG audio framer and the layer II decoder: the audio of a damaged recording is any bytes. Whatever
 * they are and however PES payloads cut them, neither throws (neither documents an error: damage is counted), the
 * framer delivers only input bytes as frames with valid headers whose length is the header's, each PTS at most
 * once, the same frames for any cuts, and the decoder's output is bounded by the frames it decoded.
 */
import test from 'ava';
import fc from 'fast-check';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { MpegAudioFramer, parseMpegAudioHeader, type MpegAudioFrame } from '../../../lib/media/audio/mpeg-audio.js';
import { Mp2Decoder } from '../../../lib/media/audio/mp2-decoder.js';
import { fuzzParams, withDeadline } from '../../helpers/fuzz.js';
import { fixturesDir } from '../../../tools/synthetic/fixtures.js';
import { mutated, piecesComeFrom, pushChunked } from '../fuzz-inputs.js';

const MP2 = await fs.readFile(path.join(fixturesDir(), 'audio-mp2-16k.mp2'));
const MP3 = await fs.readFile(path.join(fixturesDir(), 'audio-mp3-16k.mp3'));

function frames(bytes: Buffer, sizes: readonly number[]): MpegAudioFrame[] {
  const out: MpegAudioFrame[] = [];
  const f = new MpegAudioFramer((x) => out.push(x));
  let k = 0;
  pushChunked(bytes, sizes, (chunk) => f.push(chunk, k++ % 3 === 0 ? k : undefined));
  f.end();
  return out;
}

function check(bytes: Buffer, sizes: readonly number[]): boolean {
  const got = frames(bytes, sizes);
  if (
    !piecesComeFrom(
      bytes,
      got.map((x) => x.data),
    )
  )
    return false;
  const valid = got.every((x) => {
    const h = parseMpegAudioHeader(x.data, 0);
    return h !== null && h.frameLength === x.data.length && x.data.length <= 2881;
  });
  if (!valid) return false;
  const pts = got.flatMap((x) => (x.pts === undefined ? [] : [x.pts]));
  if (new Set(pts).size !== pts.length) return false;
  const once = frames(bytes, [bytes.length || 1]);
  return once.length === got.length && once.every((x, i) => x.data.equals(got[i]!.data));
}

function decodes(bytes: Buffer, sizes: readonly number[]): boolean {
  const d = new Mp2Decoder();
  let samples = 0;
  pushChunked(bytes, sizes, (chunk) => (samples += d.decode(chunk).length));
  samples += d.flush().length;
  return samples === d.stats.frames * 1152 * Math.max(1, d.channels);
}

const sizes = fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 8 });
const bytes = fc.uint8Array({ maxLength: 4096, size: 'max' }).map((a) => Buffer.from(a));
/** Sync-rich bytes: valid-looking headers with random fields between random bytes. */
const syncy = fc
  .array(
    fc.oneof(
      fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
      fc
        .tuple(fc.integer({ min: 0xe0, max: 0xff }), fc.nat(255), fc.nat(255), fc.uint8Array({ maxLength: 600 }))
        .map(([b1, b2, b3, rest]) => Buffer.concat([Buffer.from([0xff, b1, b2, b3]), Buffer.from(rest)])),
    ),
    { minLength: 1, maxLength: 20 },
  )
  .map((parts) => Buffer.concat(parts));

test('framer: random bytes, sync-rich bytes, damaged MP2 and MP3: frames are input bytes, valid, cut-independent', (t) => {
  for (const input of [bytes, syncy, mutated(MP2), mutated(MP3)]) {
    fc.assert(fc.property(input, sizes, withDeadline(check)), fuzzParams(0.5));
  }
  t.pass();
});

test('framer with pesAligned: frames are still input bytes with valid headers, each PTS once', (t) => {
  const aligned = (input: Buffer, cuts: readonly number[]): boolean => {
    const got: MpegAudioFrame[] = [];
    const f = new MpegAudioFramer((x) => got.push(x), { pesAligned: true });
    let k = 0;
    pushChunked(input, cuts, (chunk) => f.push(chunk, k++));
    f.end();
    const pts = got.flatMap((x) => (x.pts === undefined ? [] : [x.pts]));
    return (
      piecesComeFrom(
        input,
        got.map((x) => x.data),
      ) &&
      got.every((x) => parseMpegAudioHeader(x.data, 0)?.frameLength === x.data.length) &&
      new Set(pts).size === pts.length
    );
  };
  for (const input of [bytes, syncy, mutated(MP2)]) {
    fc.assert(fc.property(input, sizes, withDeadline(aligned)), fuzzParams(0.5));
  }
  t.pass();
});

test('MP2 decoder: random, sync-rich and damaged input never throws and gives 1152 samples per decoded frame', (t) => {
  for (const input of [bytes, syncy, mutated(MP2), mutated(MP3)]) {
    fc.assert(fc.property(input, sizes, withDeadline(decodes)), fuzzParams(0.25));
  }
  t.pass();
});
