import test from 'ava';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import {
  MpegAudioFramer,
  parseMpegAudioHeader,
  sniffMpegAudio,
  type MpegAudioFrame,
} from '../../../lib/media/audio/mpeg-audio.js';
import { fixturesDir } from '../../../tools/synthetic/fixtures.js';

const read = async (name: string): Promise<Buffer> => fs.readFile(path.join(fixturesDir(), name));

test('headers: version, layer, bit rate, rate, padding, mode, frame length, samples', (t) => {
  // MPEG-1 layer III, 128 kbit/s, 44.1 kHz, padded, joint stereo: 144 * 128000 / 44100 + 1 = 418.
  const mp3 = parseMpegAudioHeader(Uint8Array.from([0xff, 0xfb, 0x92, 0x64]));
  t.like(mp3, { version: 1, layer: 3, bitrate: 128000, sampleRate: 44100, padding: true, mode: 1, channels: 2 });
  t.is(mp3?.frameLength, 418);
  t.is(mp3?.samples, 1152);
  t.false(mp3?.crc);
  // MPEG-2 layer II, 64 kbit/s, 16 kHz, mono (the fixture): 144 * 64000 / 16000 = 576, 1152 samples.
  const mp2 = parseMpegAudioHeader(Uint8Array.from([0xff, 0xf5, 0x88, 0xc4]));
  t.like(mp2, { version: 2, layer: 2, bitrate: 64000, sampleRate: 16000, channels: 1, frameLength: 576 });
  t.is(mp2?.samples, 1152);
  // MPEG-2 layer III, 32 kbit/s, 16 kHz: 72 * 32000 / 16000 = 144, 576 samples.
  t.like(parseMpegAudioHeader(Uint8Array.from([0xff, 0xf3, 0x48, 0xc4])), { layer: 3, frameLength: 144, samples: 576 });
  // MPEG-2.5 layer III 8 kHz, 8 kbit/s: 72 * 8000 / 8000 = 72.
  t.like(parseMpegAudioHeader(Uint8Array.from([0xff, 0xe3, 0x18, 0xc4])), {
    version: 2.5,
    sampleRate: 8000,
    frameLength: 72,
  });
  // Layer I, MPEG-1 32 kbit/s 32 kHz: (12 * 32000 / 32000) * 4 = 48 bytes, 384 samples.
  t.like(parseMpegAudioHeader(Uint8Array.from([0xff, 0xff, 0x18, 0xc0])), { layer: 1, frameLength: 48, samples: 384 });
  t.like(parseMpegAudioHeader(Uint8Array.from([0xff, 0xfc, 0x88, 0xc4])), { layer: 2, crc: true });
});

test('headers that are not valid: reserved version, layer, rate, free format, bad bit rate, reserved emphasis', (t) => {
  for (const h of [
    [0xff, 0xeb, 0x92, 0x64], // version 01 reserved
    [0xff, 0xf9, 0x92, 0x64], // layer 00 (ADTS has this)
    [0xff, 0xfb, 0x9e, 0x64], // rate index 3
    [0xff, 0xfb, 0x02, 0x64], // free format
    [0xff, 0xfb, 0xf2, 0x64], // bit rate index 15
    [0xff, 0xfb, 0x92, 0x66], // emphasis 2
    [0xfe, 0xfb, 0x92, 0x64], // no sync
  ]) {
    t.is(parseMpegAudioHeader(Uint8Array.from(h)), null, h.map((b) => b.toString(16)).join(' '));
  }
  t.is(parseMpegAudioHeader(Uint8Array.from([0xff, 0xfb, 0x92])), null, 'cut header');
});

test('content detection: one whole frame per PES, or two frames in a row; not ADTS, not a lone header', async (t) => {
  const mp2 = await read('audio-mp2-16k.mp2');
  t.like(sniffMpegAudio(mp2.subarray(0, 576)), { layer: 2 });
  t.like(sniffMpegAudio(mp2), { layer: 2 });
  t.is(sniffMpegAudio(mp2.subarray(0, 300)), null, 'a cut frame and nothing after it');
  const mp3 = await read('audio-mp3-16k.mp3');
  t.like(sniffMpegAudio(mp3), { layer: 3, sampleRate: 16000 });
  t.is(sniffMpegAudio(await read('audio-aac-16k.aac')), null);
  t.is(sniffMpegAudio(await read('audio-alaw-8k.alaw')), null);
  t.is(sniffMpegAudio(await read('audio-pcm-8k.s16')), null);
  const lone = Buffer.concat([mp2.subarray(0, 576), Buffer.alloc(100, 0x55)]);
  t.is(sniffMpegAudio(lone), null);
});

function frameAll(bytes: Buffer, piece: number, ptsEvery = false): MpegAudioFrame[] {
  const frames: MpegAudioFrame[] = [];
  const f = new MpegAudioFramer((x) => frames.push(x));
  for (let at = 0, k = 0; at < bytes.length; at += piece, k++)
    f.push(bytes.subarray(at, at + piece), ptsEvery ? k : undefined);
  f.end();
  return frames;
}

test('the framer cuts the fixtures into their frames whatever the PES cuts, garbage between them skipped', async (t) => {
  for (const [name, count, samples] of [
    ['audio-mp2-16k.mp2', 28, 1152],
    ['audio-mp3-16k.mp3', 58, 576],
  ] as const) {
    const bytes = await read(name);
    const whole = frameAll(bytes, bytes.length);
    t.is(whole.length, count, name);
    t.true(whole.every((f) => f.header.samples === samples));
    t.true(Buffer.concat(whole.map((f) => f.data)).equals(bytes), `${name}: every byte in a frame`);
    for (const piece of [1, 7, 300]) t.is(frameAll(bytes, piece).length, count, `${name} in ${piece}-byte pieces`);
    // Garbage before the stream and between two frames in sync (sync is lost there and found again).
    const dirty = Buffer.concat([
      Buffer.from([0xff, 0xf3, 0x00, 0x12, 0x34]),
      whole[0]!.data,
      whole[1]!.data,
      Buffer.alloc(33, 0xff),
      ...whole.slice(2).map((f) => f.data),
    ]);
    t.is(frameAll(dirty, 100).length, count, `${name} with garbage`);
  }
});

test('each frame gets the PTS of the PES it starts in; one frame per PES as cameras write it', async (t) => {
  const bytes = await read('audio-mp2-16k.mp2');
  const frames: MpegAudioFrame[] = [];
  const f = new MpegAudioFramer((x) => frames.push(x));
  for (let k = 0; k < 28; k++) f.push(bytes.subarray(k * 576, (k + 1) * 576), 1000 + k * 6480);
  f.end();
  t.deepEqual(
    frames.map((x) => x.pts),
    Array.from({ length: 28 }, (_, k) => 1000 + k * 6480),
  );
});

test('pesAligned: a frame filling its PES is delivered with that PES, not one PES later', async (t) => {
  const bytes = await read('audio-mp2-16k.mp2');
  for (const pesAligned of [false, true]) {
    const frames: MpegAudioFrame[] = [];
    const f = new MpegAudioFramer((x) => frames.push(x), { pesAligned });
    const after: number[] = [];
    for (let k = 0; k < 3; k++) {
      f.push(bytes.subarray(k * 576, (k + 1) * 576), k);
      after.push(frames.length);
    }
    t.deepEqual(after, pesAligned ? [1, 2, 3] : [0, 2, 3]);
  }
  // A lone header whose frame does not end with the PES is still not taken.
  const frames: MpegAudioFrame[] = [];
  const f = new MpegAudioFramer((x) => frames.push(x), { pesAligned: true });
  f.push(Buffer.concat([bytes.subarray(0, 576), Buffer.alloc(10, 0x55)]));
  t.is(frames.length, 0);
});
