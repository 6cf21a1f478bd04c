import test from 'ava';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { writeSyntheticShare, type SyntheticCamera } from '../../../tools/synthetic/share-writer.js';
import { loadVideoFixture, loadPictureFixtures } from '../../../tools/synthetic/fixtures.js';
import { ShareOptionsError } from '../../../tools/synthetic/errors.js';
import type { CameraTruth, GroundTruth, TruthRecording } from '../../../tools/synthetic/truth-types.js';
import { videoFrames, view, walkPs } from './helpers.js';

const MiB = 1024 * 1024;
const roots: string[] = [];
test.after.always(async () => {
  await Promise.all(roots.map((r) => rm(r, { recursive: true, force: true })));
});

async function share(seed: number, cameras: SyntheticCamera[]): Promise<GroundTruth> {
  const root = await mkdtemp(path.join(tmpdir(), 'synthetic-share-'));
  roots.push(root);
  return writeSyntheticShare({ root, seed, cameras });
}

/** Read one slot with DataView at the doc's offsets. */
function slotAt(index: Buffer, f: number, j: number, slotsPerFile = 256, recordSize = 80) {
  const dv = view(index);
  const avFiles = dv.getUint32(12, true);
  const at = 1280 + 32 * avFiles + (f * slotsPerFile + j) * recordSize;
  return {
    type: index[at]!,
    start: { sec: dv.getUint32(at + 8, true), usec: dv.getUint32(at + 12, true) },
    end: { sec: dv.getUint32(at + 16, true), usec: dv.getUint32(at + 20, true) },
    firstStamp: dv.getUint32(at + 32, true),
    lastStamp: dv.getUint32(at + 36, true),
    startOffset: dv.getUint32(at + 40, true),
    endOffset: dv.getUint32(at + 44, true),
  };
}
const fileRecord = (index: Buffer, f: number) => {
  const dv = view(index);
  return {
    fileNo: dv.getUint32(1280 + 32 * f, true),
    chan: dv.getUint16(1280 + 32 * f + 4, true),
    segRecNums: dv.getUint16(1280 + 32 * f + 6, true),
  };
};
const currentEntry = (index: Buffer) => ({
  fileNo: view(index).getUint16(0x30, true),
  segNo: view(index).getUint16(0x32, true),
});
const usec = (t: { sec: number; usec: number }) => t.sec * 1e6 + t.usec;

async function readRange(root: string, r: { source: string; startOffset: number; endOffset: number }): Promise<Buffer> {
  return (await readFile(path.join(root, r.source))).subarray(r.startOffset, r.endOffset);
}
const indexOf = (root: string, cam: CameraTruth, datadir: string, name = 'index00.bin') =>
  readFile(path.join(root, cam.dir, datadir, name));

const TRAPS: SyntheticCamera = {
  name: 'Trap Cam',
  codec: 'h264',
  audio: 'aac',
  avFiles: 4,
  fileSize: 1 * MiB,
  events: 14,
  pictures: 5,
};

test('every truth recording matches its index slot and its bytes decode to the fixture frames', async (t) => {
  const truth = await share(11, [
    TRAPS,
    {
      name: 'hevc',
      codec: 'h265',
      audio: 'alaw',
      avFiles: 3,
      fileSize: 2 * MiB,
      events: 9,
      indexVersion: 3,
      pictureStride: 256,
      pictures: 3,
    },
  ]);
  for (const cam of truth.cameras) {
    const fixture = await loadVideoFixture(cam.codec, 'small');
    const videos = cam.recordings.filter((r) => r.kind === 'video');
    t.true(videos.length >= 5, `${cam.name}: ${videos.length} video recordings`);
    for (const r of videos) {
      const index = await indexOf(truth.root, cam, r.datadir);
      const s = slotAt(index, r.fileNo, r.slot);
      t.deepEqual(
        {
          start: s.start,
          end: s.end,
          startOffset: s.startOffset,
          endOffset: s.endOffset,
          firstStamp: s.firstStamp,
          lastStamp: s.lastStamp,
        },
        {
          start: r.start,
          end: r.end,
          startOffset: r.startOffset,
          endOffset: r.endOffset,
          firstStamp: r.firstStamp,
          lastStamp: r.lastStamp,
        },
      );
      t.is(s.type, 0x0d);
      t.is(r.startOffset % 4096, 0, '4096-aligned');
      t.is(usec(r.end) - usec(r.start), r.frames * 40_000, 'index duration = frames / fps');
      t.is(
        (r.lastStamp - r.firstStamp) >>> 0,
        r.clockJump ? (r.frames * 1800 + r.clockJump.delta / 2) >>> 0 : r.frames * 1800,
      );
      const bytes = await readRange(truth.root, r);
      t.deepEqual([...bytes.subarray(0, 4)], [0, 0, 1, 0xba]);
      t.is(bytes[4]! & 0xc0, 0x40);
      const packets = walkPs(bytes);
      t.is(packets[1]!.code, 0xbb, 'system header right after the first pack header');
      const { frames } = videoFrames(packets);
      t.is(frames.length, r.frames);
      frames.forEach((f, i) =>
        t.deepEqual(
          f.nals,
          fixture.frames[(r.fixtureFirstFrame + i) % r.fixtureFrames]!.nals.map((n) => Buffer.from(n)),
        ),
      );
      t.is(packets.filter((p) => p.code === 0xc0).length, r.audioFrames);
      const v3 = index.subarray(
        1280 + 32 * cam.avFiles + (r.fileNo * 256 + r.slot) * 80 + 52,
        1280 + 32 * cam.avFiles + (r.fileNo * 256 + r.slot) * 80 + 56,
      );
      t.is(v3.toString('latin1') === 'OFNI', cam.indexVersion === 3);
    }
    const pictureFixtures = new Map((await loadPictureFixtures()).map((p) => [p.info.file, p.bytes]));
    const pictures = cam.recordings.filter((r) => r.kind === 'picture');
    t.is(pictures.length, cam.name === 'hevc' ? 3 : 5);
    for (const p of pictures) {
      const jpeg = (await readFile(path.join(truth.root, p.source))).subarray(p.jpeg!.start, p.jpeg!.end);
      t.deepEqual(jpeg, pictureFixtures.get(p.fixture));
      t.is(p.startOffset, p.jpeg!.start);
      t.true(p.endOffset >= p.jpeg!.end);
      const s = slotAt(
        await indexOf(truth.root, cam, p.datadir, 'index00p.bin'),
        p.fileNo,
        p.slot,
        cam.picture.slotsPerFile,
        cam.picture.recordSize,
      );
      t.deepEqual([s.start, s.end, s.startOffset, s.endOffset], [p.start, p.start, p.startOffset, p.endOffset]);
    }
  }
});

test('every trap is present: wrapped ring, stale slots, open segment, split recording, same-second starts', async (t) => {
  const truth = await share(5, [TRAPS]);
  const cam = truth.cameras[0]!;
  const index = await indexOf(truth.root, cam, 'datadir0');
  const copy = await indexOf(truth.root, cam, 'datadir0', 'index01.bin');
  t.deepEqual(copy, index, 'index01.bin is a byte copy');
  t.is(index.length, MiB);
  t.true(cam.ringWrapped);

  // Open segment: the header's current entry points at it; end time and end offset are 0; bytes partly there.
  t.is(cam.open.length, 1);
  const open = cam.open[0]!;
  t.deepEqual(currentEntry(index), { fileNo: open.fileNo, segNo: open.slot });
  const os = slotAt(index, open.fileNo, open.slot);
  t.deepEqual([os.end, os.endOffset, os.type], [{ sec: 0, usec: 0 }, 0, 0x0d]);
  t.true(os.start.sec > 0);
  const hiv = await readFile(path.join(truth.root, cam.dir, 'datadir0', `hiv0000${open.fileNo}.mp4`));
  t.true(open.bytesWritten! > 0);
  t.deepEqual([...hiv.subarray(open.startOffset, open.startOffset + 4)], [0, 0, 1, 0xba]);
  // The current file's FileRecord is stale (previous cycle or empty): it does not describe this cycle's slots.
  const cur = fileRecord(index, open.fileNo);
  t.true(cur.chan === 0xffff || cur.segRecNums + 1 !== open.slot);

  // Stale slots: beyond segRecNums (closed files) or beyond segNo (current file), with real-looking records
  // that start earlier than the valid slot before them (an earlier ring cycle).
  t.true(cam.stale.length > 0);
  for (const s of cam.stale) {
    const fr = fileRecord(index, s.fileNo);
    const limit = s.fileNo === open.fileNo ? open.slot : fr.segRecNums;
    t.true(s.slot > limit);
    const rec = slotAt(index, s.fileNo, s.slot);
    t.true(rec.type !== 0 && rec.endOffset > rec.startOffset && rec.end.sec > 0);
    if (s.slot > 0) {
      const before = slotAt(index, s.fileNo, s.slot - 1);
      if (s.slot - 1 <= limit && !(s.fileNo === open.fileNo && s.slot - 1 === open.slot))
        t.true(usec(rec.start) < usec(before.start));
    }
    t.false(cam.recordings.some((r) => r.kind === 'video' && r.fileNo === s.fileNo && r.slot === s.slot));
  }
  t.true(
    cam.stale.some((s) => s.fileNo !== open.fileNo),
    'stale tail in a closed file',
  );

  // A recording split across two hiv files: ends exactly where slot 0 of the next file starts.
  const splits = cam.recordings.filter((r) => r.kind === 'video' && r.continues);
  t.true(splits.length > 0);
  let joined = 0;
  for (const a of splits) {
    const b = cam.recordings.find((r) => r.kind === 'video' && r.event === a.event && r.part === a.part + 1);
    if (!b) continue; // the continuation may be the open segment
    joined++;
    t.is(b.slot, 0);
    t.is(b.startOffset, 0);
    t.is(b.fileNo, (a.fileNo + 1) % cam.avFiles);
    t.deepEqual(b.start, a.end);
    t.is(b.firstStamp, a.lastStamp);
  }
  t.true(joined > 0);

  // Two recordings that start in the same second (different microseconds).
  const videos = cam.recordings.filter((r) => r.kind === 'video');
  t.true(
    videos.some(
      (r, i) => i > 0 && r.start.sec === videos[i - 1]!.start.sec && r.start.usec !== videos[i - 1]!.start.usec,
    ),
  );
  t.true(
    videos.every((r, i) => i === 0 || usec(r.start) >= usec(videos[i - 1]!.start)),
    'listed in time order',
  );
});

test('never-used files have empty FileRecords (chan 0xFFFF) and no slots', async (t) => {
  const truth = await share(3, [
    { name: 'fresh', codec: 'h265', audio: 'none', avFiles: 8, fileSize: 2 * MiB, events: 3 },
  ]);
  const cam = truth.cameras[0]!;
  t.false(cam.ringWrapped);
  t.is(cam.stale.length, 0);
  t.true(cam.emptyFiles.length >= 6);
  const index = await indexOf(truth.root, cam, 'datadir0');
  for (const { fileNo } of cam.emptyFiles) {
    t.is(fileRecord(index, fileNo).chan, 0xffff);
    for (let j = 0; j < 256; j++) t.is(slotAt(index, fileNo, j).type, 0);
  }
  t.true(cam.recordings.every((r) => r.audio === 'none' && r.audioFrames === 0));
});

test('same seed = same bytes; another seed = other bytes', async (t) => {
  const cams: SyntheticCamera[] = [
    { name: 'a', codec: 'h264', audio: 'alaw', avFiles: 3, fileSize: 512 * 1024, events: 6, pictures: 2 },
  ];
  const [x, y, z] = [await share(99, cams), await share(99, cams), await share(100, cams)];
  const files = async (root: string) => {
    const out = new Map<string, Buffer>();
    for (const name of await readdir(path.join(root, 'a', 'datadir0')))
      out.set(name, await readFile(path.join(root, 'a', 'datadir0', name)));
    return out;
  };
  const [fx, fy, fz] = [await files(x.root), await files(y.root), await files(z.root)];
  t.deepEqual([...fx.keys()].sort(), [...fy.keys()].sort());
  for (const [name, bytes] of fx) t.true(bytes.equals(fy.get(name)!), name);
  t.false(fx.get('index00.bin')!.equals(fz.get('index00.bin')!));
  t.false(fx.get('hiv00000.mp4')!.equals(fz.get('hiv00000.mp4')!));
  t.deepEqual({ ...x.cameras[0]!, recordings: x.cameras[0]!.recordings }, y.cameras[0]!);
});

test('recording more with the same seed keeps the earlier recordings and wraps the ring over the oldest', async (t) => {
  const cam: SyntheticCamera = { name: 'more', codec: 'h264', audio: 'aac', avFiles: 6, fileSize: 1 * MiB, events: 8 };
  const before = await share(21, [cam]);
  const after = await share(21, [{ ...cam, events: 12 }]);
  const b = before.cameras[0]!;
  const a = after.cameras[0]!;
  const keyOf = (r: TruthRecording) => `${r.event}/${r.part}`;
  const inAfter = new Map(a.recordings.map((r) => [keyOf(r), r]));
  const kept = b.recordings.filter((r) => inAfter.has(keyOf(r)));
  t.true(kept.length >= 2, `${kept.length} recordings survive`);
  for (const r of kept) {
    t.deepEqual(inAfter.get(keyOf(r)), r);
    t.true((await readRange(before.root, r)).equals(await readRange(after.root, r)), `bytes of recording ${keyOf(r)}`);
  }
  // The open recording of the first snapshot is complete now, and starts with the bytes written then.
  const wasOpen = b.open[0]!;
  const done = a.recordings.find(
    (r) => r.event === wasOpen.event && r.fileNo === wasOpen.fileNo && r.slot === wasOpen.slot,
  );
  t.truthy(done);
  const prefix = await readRange(before.root, {
    source: done!.source,
    startOffset: wasOpen.startOffset,
    endOffset: wasOpen.startOffset + wasOpen.bytesWritten!,
  });
  t.true(
    prefix.equals(await readRange(after.root, { ...done!, endOffset: done!.startOffset + wasOpen.bytesWritten! })),
  );
  // More recordings reused hiv files: some early recordings are gone and stale slots remain.
  t.true(a.ringWrapped);
  t.true(b.recordings.some((r) => !inAfter.has(keyOf(r))));
  t.true(a.stale.length > 0);
  t.true(Math.max(...a.recordings.map((r) => r.event)) >= 11);
});

test('SD-card layout, several datadirs without info.bin, info.bin with the datadir count', async (t) => {
  const truth = await share(8, [
    { name: 'sd', codec: 'h264', audio: 'aac', sdLayout: true, avFiles: 2, fileSize: 1 * MiB, events: 4 },
    {
      name: 'multi',
      codec: 'h265',
      audio: 'aac',
      datadirs: 2,
      infoBin: false,
      avFiles: 2,
      fileSize: 1 * MiB,
      events: 10,
    },
    { name: 'nas', codec: 'h264', audio: 'none', datadirs: 3, avFiles: 2, fileSize: 1 * MiB, events: 2 },
  ]);
  const [sd, multi, nas] = truth.cameras;
  const sdFiles = await readdir(path.join(truth.root, 'sd'));
  t.true(sdFiles.includes('index00.bin') && sdFiles.includes('hiv00000.mp4') && !sdFiles.includes('info.bin'));
  t.deepEqual(sd!.datadirs, ['.']);
  t.true(sd!.recordings.every((r) => r.datadir === '.' && r.source.startsWith('sd/hiv')));
  t.false((await readdir(path.join(truth.root, 'multi'))).includes('info.bin'));
  t.deepEqual(
    [...new Set(multi!.recordings.map((r) => r.datadir))].sort(),
    ['datadir0', 'datadir1'],
    'the ring spans both datadirs',
  );
  const info = await readFile(path.join(truth.root, 'nas', 'info.bin'));
  t.is(info.length, 68);
  t.is(info.readUInt32LE(64), 3);
  // datadir2 of "nas" was never used: no current entry, all FileRecords empty.
  const unused = await indexOf(truth.root, nas!, 'datadir2');
  t.is(currentEntry(unused).fileNo, 0xffff);
  t.is(fileRecord(unused, 0).chan, 0xffff);
  // An idle datadir (the camera moved on) keeps a closed last file and an entry pointing past its last slot.
  const idleDir = multi!.open[0]!.datadir === 'datadir0' ? 'datadir1' : 'datadir0';
  const idle = await indexOf(truth.root, multi!, idleDir);
  const entry = currentEntry(idle);
  t.is(fileRecord(idle, entry.fileNo).segRecNums + 1, entry.segNo);
});

test('sparse: hiv files have their full size but few allocated blocks', async (t) => {
  const truth = await share(4, [
    {
      name: 'sparse',
      codec: 'h264',
      audio: 'aac',
      avFiles: 2,
      fileSize: 64 * MiB,
      events: 2,
      sparse: true,
      fixture: 'large',
    },
  ]);
  const cam = truth.cameras[0]!;
  for (const f of ['hiv00000.mp4', 'hiv00001.mp4']) {
    const st = await stat(path.join(truth.root, cam.dir, 'datadir0', f));
    t.is(st.size, 64 * MiB);
    t.true(st.blocks * 512 < 32 * MiB, `${f}: ${st.blocks * 512} bytes allocated`);
  }
  t.true(cam.recordings.every((r) => r.fixture === 'large-h264.h264'));
});

test('bad options are refused with ShareOptionsError; a non-empty camera folder is never overwritten', async (t) => {
  const root = await mkdtemp(path.join(tmpdir(), 'synthetic-bad-'));
  roots.push(root);
  const base = { name: 'x', codec: 'h264' as const, events: 1 };
  await t.throwsAsync(writeSyntheticShare({ root, seed: 1, cameras: [{ ...base, sdLayout: true, datadirs: 2 }] }), {
    instanceOf: ShareOptionsError,
  });
  await t.throwsAsync(writeSyntheticShare({ root, seed: 1, cameras: [{ ...base, name: '../up' }] }), {
    instanceOf: ShareOptionsError,
  });
  await t.throwsAsync(writeSyntheticShare({ root, seed: 1, cameras: [{ ...base, avFiles: 0 }] }), {
    instanceOf: ShareOptionsError,
  });
  await t.throwsAsync(
    writeSyntheticShare({ root, seed: 1, cameras: [{ ...base, name: 'tiny', fileSize: 64 * 1024, fixture: 'large' }] }),
    { instanceOf: ShareOptionsError },
  );
  await writeSyntheticShare({ root, seed: 1, cameras: [{ ...base, name: 'once' }] });
  await t.throwsAsync(writeSyntheticShare({ root, seed: 1, cameras: [{ ...base, name: 'once' }] }), {
    instanceOf: ShareOptionsError,
  });
});

test('one recording runs through the 2^33 PTS wrap and one has a clock jump, in the stream and the 45 kHz stamps', async (t) => {
  const truth = await share(13, [
    { name: 'clock', codec: 'h265', audio: 'aac', avFiles: 6, fileSize: 2 * MiB, events: 8 },
  ]);
  const cam = truth.cameras[0]!;
  t.false(cam.ringWrapped);
  const wrap = cam.recordings.filter((r) => r.ptsWraps);
  t.is(wrap.length, 1);
  const wrapPts = videoFrames(walkPs(await readRange(truth.root, wrap[0]!))).frames.map((f) => f.pts);
  const drop = wrapPts.findIndex((p, i) => i > 0 && p < wrapPts[i - 1]!);
  t.true(drop > 0);
  t.is(wrapPts[drop - 1]! + 3600 - 2 ** 33, wrapPts[drop]!);
  t.true(wrap[0]!.lastStamp < wrap[0]!.firstStamp, '45 kHz stamps wrap too');
  const jumped = cam.recordings.filter((r) => r.clockJump);
  t.is(jumped.length, 1);
  const j = jumped[0]!;
  const pts = videoFrames(walkPs(await readRange(truth.root, j))).frames.map((f) => f.pts);
  const at = j.clockJump!.atFrame;
  t.is(pts[at]! - pts[at - 1]!, 3600 + j.clockJump!.delta);
  t.true(pts.every((p, i) => i === 0 || i === at || p - pts[i - 1]! === 3600));
});
