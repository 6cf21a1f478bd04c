/**
 * Fuzzing the PS demuxer: bytes of a hiv range are untrusted (overwritten, half-written, bit-rotted). Whatever
 * the bytes and however they are chunked, the demuxer throws nothing (it documents no error: damage is counted in
 * its stats), returns from every push, hands out only bytes of its input, in order, and allocates nothing sized by
 * a length field beyond what that 16-bit field can say.
 */
import test from 'ava';
import fc from 'fast-check';
import { PsDemuxer, type PesPiece, type StreamMap } from '../../lib/media/ps-demux.js';
import { fuzzParams, largestAllocation, withDeadline } from '../helpers/fuzz.js';
import { cameraStream, chunkSizes, mutated, piecesComeFrom, pushChunked, slices } from './fuzz-inputs.js';

interface Demuxed {
  pieces: Array<{ streamId: number; start: boolean; pts: number | undefined; data: Buffer }>;
  maps: StreamMap[];
  demuxer: PsDemuxer;
}

function demux(bytes: Buffer, sizes: readonly number[] = [bytes.length]): Demuxed {
  const pieces: Demuxed['pieces'] = [];
  const maps: StreamMap[] = [];
  const demuxer = new PsDemuxer({
    payload: (p: PesPiece) => {
      pieces.push({ streamId: p.streamId, start: p.start, pts: p.pts, data: Buffer.from(p.data) });
    },
    streamMap: (m) => maps.push(m),
  });
  pushChunked(bytes, sizes, (chunk) => demuxer.push(chunk));
  demuxer.end();
  return { pieces, maps, demuxer };
}

/** What a consumer sees of one stream: its bytes, and where each PES payload starts with which PTS. */
function streamView(d: Demuxed): string {
  const out: Array<[number, number | undefined, number]> = [];
  const bytes = new Map<number, Buffer[]>();
  for (const p of d.pieces) {
    const list = bytes.get(p.streamId) ?? [];
    if (p.start) out.push([p.streamId, p.pts, list.reduce((n, b) => n + b.length, 0)]);
    list.push(p.data);
    bytes.set(p.streamId, list);
  }
  const digest = [...bytes].map(([id, list]) => [id, Buffer.concat(list).toString('base64')]);
  return JSON.stringify({ out, digest, maps: d.maps.length });
}

/**
 * The properties of one input: no exception, every payload a run of input bytes in order (never one of the
 * scribbled chunk bytes or a header), nothing more emitted than came in, and the same result as one push.
 */
function check(bytes: Buffer, sizes: readonly number[]): boolean {
  const chunked = demux(bytes, sizes);
  const whole = demux(bytes);
  const emitted = chunked.pieces.reduce((n, p) => n + p.data.length, 0);
  return (
    piecesComeFrom(
      bytes,
      chunked.pieces.map((p) => p.data),
    ) &&
    emitted <= bytes.length &&
    chunked.pieces.every((p) => p.data.length > 0) &&
    streamView(chunked) === streamView(whole) &&
    chunked.demuxer.stats.garbageBytes === whole.demuxer.stats.garbageBytes
  );
}

const H264 = await cameraStream('h264');
const H265 = await cameraStream('h265');

/** Bytes that look like PS headers more often than random bytes do: start codes with every id, u16 lengths. */
const psLike = fc
  .array(
    fc.oneof(
      fc.uint8Array({ maxLength: 40, size: 'max' }),
      fc
        .tuple(fc.integer({ min: 0xb9, max: 0xff }), fc.nat(0xffff), fc.uint8Array({ maxLength: 24, size: 'max' }))
        .map(([id, len, rest]) => Buffer.concat([Buffer.from([0, 0, 1, id, len >> 8, len & 0xff]), rest])),
      fc.constant(Buffer.from([0, 0, 1, 0xba, 0x44, 0, 4, 0, 4, 1, 1, 0x89, 0xc3, 0xf8])),
      fc.constant(Buffer.from([0, 0, 1, 0xe0, 0, 16, 0x80, 0x80, 5, 0x21, 0, 1, 0, 1, 0, 0, 1, 0x65])),
    ),
    { maxLength: 60 },
  )
  .map((parts) => Buffer.concat(parts));

test('random bytes, any chunking: no exception, payloads are input bytes in order, same as one push', (t) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 8192, size: 'max' }).map((a) => Buffer.from(a)),
      chunkSizes,
      withDeadline(check),
    ),
    fuzzParams(),
  );
  t.pass();
});

test('PS-like bytes (start codes of every id, random lengths), any chunking: the same properties', (t) => {
  fc.assert(fc.property(psLike, chunkSizes, withDeadline(check)), fuzzParams());
  t.pass();
});

test('a camera stream cut anywhere (start and end), any chunking: the same properties', (t) => {
  fc.assert(fc.property(fc.oneof(slices(H264), slices(H265)), chunkSizes, withDeadline(check)), fuzzParams(0.5));
  t.pass();
});

test('a camera stream cut at its end emits a prefix of what the whole stream emits', (t) => {
  const whole = new Map([H264, H265].map((s) => [s, demux(s)]));
  fc.assert(
    fc.property(
      fc.constantFrom(H264, H265),
      fc.double({ min: 0, max: 1, noNaN: true }),
      chunkSizes,
      withDeadline((s, f, sizes) => {
        const cut = demux(s.subarray(0, Math.floor(f * s.length)), sizes);
        const all = whole.get(s)!;
        for (const id of [0xe0, 0xc0]) {
          const a = Buffer.concat(cut.pieces.filter((p) => p.streamId === id).map((p) => p.data));
          const b = Buffer.concat(all.pieces.filter((p) => p.streamId === id).map((p) => p.data));
          if (!b.subarray(0, a.length).equals(a)) return false;
        }
        return !cut.demuxer.stats.truncatedTail || f < 1;
      }),
    ),
    fuzzParams(0.5),
  );
  t.pass();
});

test('a damaged camera stream (edits, a run deleted, random bytes inserted), any chunking: the same properties', (t) => {
  fc.assert(fc.property(fc.oneof(mutated(H264), mutated(H265)), chunkSizes, withDeadline(check)), fuzzParams(0.5));
  t.pass();
});

test.serial(
  'a PES and a stream map declaring 65535 bytes in a tiny input: nothing past the input, bounded allocation',
  async (t) => {
    const pes = Buffer.from([0, 0, 1, 0xe0, 0xff, 0xff, 0x80, 0x80, 5, 0x21, 0, 1, 0, 1, 0, 0, 0, 1, 0x65, 0x88]);
    const map = Buffer.from([0, 0, 1, 0xbc, 0xff, 0xff, 0xe0, 0xff, 0, 0, 0, 4, 0x1b, 0xe0, 0, 0]);
    for (const bytes of [pes, map, Buffer.concat([map, pes])]) {
      const { largest, result } = await largestAllocation(() => demux(bytes, [3]));
      t.true(result.demuxer.stats.truncatedTail, 'the declared length runs past the input');
      t.true(
        piecesComeFrom(
          bytes,
          result.pieces.map((p) => p.data),
        ),
      );
      t.true(result.pieces.reduce((n, p) => n + p.data.length, 0) <= bytes.length);
      // A 16-bit length can ask for at most 64 KiB (a stream map is collected whole); nothing larger.
      t.true(largest <= 0xffff + 4096, `largest allocation ${largest}`);
    }
  },
);
