/**
 * Inputs and checks shared by the media fuzz tests (*.fuzz.test.ts): valid program streams made from the committed
 * fixtures by the synthetic camera's muxer (tools/synthetic, written independently of lib/media), arbitraries
 * that damage bytes, and the check that output bytes come from the input.
 */
import fc from 'fast-check';
import { loadAudioFixture, loadVideoFixture } from '../../tools/synthetic/fixtures.js';
import {
  DEFAULT_MUX_RATE,
  encodePackHeader,
  encodePesMpeg1,
  PsMuxer,
  type AnnexBFrame,
} from '../../tools/synthetic/ps-writer.js';

export type Codec = 'h264' | 'h265';

/** Annex-B frames of the small fixture (50 frames, two GOPs, 160x120) as the muxer takes them. */
export async function fixtureFrames(codec: Codec): Promise<AnnexBFrame[]> {
  const { frames } = await loadVideoFixture(codec, 'small');
  const startCode = Buffer.from([0, 0, 0, 1]);
  return frames.map((f, i) => ({
    data: Buffer.concat(f.nals.flatMap((n) => [startCode, n])),
    key: f.key,
    pts: 900_000 + i * 3600,
  }));
}

/** The fixture's Annex-B elementary stream. */
export async function fixtureEs(codec: Codec): Promise<Buffer> {
  return Buffer.concat((await fixtureFrames(codec)).map((f) => f.data));
}

/** The AAC fixture as one ADTS stream. */
export async function fixtureAdts(): Promise<Buffer> {
  return Buffer.concat((await loadAudioFixture('aac')).audio.frames);
}

/**
 * A camera-like program stream of the first `frames` fixture frames with AAC audio, private and padding packets,
 * small PES packets (many headers per byte), PES that begin with the tail of the previous frame, an IMKH file
 * header and an MPEG-1 pack in front: every kind of header the demuxer reads.
 */
export async function cameraStream(codec: Codec, frames = 12): Promise<Buffer> {
  const video = (await fixtureFrames(codec)).slice(0, frames);
  const adts = (await loadAudioFixture('aac')).audio.frames;
  const audio = adts.slice(0, frames).map((data, i) => ({ data, pts: 900_000 + i * 5760 }));
  const mux = new PsMuxer({ video: codec, audio: 'aac', maxPesPayload: 512, privateEvery: 3, paddingEvery: 5 });
  const imkh = Buffer.concat([Buffer.from('IMKH'), Buffer.alloc(36, 1)]);
  const mpeg1Pack = Buffer.from([0, 0, 1, 0xba, 0x21, 0, 1, 0, 1, 0x80, 0, 1]);
  return Buffer.concat([
    imkh,
    mpeg1Pack,
    encodePesMpeg1(0xe0, Buffer.from([0, 0, 0, 1, 9, 0xf0]), 899_000),
    encodePackHeader(899_000, DEFAULT_MUX_RATE, 7, 3),
    mux.annexBStream(video, { pesPayload: 700, cut: 'shifted', shift: 5, audio }),
  ]);
}

/** Byte edits: [position as a fraction of the length, value]; a fraction so one arbitrary fits any input. */
const edit = fc.tuple(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.nat(255));

/**
 * A damaged copy of `bytes`: byte edits, then maybe a run deleted or a run of random bytes inserted (what a torn
 * write, an overwrite by a new recording or a bit flip in storage leaves).
 */
export function mutated(bytes: Uint8Array, maxEdits = 16): fc.Arbitrary<Buffer> {
  return fc
    .record({
      edits: fc.array(edit, { minLength: 0, maxLength: maxEdits }),
      cut: fc.option(fc.tuple(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.nat(2000))),
      insert: fc.option(
        fc.tuple(
          fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
          fc.uint8Array({ maxLength: 64, size: 'max' }),
        ),
      ),
    })
    .map(({ edits, cut, insert }) => {
      let b = Buffer.from(bytes);
      for (const [at, v] of edits) b[Math.floor(at * b.length)] = v;
      if (cut) {
        const from = Math.floor(cut[0] * b.length);
        b = Buffer.concat([b.subarray(0, from), b.subarray(from + cut[1])]);
      }
      if (insert) {
        const at = Math.floor(insert[0] * b.length);
        b = Buffer.concat([b.subarray(0, at), insert[1], b.subarray(at)]);
      }
      return b;
    });
}

/** A part [from, to) of `bytes`, as a byte range cut anywhere. */
export function slices(bytes: Uint8Array): fc.Arbitrary<Buffer> {
  return fc
    .tuple(fc.nat(bytes.length), fc.nat(bytes.length))
    .map(([a, b]) => Buffer.from(bytes.subarray(Math.min(a, b), Math.max(a, b))));
}

/** Chunk sizes for a reader's pushes (cycled), small ones included: header and start-code edges. */
export const chunkSizes = fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 12 });

/**
 * Whether every piece is a run of bytes of `input`, in order and without overlap: each is searched from where
 * the previous one ended. Earliest matches leave the most room to the rest, so a miss means no placement exists.
 */
export function piecesComeFrom(input: Buffer, pieces: readonly Uint8Array[]): boolean {
  let from = 0;
  for (const p of pieces) {
    if (p.length === 0) continue;
    const at = input.indexOf(p, from);
    if (at < 0) return false;
    from = at + p.length;
  }
  return true;
}

/** Push `bytes` in `sizes` (cycled) through one reused buffer that is scribbled over after each push. */
export function pushChunked(bytes: Buffer, sizes: readonly number[], push: (chunk: Buffer) => void): void {
  const reused = Buffer.alloc(Math.max(1, ...sizes));
  let i = 0;
  for (let pos = 0; pos < bytes.length;) {
    const n = Math.min(sizes[i++ % sizes.length]!, bytes.length - pos);
    bytes.copy(reused, 0, pos, pos + n);
    push(reused.subarray(0, n));
    reused.fill(0xa5); // a reader that kept a view into the chunk now sees other bytes
    pos += n;
  }
}
