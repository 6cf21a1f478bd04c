import test from 'ava';
import fc from 'fast-check';
import { PsDemuxer, type PesPiece, type StreamMap } from '../../lib/media/ps-demux.js';
import {
  DEFAULT_MUX_RATE,
  encodePackHeader,
  encodePadding,
  encodePes,
  encodePesMpeg1,
  encodeProgramStreamMap,
  encodeStreamMap,
  encodeSystemHeader,
} from '../../tools/synthetic/ps-writer.js';

interface Collected {
  streams: Map<number, Buffer[]>;
  pts: Array<[number, number | undefined]>;
  maps: StreamMap[];
  demuxer: PsDemuxer;
}

/** Demux `bytes` pushed in the given chunk sizes; chunks are copied into one reused buffer, as a file reader does. */
function demux(bytes: Buffer, chunkSizes: number[] = [bytes.length]): Collected {
  const streams = new Map<number, Buffer[]>();
  const pts: Array<[number, number | undefined]> = [];
  const maps: StreamMap[] = [];
  const demuxer = new PsDemuxer({
    payload: (p: PesPiece) => {
      if (!streams.has(p.streamId)) streams.set(p.streamId, []);
      streams.get(p.streamId)!.push(Buffer.from(p.data));
      if (p.start) pts.push([p.streamId, p.pts]);
    },
    streamMap: (m) => maps.push(m),
  });
  const reused = Buffer.alloc(Math.max(1, ...chunkSizes));
  let pos = 0;
  let i = 0;
  while (pos < bytes.length) {
    const n = Math.min(chunkSizes[i++ % chunkSizes.length]!, bytes.length - pos);
    bytes.copy(reused, 0, pos, pos + n);
    demuxer.push(reused.subarray(0, n));
    reused.fill(0xaa); // a consumer that kept a view would now see garbage
    pos += n;
  }
  demuxer.end();
  return { streams, pts, maps, demuxer };
}

const video1 = Buffer.from('00000001674d401e' + 'ab'.repeat(300), 'hex');
const video2 = Buffer.from('0000000165888' + '4'.repeat(3) + 'cd'.repeat(200), 'hex');
const audio1 = Buffer.from('fff15080' + '21'.repeat(100), 'hex');

/** Pack headers with 6 stuffing bytes (FF FF + counter), PES headers with and without stuffing. */
function sample(): Buffer {
  return Buffer.concat([
    encodePackHeader(0, DEFAULT_MUX_RATE, 1, 2),
    encodeSystemHeader(DEFAULT_MUX_RATE, true),
    encodeProgramStreamMap({ video: 'h265', audio: 'alaw' }),
    encodePes(0xe0, video1.subarray(0, 200), 2 ** 33 - 10),
    encodePes(0xe0, video1.subarray(200), undefined),
    encodePes(0xc0, audio1, 12345, 3),
    encodePes(0xbd, Buffer.from([0, 0, 1, 0xba, 1, 2, 3]), undefined),
    encodePackHeader(3600, DEFAULT_MUX_RATE, 2, 2),
    encodePadding(50),
    encodePes(0xe0, video2, 3600),
    Buffer.from([0, 0, 1, 0xb9]),
  ]);
}

test('parses packs, system header, stream map, PES with PTS; skips private and padding by length', (t) => {
  const r = demux(sample());
  t.deepEqual(Buffer.concat(r.streams.get(0xe0)!), Buffer.concat([video1, video2]));
  t.deepEqual(Buffer.concat(r.streams.get(0xc0)!), audio1);
  t.false(r.streams.has(0xbd));
  t.deepEqual(r.pts, [
    [0xe0, 2 ** 33 - 10],
    [0xe0, undefined],
    [0xc0, 12345],
    [0xe0, 3600],
  ]);
  t.is(r.maps.length, 1);
  t.deepEqual(
    r.maps[0]!.entries.map((e) => [e.streamId, e.codec, e.kind]),
    [
      [0xe0, 'h265', 'video'],
      [0xc0, 'alaw', 'audio'],
    ],
  );
  const s = r.demuxer.stats;
  t.is(s.packs, 2);
  t.is(s.systemHeaders, 1);
  t.is(s.pesPackets, 4);
  t.is(s.skippedPackets, 2);
  t.is(s.garbageBytes, 0);
  t.false(s.truncatedTail);
});

test('stream types: H.264, AAC and private speech codecs', (t) => {
  const map = encodeStreamMap([
    { streamType: 0x1b, streamId: 0xe0 },
    { streamType: 0x0f, streamId: 0xc0 },
    { streamType: 0x92, streamId: 0xc1 },
    { streamType: 0x96, streamId: 0xc2 },
    { streamType: 0x97, streamId: 0xc3 },
  ]);
  const r = demux(Buffer.concat([encodePackHeader(0, DEFAULT_MUX_RATE, 0), map]));
  t.deepEqual(
    r.maps[0]!.entries.map((e) => e.codec),
    ['h264', 'aac', 'g7221', 'g726', 'stream-type-0x97'],
  );
});

test('garbage before a pack header and between packs is skipped by resynchronising', (t) => {
  const junk = Buffer.from('00000001e0ffff000001' + '77'.repeat(37) + '000001', 'hex');
  const bytes = Buffer.concat([junk, sample().subarray(0, 500), Buffer.from('00000001ba00', 'hex'), junk, sample()]);
  const r = demux(bytes, [7]);
  const v = Buffer.concat(r.streams.get(0xe0)!);
  t.true(v.subarray(v.length - video1.length - video2.length).equals(Buffer.concat([video1, video2])));
  t.true(r.demuxer.stats.resyncs >= 2);
  t.true(r.demuxer.stats.garbageBytes >= junk.length, 'at least the leading junk is counted');
});

test('a 40-byte IMKH file header is tolerated', (t) => {
  const imkh = Buffer.concat([Buffer.from('IMKH'), Buffer.alloc(36, 0x01)]);
  const r = demux(Buffer.concat([imkh, sample()]), [3]);
  t.true(r.demuxer.stats.imkhHeader);
  t.is(r.demuxer.stats.garbageBytes, 0);
  t.deepEqual(Buffer.concat(r.streams.get(0xe0)!), Buffer.concat([video1, video2]));
});

test('MPEG-1 packs and MPEG-1 PES syntax are tolerated', (t) => {
  const mpeg1Pack = Buffer.from([0, 0, 1, 0xba, 0x21, 0, 1, 0, 1, 0x80, 0, 1]);
  const r = demux(Buffer.concat([mpeg1Pack, encodePesMpeg1(0xe0, video1, 90000), encodePesMpeg1(0xe0, video2)]));
  t.is(r.demuxer.stats.mpeg1Packs, 1);
  t.deepEqual(r.pts, [
    [0xe0, 90000],
    [0xe0, undefined],
  ]);
  t.deepEqual(Buffer.concat(r.streams.get(0xe0)!), Buffer.concat([video1, video2]));
});

test('input cut inside a packet is reported as a truncated tail', (t) => {
  const bytes = sample();
  const r = demux(bytes.subarray(0, bytes.length - 100));
  t.true(r.demuxer.stats.truncatedTail);
});

test('property: any chunking gives the same payloads and timestamps as one push', (t) => {
  const bytes = Buffer.concat([Buffer.from('deadbeef00', 'hex'), sample(), sample()]);
  const whole = demux(bytes);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 40 }), (sizes) => {
      const r = demux(bytes, sizes);
      for (const id of [0xe0, 0xc0]) {
        if (!Buffer.concat(r.streams.get(id)!).equals(Buffer.concat(whole.streams.get(id)!))) return false;
      }
      return (
        JSON.stringify(r.pts) === JSON.stringify(whole.pts) &&
        r.demuxer.stats.garbageBytes === whole.demuxer.stats.garbageBytes
      );
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('every single split point of a small stream', (t) => {
  const bytes = sample();
  const whole = demux(bytes);
  for (let cut = 1; cut < bytes.length; cut++) {
    const r = demux(bytes, [cut, bytes.length]);
    t.deepEqual(Buffer.concat(r.streams.get(0xe0)!), Buffer.concat(whole.streams.get(0xe0)!), `cut at ${cut}`);
    t.deepEqual(r.pts, whole.pts, `cut at ${cut}`);
  }
});

test('the scalar sink (pes) gets exactly the pieces payload gets: stream, start, pts/dts (-1 when absent), bytes', (t) => {
  const bytes = sample();
  for (const chunk of [bytes.length, 7, 61]) {
    const viaPayload: string[] = [];
    const viaPes: string[] = [];
    const key = (id: number, start: boolean, pts: number, dts: number, data: Uint8Array) =>
      `${id}:${start}:${pts}:${dts}:${Buffer.from(data).toString('hex')}`;
    const a = new PsDemuxer({
      payload: (p) => viaPayload.push(key(p.streamId, p.start, p.pts ?? -1, p.dts ?? -1, p.data)),
    });
    const b = new PsDemuxer({ pes: (id, start, pts, dts, data) => viaPes.push(key(id, start, pts, dts, data)) });
    for (let pos = 0; pos < bytes.length; pos += chunk) {
      a.push(bytes.subarray(pos, pos + chunk));
      b.push(bytes.subarray(pos, pos + chunk));
    }
    t.true(viaPayload.length > 3);
    t.deepEqual(viaPes, viaPayload, `chunks of ${chunk}`);
  }
});
