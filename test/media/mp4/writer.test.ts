import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { moov, MOVIE_TIMESCALE, VIDEO_TIMESCALE } from '../../../lib/media/mp4/boxes.js';
import { TrackTables, U32List } from '../../../lib/media/mp4/tables.js';
import { Mp4FileWriter } from '../../../lib/media/mp4/writer.js';
import { mp4StructureProblem, readMp4Marker } from '../../../lib/media/probe.js';
import { remuxRange } from '../../../lib/media/remux.js';
import { PsMuxer } from '../../../tools/synthetic/ps-writer.js';
import { FlacEncoder, type EncodedAudioFrame } from '../../../lib/media/audio/flac-encoder.js';
import { decodeErrors, ffmpeg, ffprobe, frameMd5 } from '../../helpers/media-tools.js';
import { testSignal } from '../audio/ffmpeg-pcm.js';
import { adtsPackets, makeAac, makeAnnexB, readFrames, tempDir } from '../test-streams.js';

const tmp = tempDir();
test.after.always(() => tmp.cleanup());

interface Box {
  type: string;
  start: number;
  header: number;
  size: number;
}

/** Boxes in [start, end) of `b`: 32-bit sizes, 64-bit (size 1) and to-the-end (size 0). */
function boxes(b: Buffer, start = 0, end = b.length): Box[] {
  const out: Box[] = [];
  let pos = start;
  while (pos + 8 <= end) {
    let size = b.readUInt32BE(pos);
    let header = 8;
    if (size === 1) {
      size = Number(b.readBigUInt64BE(pos + 8));
      header = 16;
    } else if (size === 0) size = end - pos;
    if (size < header || pos + size > end) throw new Error(`bad box at ${pos}`);
    out.push({ type: b.toString('latin1', pos + 4, pos + 8), start: pos, header, size });
    pos += size;
  }
  if (pos !== end) throw new Error(`boxes do not tile [${start}, ${end}): stop at ${pos}`);
  return out;
}
const children = (b: Buffer, box: Box, skip = 0) => boxes(b, box.start + box.header + skip, box.start + box.size);
/** Bytes between a box's header and its first child (full-box fields, sample entry fields). */
const FIELDS: Record<string, number> = { stsd: 8, meta: 4, avc1: 78, hvc1: 78, mp4a: 28, fLaC: 28, alaw: 44, ulaw: 44 };
/** The box at `route` ('moov/trak[1]/mdia'); index in brackets for repeated types. */
function find(b: Buffer, route: string, within?: Box): Box {
  let parent = within;
  for (const step of route.split('/')) {
    const m = /^(.{4})(?:\[(\d+)\])?$/.exec(step)!;
    const list = parent ? children(b, parent, FIELDS[parent.type] ?? 0) : boxes(b);
    const found = list.filter((x) => x.type === m[1])[Number(m[2] ?? 0)];
    if (!found) throw new Error(`no ${step} in ${route}`);
    parent = found;
  }
  return parent!;
}
const body = (b: Buffer, box: Box) => b.subarray(box.start + box.header, box.start + box.size);

test('tables: typed lists grow by doubling; stts merges equal steps, the last step is the last duration', (t) => {
  const l = new U32List(2);
  for (let i = 0; i < 1000; i++) l.push(i * 7);
  t.is(l.length, 1000);
  t.is(l.get(999), 6993);
  const tb = new TrackTables();
  for (let i = 0; i < 10; i++) tb.add(100 + i, i < 5 ? i * 3600 : 5 * 3600 + (i - 5) * 3000, i % 5 === 0);
  tb.lastDuration = 3000;
  t.deepEqual(tb.timeToSample(), [
    { count: 5, delta: 3600 },
    { count: 5, delta: 3000 },
  ]);
  t.is(tb.duration, 5 * 3600 + 5 * 3000);
  t.deepEqual([...tb.sync.view()], [1, 6]);
  tb.addChunk(48, 4);
  tb.addChunk(1000, 4);
  tb.addChunk(2000, 2);
  t.deepEqual(tb.chunkRuns, [
    { firstChunk: 1, samplesPerChunk: 4 },
    { firstChunk: 3, samplesPerChunk: 2 },
  ]);
  t.false(tb.needsCo64());
});

test('co64 when a chunk starts past 4 GiB (tables only, no 4 GiB file)', (t) => {
  const tb = new TrackTables();
  const offsets = [48, 2 ** 32 - 10, 2 ** 32 + 5, 5 * 2 ** 30];
  offsets.forEach((off, i) => {
    tb.add(10, i * 3600, i === 0);
    tb.addChunk(off, 1);
  });
  tb.lastDuration = 3600;
  t.true(tb.needsCo64());
  const m = moov({
    container: 'mp4',
    creationTime: 0,
    tracks: [
      {
        id: 1,
        timescale: VIDEO_TIMESCALE,
        tables: tb,
        video: { codec: 'h264', width: 64, height: 48, description: new Uint8Array([1, 2]) },
      },
    ],
  });
  const stbl = find(m, 'moov/trak/mdia/minf/stbl');
  t.deepEqual(
    children(m, stbl).map((x) => x.type),
    ['stsd', 'stts', 'stss', 'stsc', 'stsz', 'co64'],
  );
  const co64 = body(m, find(m, 'co64', stbl));
  t.is(co64.readUInt32BE(4), 4);
  t.deepEqual(
    [0, 1, 2, 3].map((i) => Number(co64.readBigUInt64BE(8 + 8 * i))),
    offsets,
  );
  // Below 4 GiB the 32-bit table stays.
  const small = new TrackTables();
  small.add(10, 0, true);
  small.addChunk(2 ** 32 - 1, 1);
  t.false(small.needsCo64());
});

test('box layout parsed back: ftyp, 64-bit mdat patched at the end, moov; chunk offsets point at the samples', async (t) => {
  const file = path.join(tmp.dir, 'layout.mp4');
  const w = new Mp4FileWriter(file, {
    container: 'mp4',
    marker: 'hiksync:abc_1-2',
    creationTime: new Date(Date.UTC(2024, 4, 1, 8, 31, 18)),
  });
  const description = new Uint8Array([1, 0x64, 0, 0x1f, 0xff, 0xe0, 0]);
  await w.open({ codec: 'h264', width: 640, height: 360, description });
  const sample = (n: number, fill: number) => {
    const payload = Buffer.alloc(n, fill);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(n);
    return { parts: [len, payload], size: n + 4 };
  };
  await w.addVideo([
    { ...sample(100, 1), key: true, ticks: 0 },
    { ...sample(50, 2), key: false, ticks: 3600 },
  ]);
  await w.addAudio(
    { data: Buffer.alloc(20, 9), ticks: 45000, durationTicks: 5760 },
    { codec: 'mp4a.40.2', sampleRate: 16000, numberOfChannels: 1, description: new Uint8Array([0x14, 0x08]) },
  );
  await w.addAudio({ data: Buffer.alloc(21, 8), ticks: 45000 + 5760, durationTicks: 5760 });
  await w.addVideo([{ ...sample(70, 3), key: false, ticks: 7200 }]);
  const size = await w.finish(3600);
  const b = readFileSync(file);
  t.is(size, b.length);
  t.deepEqual(
    boxes(b).map((x) => [x.type, x.header]),
    [
      ['ftyp', 8],
      ['mdat', 16],
      ['moov', 8],
    ],
  );
  const mdat = boxes(b)[1]!;
  t.is(mdat.size, 104 + 54 + 20 + 21 + 74 + 16);
  t.is(body(b, find(b, 'ftyp')).toString('latin1', 0, 4), 'isom');

  const video = find(b, 'moov/trak[0]');
  const vstbl = find(b, 'mdia/minf/stbl', video);
  const stco = body(b, find(b, 'stco', vstbl));
  t.is(stco.readUInt32BE(4), 2, 'two video chunks');
  const first = stco.readUInt32BE(8);
  t.is(first, mdat.start + 16);
  t.is(b.readUInt32BE(first), 100);
  t.is(b[first + 4], 1);
  t.is(b[first + 104], 0, 'length field of the second sample');
  t.is(b[first + 104 + 4], 2);
  const second = stco.readUInt32BE(12);
  t.is(b.readUInt32BE(second), 70);
  const stsz = body(b, find(b, 'stsz', vstbl));
  t.deepEqual(
    [stsz.readUInt32BE(8), stsz.readUInt32BE(12), stsz.readUInt32BE(16), stsz.readUInt32BE(20)],
    [3, 104, 54, 74],
  );
  const stss = body(b, find(b, 'stss', vstbl));
  t.is(stss.readUInt32BE(4), 1);
  t.is(stss.readUInt32BE(8), 1);
  const avcC = body(b, find(b, 'stsd/avc1/avcC', vstbl));
  t.deepEqual(new Uint8Array(avcC), description);

  const audio = find(b, 'moov/trak[1]');
  const astbl = find(b, 'mdia/minf/stbl', audio);
  const aco = body(b, find(b, 'stco', astbl));
  t.is(aco.readUInt32BE(8), second + 74, 'pending audio goes after the next video chunk');
  t.is(b[aco.readUInt32BE(8)], 9);
  t.false(
    children(b, astbl).some((x) => x.type === 'stss'),
    'every audio sample is a sync sample',
  );
  const esds = body(b, find(b, 'stsd/mp4a/esds', astbl));
  t.true(esds.includes(Buffer.from([0x05, 0x02, 0x14, 0x08])), 'AudioSpecificConfig in the esds');
  // Audio starts 0.5 s into the movie: an empty edit, then the media.
  const elst = body(b, find(b, 'edts/elst', audio));
  t.is(elst.readUInt32BE(4), 2);
  t.is(elst.readUInt32BE(8), 500);
  t.is(elst.readInt32BE(12), -1);
  t.is(elst.readInt32BE(24), 0);
  const mdhd = body(b, find(b, 'mdia/mdhd', audio));
  t.is(mdhd.readUInt32BE(12), 16000);
  t.is(mdhd.readUInt32BE(16), 1024 + 1024, 'the step to the next sample, then the last one lasts its own duration');
  const mvhd = body(b, find(b, 'moov/mvhd'));
  t.is(mvhd.readUInt32BE(12), MOVIE_TIMESCALE);
  t.is(mvhd.readUInt32BE(4), Date.UTC(2024, 4, 1, 8, 31, 18) / 1000 + 2_082_844_800);

  t.is(await readMp4Marker(file), 'hiksync:abc_1-2');
  t.is(await mp4StructureProblem(file), null);
});

test('real H.264 + AAC through the writer: every frame decodes bit-exact, audio starts at its offset, times set', async (t) => {
  const video = await makeAnnexB(tmp.dir, 'h264');
  const frames = await readFrames(video, 'h264', 900000);
  const aac = adtsPackets(await makeAac(tmp.dir), 900000 + 45000);
  const ps = new PsMuxer({ video: 'h264', audio: 'aac', maxPesPayload: 900 }).annexBStream(frames, { audio: aac });
  const source = path.join(tmp.dir, 'late-audio.ps');
  writeFileSync(source, ps);
  const output = path.join(tmp.dir, 'late-audio.mp4');
  const r = await remuxRange({
    source,
    startOffset: 0,
    endOffset: ps.length,
    output,
    creationTime: new Date(Date.UTC(2025, 0, 2, 3, 4, 5)),
  });
  t.is(r.frames, 50);
  t.true(r.audioKept);
  const probe = await ffprobe('-show_streams', '-show_format', output);
  const a = probe.streams.find((s) => s.codec_type === 'audio');
  t.is(a?.codec_name, 'aac');
  const start = Number((a as { start_time?: string } | undefined)?.start_time);
  t.true(Math.abs(start - 0.5) < 0.03, `audio start ${start}`);
  t.is(probe.format?.tags?.creation_time, '2025-01-02T03:04:05.000000Z');
  t.is(await decodeErrors(output), '');
  t.deepEqual(await frameMd5(output), await frameMd5(video, ['-f', 'h264']));
});

test('mov variant: qt brand, G.711 sample entry, QuickTime comment; PCM chunks of one-byte samples', async (t) => {
  const file = path.join(tmp.dir, 'pcm.mov');
  const w = new Mp4FileWriter(file, { container: 'mov', marker: 'hiksync:m1' });
  await w.open({ codec: 'h265', width: 160, height: 120, description: new Uint8Array(23) });
  await w.addAudio(
    { data: Buffer.alloc(800, 0xd5), ticks: 0, durationTicks: 9000 },
    { codec: 'ulaw', sampleRate: 8000, numberOfChannels: 1 },
  );
  const len = Buffer.from([0, 0, 0, 3]);
  await w.addVideo([{ parts: [len, Buffer.from([0x26, 1, 0xaf])], size: 7, key: true, ticks: 0 }]);
  await w.addAudio({ data: Buffer.alloc(800, 0xd5), ticks: 9000, durationTicks: 9000 });
  await w.finish(3600);
  const b = readFileSync(file);
  t.is(body(b, find(b, 'ftyp')).toString('latin1'), 'qt  \0\0\x02\0qt  ');
  const astbl = find(b, 'moov/trak[1]/mdia/minf/stbl');
  find(b, 'stsd/ulaw', astbl);
  const stsz = body(b, find(b, 'stsz', astbl));
  t.deepEqual([stsz.readUInt32BE(4), stsz.readUInt32BE(8)], [1, 1600], 'constant 1-byte samples');
  const stsc = body(b, find(b, 'stsc', astbl));
  t.is(stsc.readUInt32BE(8 + 4), 800, '800 samples in the first chunk');
  t.is(body(b, find(b, 'moov/udta/\u00a9cmt')).toString('latin1', 4), 'hiksync:m1');
  t.is(await readMp4Marker(file), 'hiksync:m1');
  t.is(await mp4StructureProblem(file), null);
  const probe = await ffprobe('-show_streams', '-show_format', file);
  t.regex(probe.format?.format_name ?? '', /mov/);
  t.is(probe.format?.tags?.comment, 'hiksync:m1');
  const a = probe.streams.find((s) => s.codec_type === 'audio');
  t.is(a?.codec_name, 'pcm_mulaw');
  t.true(Math.abs(Number(a?.duration) - 0.2) < 0.01, `duration ${a?.duration}`);
});

test('G.711 is refused in MP4; the audio config is generic (MP3 sample entry)', async (t) => {
  const w = new Mp4FileWriter(path.join(tmp.dir, 'refused.mp4'), { container: 'mp4' });
  await w.open({ codec: 'h264', width: 16, height: 16, description: new Uint8Array(7) });
  await t.throwsAsync(
    w.addAudio(
      { data: Buffer.alloc(8), ticks: 0, durationTicks: 90 },
      { codec: 'alaw', sampleRate: 8000, numberOfChannels: 1 },
    ) as Promise<void>,
    { name: 'Mp4ConfigError' },
  );
  await w.abandon();

  const file = path.join(tmp.dir, 'mp3.mp4');
  const x = new Mp4FileWriter(file, { container: 'mp4' });
  await x.open({ codec: 'h264', width: 16, height: 16, description: new Uint8Array(7) });
  await x.addAudio(
    { data: Buffer.alloc(8), ticks: 0, durationTicks: 1800 },
    { codec: 'mp3', sampleRate: 48000, numberOfChannels: 2 },
  );
  await x.addVideo([{ parts: [Buffer.from([0, 0, 0, 1, 0x65])], size: 5, key: true, ticks: 0 }]);
  await x.finish(3600);
  const b = readFileSync(file);
  const esds = body(b, find(b, 'esds', find(b, 'moov/trak[1]/mdia/minf/stbl/stsd/mp4a')));
  t.is(esds[4 + 2 + 3 + 2], 0x6b, 'MPEG-1 audio object type');
});

/** Real FLAC frames of `pcm` (one frame = one sample) through the writer, after one video frame. */
async function flacFile(container: 'mp4' | 'mov', pcm: Int16Array, rate: number, channels: number) {
  const enc = new FlacEncoder(rate, channels);
  const frames: EncodedAudioFrame[] = [];
  enc.encode(pcm, (f) => frames.push(f));
  enc.flush((f) => frames.push(f));
  const file = path.join(tmp.dir, `flac-${rate}-${channels}.${container}`);
  const w = new Mp4FileWriter(file, { container });
  await w.open({ codec: 'h264', width: 16, height: 16, description: new Uint8Array(7) });
  let ticks = 0;
  for (const [i, f] of frames.entries()) {
    const durationTicks = (f.samples * 90000) / rate;
    await w.addAudio({ data: f.data, ticks, durationTicks }, i === 0 ? enc.decoderConfig : undefined);
    ticks += durationTicks;
  }
  await w.addVideo([{ parts: [Buffer.from([0, 0, 0, 1, 0x65])], size: 5, key: true, ticks: 0 }]);
  await w.finish(3600);
  return { file, enc, frames };
}

for (const container of ['mp4', 'mov'] as const) {
  test(`FLAC in ${container}: fLaC sample entry, dfLa with STREAMINFO (last block); ffmpeg decodes it losslessly`, async (t) => {
    for (const [rate, channels] of [
      [8000, 1],
      [16000, 2],
    ] as const) {
      const pcm = testSignal(rate * channels * 1.3 + channels, rate);
      const { file, enc, frames } = await flacFile(container, pcm, rate, channels);
      const b = readFileSync(file);
      const entry = find(b, 'moov/trak[1]/mdia/minf/stbl/stsd/fLaC');
      const fields = body(b, entry);
      t.is(fields.readUInt16BE(6), 1, 'data reference index');
      t.is(fields.readUInt16BE(16), channels);
      t.is(fields.readUInt16BE(18), 16, 'sample size');
      t.is(fields.readUInt32BE(24), rate * 0x10000);
      const dfla = body(b, find(b, 'dfLa', entry));
      t.deepEqual([...dfla.subarray(0, 4)], [0, 0, 0, 0], 'version 0, flags 0');
      t.deepEqual([...dfla.subarray(4, 8)], [0x80, 0, 0, 34], 'STREAMINFO, the last metadata block, 34 bytes');
      t.deepEqual([...dfla.subarray(8)], [...enc.decoderConfig.description!.subarray(8)]);
      t.is(find(b, 'moov/trak[1]/mdia/mdhd').type, 'mdhd');
      t.is(body(b, find(b, 'moov/trak[1]/mdia/minf/stbl/stsz')).readUInt32BE(8), frames.length, 'one frame a sample');

      const probe = await ffprobe('-show_streams', file);
      const a = probe.streams.find((s) => s.codec_type === 'audio');
      t.is(a?.codec_name, 'flac');
      t.is(a?.sample_rate, String(rate));
      const out = path.join(tmp.dir, `flac-${container}-${rate}.s16`);
      await ffmpeg('-loglevel', 'error', '-y', '-i', file, '-map', '0:a:0', '-f', 's16le', out);
      const decoded = readFileSync(out);
      t.deepEqual(
        Array.from(new Int16Array(decoded.buffer, decoded.byteOffset, decoded.length / 2)),
        Array.from(pcm.subarray(0, pcm.length - (pcm.length % channels))),
        `${container} ${rate} Hz x ${channels}: exact`,
      );
    }
  });
}

test('FLAC without its STREAMINFO description is refused before anything is written', async (t) => {
  for (const description of [
    undefined,
    new Uint8Array(42),
    new FlacEncoder(8000, 1).decoderConfig.description!.slice(0, 20),
  ]) {
    const w = new Mp4FileWriter(path.join(tmp.dir, 'flac-refused.mp4'), { container: 'mp4' });
    await w.open({ codec: 'h264', width: 16, height: 16, description: new Uint8Array(7) });
    await t.throwsAsync(
      w.addAudio(
        { data: Buffer.alloc(8), ticks: 0, durationTicks: 90 },
        { codec: 'flac', sampleRate: 8000, numberOfChannels: 1, ...(description ? { description } : {}) },
      ) as Promise<void>,
      { name: 'Mp4ConfigError' },
    );
    await w.abandon();
  }
});
