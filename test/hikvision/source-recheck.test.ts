import test from 'ava';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { recheckRecording, scanCamera } from '../../lib/hikvision/source.js';
import { goldenIndex, T } from './golden.js';
import type { IndexBytes } from './index-bytes.js';
import { goldenCamera, pictureCamera, removeDir, tempDir } from './share.js';

async function scanned(root: string) {
  const cam = await goldenCamera(root);
  const scan = await scanCamera(cam);
  const index = path.join(cam.path, 'datadir0', 'index00.bin');
  const pick = (f: number, s: number) => scan.recordings.find((r) => r.fileNo === f && r.slot === s)!;
  const patch = async (ix: IndexBytes) => {
    const fh = await fs.open(index, 'r+');
    await fh.write(ix.buf, 0, ix.buf.length, 0);
    await fh.close();
  };
  return { cam, scan, pick, patch };
}

test('recheckRecording: unchanged slot is ok', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const { pick } = await scanned(root);
  for (const [f, s] of [
    [0, 1],
    [0, 3],
    [5, 1],
    [7, 1],
  ] as const)
    t.deepEqual(await recheckRecording(pick(f, s)), { ok: true });
});

test('recheckRecording: a rewritten slot is not ok', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const { pick, patch } = await scanned(root);
  const ix = goldenIndex();
  ix.slot(0, 1, { start: [T + 100, 250001], end: [T + 100, 600000], startOffset: 409600, endOffset: 413696 });
  await patch(ix);
  const res = await recheckRecording(pick(0, 1));
  t.false(res.ok);
  t.regex((res as { reason: string }).reason, /slot 1 now holds start/);
  t.deepEqual(await recheckRecording(pick(0, 0)), { ok: true });
});

test('recheckRecording: the camera writing this hiv file again (new cycle) is not ok', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const { pick, patch } = await scanned(root);
  const ix = goldenIndex();
  ix.current(1, 0, 2); // wrapped round to file 0, writing slot 2: slots 2 and 3 of the old cycle are being overwritten
  await patch(ix);
  t.false((await recheckRecording(pick(0, 2))).ok);
  t.false((await recheckRecording(pick(0, 3))).ok);
  t.regex(((await recheckRecording(pick(0, 3))) as { reason: string }).reason, /writing hiv00000\.mp4 again/);
});

test('recheckRecording: still writing later in the same file is ok', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const { pick, patch } = await scanned(root);
  const ix = goldenIndex();
  ix.current(1, 5, 3);
  ix.slot(5, 2, { start: [T + 100200, 0], end: [T + 100260, 0], startOffset: 819200, endOffset: 1228800 });
  await patch(ix);
  t.deepEqual(await recheckRecording(pick(5, 1)), { ok: true });
});

test('recheckRecording: a new cycle that rewrote earlier slots and moved on is not ok', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const { pick, patch } = await scanned(root);
  // New cycle: slot 0 of file 0 rewritten with one long recording, the camera moved on to file 1.
  const ix = goldenIndex();
  ix.slot(0, 0, { start: [T + 900000, 0], end: [T + 900600, 0], startOffset: 0, endOffset: 268435456 });
  ix.fileRecord(0, { chan: 1, segRecNums: 0, start: T + 900000, end: T + 900600 });
  await patch(ix);
  const res = await recheckRecording(pick(0, 2));
  t.false(res.ok);
  t.regex((res as { reason: string }).reason, /file record of hiv00000\.mp4 no longer covers slot 2/);
  // Same, with the file record not (yet) rewritten: the earlier slot now starts later -> stale tail.
  ix.fileRecord(0, { chan: 1, segRecNums: 3, start: T, end: T + 260 });
  await patch(ix);
  const res2 = await recheckRecording(pick(0, 2));
  t.false(res2.ok);
  t.regex((res2 as { reason: string }).reason, /slot 2 of hiv00000\.mp4 is no longer a valid record \(stale\)/);
});

test('recheckRecording: an earlier slot with broken times does not make a good slot fail', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const ix = goldenIndex();
  // File 6: slot 1 has a far-future start but ends before it (bad-time, skipped); slot 2 is fixed and valid.
  ix.slot(6, 1, { start: [T + 9_000_000, 0], end: [T + 60050, 0], startOffset: 409600, endOffset: 819200 });
  ix.slot(6, 2, { start: [T + 60200, 0], end: [T + 60260, 0], startOffset: 819200, endOffset: 1228800 });
  const cam = await goldenCamera(root, 'cam1', ix.buf, ix.buf);
  const rec = (await scanCamera(cam)).recordings.find((r) => r.fileNo === 6 && r.slot === 2);
  t.truthy(rec);
  t.deepEqual(await recheckRecording(rec!), { ok: true });
});

test('recheckRecording: an emptied file record is not ok; an unreadable index is not ok', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const { pick, patch, cam } = await scanned(root);
  const ix = goldenIndex();
  ix.fileRecord(6, { chan: 0xffff, segRecNums: 0xffff, start: 0, end: 0 });
  await patch(ix);
  t.false((await recheckRecording(pick(6, 0))).ok);
  t.deepEqual(await recheckRecording(pick(7, 0)), { ok: true });
  await fs.rm(path.join(cam.path, 'datadir0', 'index00.bin'));
  t.false((await recheckRecording(pick(7, 0))).ok);
});

test('recheckRecording: a picture whose earlier slots were rewritten is not ok', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const cam = await pictureCamera(root);
  const scan = await scanCamera(cam);
  const pic = scan.recordings.find((r) => r.kind === 'picture' && r.slot === 5)!;
  t.deepEqual(await recheckRecording(pic), { ok: true });
  cam.ix.slot(0, 0, { start: [T + 30 * 86400, 0], end: [T + 30 * 86400, 0], startOffset: 0, endOffset: 25000 });
  await fs.writeFile(pic.indexPath, cam.ix.buf);
  t.false((await recheckRecording(pic)).ok);
});
