import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { AccessUnitAssembler, MAX_ACCESS_UNIT_BYTES, type AccessUnit } from '../../lib/media/access-units.js';
import { splitNalUnits } from '../../tools/synthetic/es-reader.js';
import { PsDemuxer } from '../../lib/media/ps-demux.js';
import { PsMuxer, type AnnexBFrame, type AnnexBLayout } from '../../tools/synthetic/ps-writer.js';
import { makeAnnexB, readFrames, tempDir, type Codec, type SourceFrame } from './test-streams.js';

const tmp = tempDir();
test.after.always(() => tmp.cleanup());
const sources = new Map<Codec, Promise<SourceFrame[]>>();
function framesOf(codec: Codec): Promise<SourceFrame[]> {
  const known = sources.get(codec);
  if (known) return known;
  const frames = makeAnnexB(tmp.dir, codec).then((f) => readFrames(f, codec));
  sources.set(codec, frames);
  return frames;
}

/** A program stream of `frames` (video only; PES of at most 4096 bytes unless the layout says otherwise). */
function buildPs(codec: Codec, frames: AnnexBFrame[], layout: AnnexBLayout = {}): Buffer {
  return new PsMuxer({ video: codec, audio: 'none', maxPesPayload: 4096 }).annexBStream(frames, layout);
}

/** A frame as the assembler returns it: from its first 3-byte start code, without trailing zero bytes. */
function norm(b: Buffer): Buffer {
  const start = b.indexOf(Buffer.from([0, 0, 1]));
  let end = b.length;
  while (end > start && b[end - 1] === 0) end--;
  return b.subarray(start, end);
}

function assemble(
  codec: Codec,
  ps: Buffer,
  chunkSizes: number[] = [ps.length],
  lastComplete = false,
  lengthPrefixed = false,
): { aus: AccessUnit[]; asm: AccessUnitAssembler } {
  const aus: AccessUnit[] = [];
  const asm = new AccessUnitAssembler(codec, (au) => aus.push(au), { lengthPrefixed });
  const demuxer = new PsDemuxer({
    payload: (p) => {
      if (p.streamId === 0xe0) asm.push(p.data, p.start ? p.pts : undefined);
    },
  });
  const reused = Buffer.alloc(Math.max(...chunkSizes));
  let i = 0;
  for (let pos = 0; pos < ps.length;) {
    const n = Math.min(chunkSizes[i++ % chunkSizes.length]!, ps.length - pos);
    ps.copy(reused, 0, pos, pos + n);
    demuxer.push(reused.subarray(0, n));
    reused.fill(0x55);
    pos += n;
  }
  demuxer.end();
  asm.end({ lastComplete });
  return { aus, asm };
}

function expectFrames(t: ExecutionContext, aus: AccessUnit[], frames: SourceFrame[]): void {
  t.is(aus.length, frames.length);
  aus.forEach((au, i) => {
    t.true(au.data.equals(norm(frames[i]!.data)), `frame ${i} bytes`);
    t.is(au.pts, frames[i]!.pts, `frame ${i} pts`);
    t.is(au.key, frames[i]!.key, `frame ${i} key`);
  });
}

const layouts: Array<[string, AnnexBLayout]> = [
  ['one PES per frame', { pesPayload: 65000 }],
  ['frames split over many PES', { pesPayload: 100 }],
  ['every PES starts with the tail of the previous frame', { cut: 'shifted', shift: 9, pesPayload: 300 }],
];

for (const codec of ['h264', 'h265'] as const) {
  for (const [name, layout] of layouts) {
    test(`${codec}: ${name}`, async (t) => {
      const frames = await framesOf(codec);
      const ps = buildPs(codec, frames, layout);
      const { aus, asm } = assemble(codec, ps);
      expectFrames(t, aus, frames.slice(0, -1));
      t.is(asm.stats.droppedTail, 1, 'the last frame may be cut: dropped');
      t.true(aus[0]!.hasParameterSets);
      t.deepEqual(
        aus.flatMap((a, i) => (a.key ? [i] : [])),
        [0, 25],
      );
    });
  }

  test(`${codec}: the last frame is kept when the caller knows it is complete`, async (t) => {
    const frames = await framesOf(codec);
    const { aus } = assemble(codec, buildPs(codec, frames), undefined, true);
    expectFrames(t, aus, frames);
  });

  test(`${codec}: everything before the first key frame with parameter sets is dropped`, async (t) => {
    const frames = await framesOf(codec);
    const { aus, asm } = assemble(codec, buildPs(codec, frames.slice(3)));
    expectFrames(t, aus, frames.slice(25, -1));
    t.is(asm.stats.droppedBeforeKey, 22);
  });

  test(`${codec}: length-prefixed output = the Annex-B frames with each start code replaced by the NAL length`, async (t) => {
    const frames = await framesOf(codec);
    const ps = buildPs(codec, frames, { cut: 'shifted', shift: 7, pesPayload: 500 });
    const annexB = assemble(codec, ps, [4096], true).aus;
    const prefixed = assemble(codec, ps, [4096], true, true).aus;
    t.is(prefixed.length, frames.length);
    prefixed.forEach((au, i) => {
      const expected = Buffer.concat(
        splitNalUnits(annexB[i]!.data).flatMap((nal) => {
          const len = Buffer.alloc(4);
          len.writeUInt32BE(nal.length);
          return [len, nal];
        }),
      );
      t.true(au.data.equals(expected), `frame ${i}`);
      t.is(au.pts, annexB[i]!.pts);
      t.is(au.key, annexB[i]!.key);
    });
  });

  test(`${codec}: property: random read chunking yields the same frames`, async (t) => {
    const frames = (await framesOf(codec)).slice(0, 12);
    const ps = buildPs(codec, frames, { cut: 'shifted', shift: 5, pesPayload: 700 });
    const whole = assemble(codec, ps).aus;
    t.is(whole.length, 11);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 30 }), (sizes) => {
        const aus = assemble(codec, ps, sizes).aus;
        return (
          aus.length === whole.length && aus.every((a, i) => a.data.equals(whole[i]!.data) && a.pts === whole[i]!.pts)
        );
      }),
      { numRuns: 150 },
    );
  });
}

test('H.264: several slices of one picture stay one access unit; SEI and AUD open the next one', (t) => {
  const nal = (hex: string) => Buffer.from('000001' + hex, 'hex');
  const es = Buffer.concat([
    nal('674d401e'),
    nal('68ee3c80'),
    nal('65888421'),
    nal('65401234'), // IDR: first_mb 0, then first_mb 1 ('010')
    nal('060501ff80'),
    nal('419a0011'),
    nal('41400022'), // SEI opens AU 2: P slices first_mb 0, 1
    nal('0910'),
    nal('419a0033'), // AUD opens AU 3
    nal('419a0044'), // first_mb 0: AU 4
  ]);
  const aus: AccessUnit[] = [];
  const asm = new AccessUnitAssembler('h264', (au) => aus.push(au));
  asm.push(es, 1000);
  asm.end({ lastComplete: true });
  t.deepEqual(
    aus.map((a) => a.data.toString('hex')),
    [
      '000001674d401e00000168ee3c800000016588842100000165401234',
      '000001060501ff80000001419a001100000141400022',
      '0000010910000001419a0033',
      '000001419a0044',
    ],
  );
  t.deepEqual(
    aus.map((a) => [a.key, a.hasParameterSets]),
    [
      [true, true],
      [false, false],
      [false, false],
      [false, false],
    ],
  );
  t.is(aus[0]!.pts, 1000);
  t.is(aus[1]!.pts, undefined);
});

test('H.265: a PES boundary inside a start code still gives the PTS to the frame it starts', (t) => {
  const vps = Buffer.from('0000000140010c01ffff016000000300900000030000030078959809', 'hex');
  const sps = Buffer.from('0000000142010101600000030090000003000003007', 'hex');
  const pps = Buffer.from('000000014401c172b46240', 'hex');
  const idr = Buffer.from('000000012601af0950', 'hex');
  const p1 = Buffer.from('000000010201d0aabb', 'hex');
  const aus: AccessUnit[] = [];
  const asm = new AccessUnitAssembler('h265', (au) => aus.push(au));
  asm.push(Buffer.concat([vps, sps, pps, idr, Buffer.from([0x00, 0x00])]), 1000); // x265 trailing zero + half a start code
  asm.push(Buffer.concat([p1.subarray(2)]), 4600); // this PES begins inside the start code of frame 2
  asm.end({ lastComplete: true });
  t.is(aus.length, 2);
  t.deepEqual(
    aus.map((a) => a.pts),
    [1000, 4600],
  );
  t.true(aus[0]!.key);
  t.is(aus[1]!.data.toString('hex'), '0000010201d0aabb');
});

/** The PTS marks an assembler holds (private: how much memory a long stretch without frames costs). */
const pendingMarks = (asm: AccessUnitAssembler): number => (asm as unknown as { marks: unknown[] }).marks.length;
const H264_START = Buffer.from([0, 0, 0, 1, 0x67, 0x80, 0, 0, 1, 0x68, 0x80, 0, 0, 1, 0x65, 0x88]);

test('a stream without start codes keeps one PTS mark, not one per PES; the next frame still gets the latest', (t) => {
  const aus: AccessUnit[] = [];
  const asm = new AccessUnitAssembler('h264', (au) => aus.push(au));
  asm.push(H264_START, 1000);
  const junk = Buffer.alloc(16, 0xab); // corrupt or encrypted payloads: no 00 00 01 anywhere
  for (let i = 1; i <= 10_000; i++) asm.push(junk, 1000 + i * 3600);
  t.true(pendingMarks(asm) <= 2, `${pendingMarks(asm)} marks pending`);
  asm.push(Buffer.from([0, 0, 1, 0x41, 0x9a, 1, 2, 3]));
  asm.end({ lastComplete: true });
  t.deepEqual(
    aus.map((a) => a.pts),
    [1000, 1000 + 10_000 * 3600],
  );
});

test('an access unit over MAX_ACCESS_UNIT_BYTES is dropped also when it arrives in one push', (t) => {
  const aus: AccessUnit[] = [];
  const asm = new AccessUnitAssembler('h264', (au) => aus.push(au));
  const huge = Buffer.alloc(MAX_ACCESS_UNIT_BYTES + 1, 0xab);
  asm.push(Buffer.concat([H264_START, huge, H264_START, Buffer.from([1, 2, 3])]), 1000);
  asm.end({ lastComplete: true });
  t.is(asm.stats.droppedOversize, 1);
  t.true(
    aus.every((a) => a.data.length <= MAX_ACCESS_UNIT_BYTES),
    `sizes ${aus.map((a) => a.data.length).join(', ')}`,
  );
  t.is(aus.length, 1, 'the next frame is delivered');
});

test('views mode: access units handed out as views stay intact until release(), across buffer moves (regression: a move inside the buffer changed frames not yet written)', (t) => {
  // Several MiB of H.264-like access units (no zero bytes in payloads), pushed in uneven pieces through one reused
  // input buffer; the receiver checks and releases only every few pushes, as the remux session does per read chunk.
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  const payload = (first: number, n: number) => {
    const b = Buffer.alloc(n);
    b[0] = first;
    for (let i = 1; i < n; i++) b[i] = 1 + rand(255);
    return b;
  };
  const expected: Buffer[] = [];
  const es: Buffer[] = [];
  for (let f = 0; f < 160; f++) {
    const nals =
      f % 25 === 0
        ? [payload(0x67, 12), payload(0x68, 4), payload(0x65, 20000 + rand(180000))]
        : [payload(0x41, 2000 + rand(60000))];
    nals.forEach((n) => (n[1] = n[1]! | 0x80)); // first_mb_in_slice = 0
    es.push(...nals.flatMap((n, i) => [Buffer.from(i === 0 ? [0, 0, 0, 1] : [0, 0, 1]), n]));
    expected.push(
      Buffer.concat(
        nals.flatMap((n) => {
          const len = Buffer.alloc(4);
          len.writeUInt32BE(n.length);
          return [len, n];
        }),
      ),
    );
  }
  const stream = Buffer.concat(es);
  t.true(stream.length > 4 * 1024 * 1024, `${stream.length} bytes of elementary stream`);
  const got: AccessUnit[] = [];
  let checked = 0;
  // Every buffer beyond the first comes from `allocate` (the remux passes its buffer pool there).
  const first = Buffer.alloc(1024 * 1024);
  const allocated: Buffer[] = [];
  const allocate = (size: number) => {
    const b = Buffer.alloc(size);
    allocated.push(b);
    return b;
  };
  const asm = new AccessUnitAssembler('h264', (au) => got.push(au), { views: true, buffer: first, allocate });
  const input = Buffer.alloc(300_000);
  let pushes = 0;
  const drain = () => {
    for (; checked < got.length; checked++) {
      const au = got[checked]!;
      t.truthy(au.parts);
      const bytes = Buffer.concat(au.parts!);
      t.is(bytes.length, au.size);
      if (!bytes.equals(expected[checked]!)) t.fail(`frame ${checked} changed before it was released`);
    }
    asm.release();
  };
  for (let pos = 0; pos < stream.length;) {
    const n = Math.min(1 + rand(input.length), stream.length - pos);
    stream.copy(input, 0, pos, pos + n);
    asm.push(input.subarray(0, n));
    input.fill(0x55);
    pos += n;
    if (++pushes % 10 === 0) drain();
  }
  asm.end({ lastComplete: true });
  drain();
  t.is(checked, expected.length);
  t.true(allocated.length > 0, 'the spare buffer was asked for');
  for (const b of asm.buffers()) t.true(b === first || allocated.includes(b), 'a working buffer not from allocate');
});

test('views mode: length fields are written in place over 4-byte start codes, so a frame (and the frames after it) is one contiguous view; 3-byte start codes and extra zeros still give the exact length-prefixed bytes', (t) => {
  const nal = (first: number, n: number, fill: number) => {
    const b = Buffer.alloc(n, fill);
    b[0] = first;
    b[1] = 0x80 | fill; // first_mb_in_slice = 0
    return b;
  };
  const prefixed = (nals: Buffer[]) =>
    Buffer.concat(
      nals.flatMap((n) => {
        const len = Buffer.alloc(4);
        len.writeUInt32BE(n.length);
        return [len, n];
      }),
    );
  // Frame 0: SPS, PPS, IDR; frames 1-3: one slice each. `sc` = the bytes before each NAL of a frame.
  const frames = [
    [nal(0x67, 10, 0x11), nal(0x68, 4, 0x12), nal(0x65, 3000, 0x13)],
    [nal(0x41, 2000, 0x21)],
    [nal(0x41, 1500, 0x22)],
    [nal(0x41, 1700, 0x23)],
    [nal(0x41, 900, 0x24)],
  ];
  const run = (startCodes: (frame: number, nalIndex: number) => number[]) => {
    const es = Buffer.concat(frames.flatMap((f, i) => f.flatMap((n, j) => [Buffer.from(startCodes(i, j)), n])));
    const got: AccessUnit[] = [];
    const asm = new AccessUnitAssembler('h264', (au) => got.push(au), { views: true });
    for (let pos = 0; pos < es.length; pos += 777) asm.push(es.subarray(pos, Math.min(pos + 777, es.length)));
    asm.end({ lastComplete: true });
    t.is(got.length, frames.length);
    got.forEach((au, i) => t.true(Buffer.concat(au.parts!).equals(prefixed(frames[i]!)), `frame ${i} bytes`));
    return got;
  };
  // 4-byte start codes everywhere: after the stream's first byte every frame is ONE view, right after the previous.
  const four = run(() => [0, 0, 0, 1]);
  for (let i = 1; i < four.length; i++) {
    t.is(four[i]!.parts!.length, 1, `frame ${i}: one view`);
    const prev = four[i - 1]!.parts!.at(-1)!;
    t.is(four[i]!.parts![0]!.byteOffset, prev.byteOffset + prev.length, `frame ${i} follows frame ${i - 1}`);
  }
  // 3-byte start codes: a separate length field before each NAL.
  const three = run(() => [0, 0, 1]);
  t.is(three[1]!.parts!.length, 2);
  t.is(three[1]!.parts![0]!.length, 4);
  // Extra zero bytes before a start code (x265's trailing_zero_8bits): not part of any sample.
  const zeros = run((i, j) => (j === 0 && i % 2 === 1 ? [0, 0, 0, 0, 0, 1] : [0, 0, 0, 1]));
  t.is(zeros.length, frames.length);
});
