import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadAudioFixture, loadVideoFixture } from '../../../tools/synthetic/fixtures.js';
import {
  audioFramesFor,
  encodePackHeader,
  encodePadding,
  encodePesMpeg1,
  encodeStreamMap,
  muxTimeline,
  PsMuxer,
  PTS_MODULO,
  type AnnexBFrame,
  type TimelineOptions,
} from '../../../tools/synthetic/ps-writer.js';
import { ffprobe } from '../../helpers/media-tools.js';
import { decodeTimestamp, psmStreams, videoFrames, walkPs } from './helpers.js';

async function mux(opts: {
  codec: 'h264' | 'h265';
  audio: 'aac' | 'alaw' | 'none';
  maxPesPayload: number;
  frames: number;
  firstPts: number;
  clockJump?: TimelineOptions['clockJump'];
  privateEvery?: number;
}) {
  const video = await loadVideoFixture(opts.codec, 'small');
  const audio = opts.audio === 'none' ? undefined : await loadAudioFixture(opts.audio);
  const mux = new PsMuxer({
    video: opts.codec,
    audio: opts.audio,
    maxPesPayload: opts.maxPesPayload,
    packCounter: 1000,
    privateEvery: opts.privateEvery ?? 10,
    width: 160,
    height: 120,
  });
  const chunks = [
    ...muxTimeline({
      mux,
      video: video.frames,
      firstFrame: 0,
      frames: opts.frames,
      firstPts: opts.firstPts,
      ...(opts.clockJump ? { clockJump: opts.clockJump } : {}),
      ...(audio ? { audio: audio.audio } : {}),
    }),
  ];
  return { video, audio, chunks, bytes: Buffer.concat(chunks.map((c) => c.bytes)) };
}

test('pack header: MPEG-2 marker bits, SCR and the 4-byte counter round-trip', (t) => {
  for (const scr of [0, 1, 3600, 2 ** 32 + 12345, PTS_MODULO - 1]) {
    const h = encodePackHeader(scr, 6106, 0xdeadbeef);
    const [p] = walkPs(h);
    t.is(p!.scr, scr);
    t.is(p!.counter, 0xdeadbeef);
    t.is(h[13]! & 0x07, 4);
    t.is(h[12]! & 0x03, 0x03, 'mux rate marker bits');
  }
});

for (const codec of ['h264', 'h265'] as const) {
  test(`${codec} + AAC: packet structure, one NAL per PES, PTS per frame, bit-exact frames`, async (t) => {
    const firstPts = 123_456;
    const { video, audio, bytes } = await mux({ codec, audio: 'aac', maxPesPayload: 1024, frames: 50, firstPts });
    const packets = walkPs(bytes); // throws on any framing error
    const packs = packets.filter((p) => p.code === 0xba);
    // Every pack's counter is the previous one plus one (Hikvision-style counter, not 0xFF stuffing).
    t.true(packs.every((p, i) => p.counter === 1000 + i));
    // System header and PSM right after the pack header of each key frame, and nowhere else.
    const sysAt = packets.flatMap((p, i) => (p.code === 0xbb ? [i] : []));
    t.is(sysAt.length, 2);
    for (const i of sysAt) {
      t.is(packets[i - 1]!.code, 0xba);
      t.is(packets[i + 1]!.code, 0xbc);
      const psm = bytes.subarray(packets[i + 1]!.offset, packets[i + 1]!.offset + packets[i + 1]!.length);
      const { streams, crcOk, programInfo } = psmStreams(psm);
      t.true(crcOk, 'PSM CRC32');
      t.is(streams.get(0xe0), codec === 'h264' ? 0x1b : 0x24);
      t.is(streams.get(0xc0), 0x0f);
      t.is(programInfo.subarray(2, 4).toString('latin1'), 'HK');
    }
    const { frames, startCodesInside } = videoFrames(packets);
    t.is(startCodesInside, 0, 'one NAL per PES');
    t.is(frames.length, 50);
    frames.forEach((f, i) => {
      t.is(f.pts, firstPts + i * 3600);
      t.deepEqual(
        f.nals,
        video.frames[i]!.nals.map((n) => Buffer.from(n)),
      );
    });
    // Large NALs were split: more video PES than NALs, none with a payload over the limit.
    const videoPes = packets.filter((p) => p.code === 0xe0);
    t.true(videoPes.length > video.frames.reduce((n, f) => n + f.nals.length, 0));
    t.true(videoPes.every((p) => p.payload!.length <= 1024));
    // Audio: one PTS'd PES per ADTS frame, in time order, interleaved before the next video frame.
    const audioPes = packets.filter((p) => p.code === 0xc0);
    t.is(audioPes.length, audioFramesFor(50, audio!.audio));
    t.true(audioPes.every((p, i) => p.pts === firstPts + Math.round(i * audio!.audio.ticks90k)));
    let lastVideoPts = -1;
    for (const p of packets) {
      if (p.code === 0xe0 && p.pts !== undefined) lastVideoPts = p.pts;
      if (p.code === 0xc0) t.true(p.pts! >= lastVideoPts && p.pts! < lastVideoPts + 3600);
    }
    t.true(
      packets.some((p) => p.code === 0xbd),
      'private stream 1 packets present',
    );
  });

  test(`${codec}: ffprobe sees an MPEG-PS with the right video codec and all 50 frames`, async (t) => {
    const { bytes } = await mux({ codec, audio: 'aac', maxPesPayload: 4096, frames: 50, firstPts: 90_000 });
    const dir = await mkdtemp(path.join(tmpdir(), 'ps-writer-'));
    try {
      const file = path.join(dir, 'segment.ps');
      await writeFile(file, bytes);
      const entries = 'format=format_name:stream=codec_type,codec_name,width,height,nb_read_frames';
      const info = await ffprobe('-count_frames', '-show_entries', entries, file);
      t.is(info.format?.format_name, 'mpeg');
      const v = info.streams.find((s) => s.codec_type === 'video');
      t.is(v?.codec_name, codec === 'h264' ? 'h264' : 'hevc');
      t.is(v?.width, 160);
      t.is(Number(v?.nb_read_frames), 50);
      t.is(info.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

test('G.711 A-law is declared as stream type 0x90; no audio = no 0xC0 stream', async (t) => {
  const a = await mux({ codec: 'h264', audio: 'alaw', maxPesPayload: 8192, frames: 25, firstPts: 0 });
  const alaw = walkPs(a.bytes);
  const psm = alaw.find((p) => p.code === 0xbc)!;
  t.is(psmStreams(a.bytes.subarray(psm.offset, psm.offset + psm.length)).streams.get(0xc0), 0x90);
  t.is(alaw.filter((p) => p.code === 0xc0).length, 25, '40 ms blocks over 1 s');
  const none = await mux({ codec: 'h265', audio: 'none', maxPesPayload: 8192, frames: 25, firstPts: 0 });
  const packets = walkPs(none.bytes);
  t.false(packets.some((p) => p.code === 0xc0));
  const psm2 = packets.find((p) => p.code === 0xbc)!;
  t.deepEqual([...psmStreams(none.bytes.subarray(psm2.offset, psm2.offset + psm2.length)).streams.keys()], [0xe0]);
});

test('PTS starting near 2^33 wraps inside the stream; a clock jump shifts later frames', async (t) => {
  const first = PTS_MODULO - 10 * 3600;
  const { bytes } = await mux({ codec: 'h264', audio: 'none', maxPesPayload: 60_000, frames: 30, firstPts: first });
  const pts = videoFrames(walkPs(bytes)).frames.map((f) => f.pts);
  t.is(pts[9], PTS_MODULO - 3600);
  t.is(pts[10], 0);
  t.is(pts[29], 19 * 3600);
  const jumped = await mux({
    codec: 'h264',
    audio: 'aac',
    maxPesPayload: 60_000,
    frames: 30,
    firstPts: 900_000,
    clockJump: { atFrame: 13, delta: -3600 * 90 },
  });
  const packets = walkPs(jumped.bytes);
  const vp = videoFrames(packets).frames.map((f) => f.pts);
  t.is(vp[12], 900_000 + 12 * 3600);
  t.is(vp[13], 900_000 + 13 * 3600 - 3600 * 90);
  const ap = packets.filter((p) => p.code === 0xc0).map((p) => p.pts!);
  t.true(
    ap.some((p) => p < 900_000),
    'audio after the jump is shifted too',
  );
});

test('PsMuxer rejects out-of-range options', (t) => {
  t.throws(() => new PsMuxer({ video: 'h264', audio: 'none', maxPesPayload: 100 }), { instanceOf: RangeError });
  t.throws(() => new PsMuxer({ video: 'h264', audio: 'none', maxPesPayload: 70_000 }), { instanceOf: RangeError });
  t.throws(() => new PsMuxer({ video: 'h264', audio: 'none', maxPesPayload: 4096, pesStuffing: 9 }), {
    instanceOf: RangeError,
  });
});

/** Six frames of made-up Annex-B bytes (3- and 4-byte start codes, a trailing zero), key frames 0 and 3. */
function annexBFrames(): AnnexBFrame[] {
  return [40, 9, 23, 31, 7, 17].map((size, i) => {
    const data = Buffer.alloc(size, 0x40 + i);
    Buffer.from(i % 2 ? [0, 0, 1] : [0, 0, 0, 1]).copy(data);
    data[size - 1] = 0;
    return { data, key: i % 3 === 0, pts: 90_000 + i * 3600 };
  });
}

/** Elementary-stream position of the first byte of every frame. */
function frameStarts(frames: AnnexBFrame[]): number[] {
  const starts: number[] = [];
  let at = 0;
  for (const f of frames) {
    starts.push(at);
    at += f.data.length;
  }
  return starts;
}

/** Elementary-stream position of the first byte of every video PES, with the PTS it carries. */
function videoPesStarts(packets: ReturnType<typeof walkPs>): Array<{ at: number; pts: number | undefined }> {
  const out: Array<{ at: number; pts: number | undefined }> = [];
  let at = 0;
  for (const p of packets.filter((q) => q.code === 0xe0)) {
    out.push({ at, pts: p.pts });
    at += p.payload!.length;
  }
  return out;
}

test('annexBStream: the elementary stream unchanged, PES cut at frame starts and every pesPayload bytes', (t) => {
  const frames = annexBFrames();
  const mux = new PsMuxer({ video: 'h264', audio: 'none', maxPesPayload: 4096, videoStreamType: 0x10 });
  const bytes = mux.annexBStream(frames, { pesPayload: 10 });
  const packets = walkPs(bytes);
  const video = packets.filter((p) => p.code === 0xe0);
  t.deepEqual(Buffer.concat(video.map((p) => p.payload!)), Buffer.concat(frames.map((f) => f.data)));
  t.true(video.every((p) => p.payload!.length <= 10));
  const starts = frameStarts(frames);
  const timed = videoPesStarts(packets).filter((s) => s.pts !== undefined);
  t.deepEqual(
    timed,
    frames.map((f, i) => ({ at: starts[i]!, pts: f.pts })),
  );
  // A pack header before every frame; system header + map before the key frames only.
  t.is(packets.filter((p) => p.code === 0xba).length, frames.length);
  const maps = packets.filter((p) => p.code === 0xbc);
  t.is(maps.length, 2);
  const psm = bytes.subarray(maps[0]!.offset, maps[0]!.offset + maps[0]!.length);
  t.is(psmStreams(psm).streams.get(0xe0), 0x10, 'the declared stream type, not the codec');
});

test('annexBStream shifted: a PES with a PTS starts `shift` bytes before its frame; audio, private, padding', (t) => {
  const frames = annexBFrames();
  const audio = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => ({ data: Buffer.alloc(12, i), pts: 90_000 + i * 2500 }));
  const mux = new PsMuxer({ video: 'h265', audio: 'aac', maxPesPayload: 300, privateEvery: 2, paddingEvery: 1 });
  const bytes = mux.annexBStream(frames, { cut: 'shifted', shift: 3, audio });
  const packets = walkPs(bytes);
  const starts = frameStarts(frames);
  const timed = videoPesStarts(packets).filter((s) => s.pts !== undefined);
  t.deepEqual(
    timed,
    frames.map((f, i) => ({ at: i === 0 ? 0 : starts[i]! - 3, pts: f.pts })),
  );
  const es = Buffer.concat(packets.filter((p) => p.code === 0xe0).map((p) => p.payload!));
  t.deepEqual(es, Buffer.concat(frames.map((f) => f.data)));
  t.is(packets.filter((p) => p.code === 0xbe).length, frames.length);
  t.is(packets.filter((p) => p.code === 0xbd).length, frames.length / 2);
  // Each audio packet follows the frame it belongs to: after that frame's PTS, before the next frame's.
  const audioPes = packets.filter((p) => p.code === 0xc0);
  t.deepEqual(
    audioPes.map((p) => p.pts),
    audio.map((a) => a.pts),
  );
  let lastVideoPts = -1;
  for (const p of packets) {
    if (p.code === 0xe0 && p.pts !== undefined) lastVideoPts = p.pts;
    if (p.code === 0xc0) t.true(p.pts! >= lastVideoPts && p.pts! < lastVideoPts + 3600, `audio ${p.pts}`);
  }
  t.throws(() => mux.annexBStream(frames, { pesPayload: 0 }), { instanceOf: RangeError });
  t.throws(() => mux.annexBStream(frames, { cut: 'shifted', shift: 0 }), { instanceOf: RangeError });
});

test("encoders for readers' tests: padded pack header, padding packet, MPEG-1 PES, a map of any streams", (t) => {
  const h = encodePackHeader(3600, 6106, 0xcafe, 2);
  t.is(h[13]! & 0x07, 6);
  t.deepEqual([...h.subarray(14, 16)], [0xff, 0xff]);
  t.is(h.readUInt32BE(16), 0xcafe);
  t.is(walkPs(h)[0]!.scr, 3600);
  t.throws(() => encodePackHeader(0, 6106, 0, 4), { instanceOf: RangeError });

  const pad = encodePadding(50);
  t.like(walkPs(pad)[0], { code: 0xbe, length: 56 });
  t.true(pad.subarray(6).every((b) => b === 0xff));

  const payload = Buffer.from([0, 0, 0, 1, 0x67]);
  const timed = encodePesMpeg1(0xe0, payload, 90_000);
  t.is(timed.readUInt16BE(4), 1 + 5 + payload.length);
  t.is(timed[6], 0xff, 'one stuffing byte');
  t.is(timed[7]! >> 4, 0x2, "'0010' + PTS");
  t.is(decodeTimestamp(timed, 7), 90_000);
  t.deepEqual(timed.subarray(12), payload);
  const untimed = encodePesMpeg1(0xe0, payload);
  t.deepEqual([...untimed.subarray(6, 8)], [0xff, 0x0f]);
  t.deepEqual(untimed.subarray(8), payload);

  const map = encodeStreamMap([
    { streamType: 0x1b, streamId: 0xe0 },
    { streamType: 0x92, streamId: 0xc1 },
  ]);
  const { streams, crcOk } = psmStreams(map);
  t.true(crcOk);
  t.deepEqual(
    [...streams],
    [
      [0xe0, 0x1b],
      [0xc1, 0x92],
    ],
  );
});
