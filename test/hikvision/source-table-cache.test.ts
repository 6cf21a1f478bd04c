import test from 'ava';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { clearIndexTableCache, discoverCameras, scanCamera } from '../../lib/hikvision/source.js';
import { writeSyntheticShare } from '../../tools/synthetic/share-writer.js';

/** Sets the mtime of every index file under `cameraDir` to `ms` ago. */
async function age(cameraDir: string, ms: number): Promise<void> {
  const when = new Date(Date.now() - ms);
  for (const e of await fs.readdir(cameraDir, { recursive: true, withFileTypes: true }))
    if (e.isFile() && /^index0[01]p?\.bin$/.test(e.name)) await fs.utimes(path.join(e.parentPath, e.name), when, when);
}

test.serial(
  'an unchanged index is not read again: its 8-byte write counter on the next pass (+16 to compare the copy of an empty table), same recordings; a new write counter re-reads it',
  async (t) => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hiksync-cache-'));
    t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
    clearIndexTableCache();
    await writeSyntheticShare({
      root: dir,
      seed: 31,
      cameras: [{ name: 'cam', codec: 'h264', datadirs: 2, events: 10, pictures: 3 }],
    });
    // A camera that last wrote its index a minute ago (one written seconds ago may be in the middle of a write).
    await age(path.join(dir, 'cam'), 60_000);
    const [cam] = await discoverCameras(dir);
    const bytes = (s: Awaited<ReturnType<typeof scanCamera>>) => s.datadirs.reduce((n, d) => n + d.bytesRead, 0);

    const first = await scanCamera(cam!);
    const second = await scanCamera(cam!);
    t.true(bytes(first) > 10_000, `first pass reads the tables (${bytes(first)} bytes)`);
    // Per table: its 8-byte write counter; a table that lists nothing also compares its index01 copy (16 bytes).
    const expected = first.datadirs.reduce((n, d) => {
      const listed = (kind: string) => first.recordings.some((r) => r.datadir === d.name && r.kind === kind);
      return n + (listed('video') ? 8 : 24) + (listed('picture') ? 8 : 24);
    }, 0);
    t.is(bytes(second), expected, 'second pass reads only write counters');
    t.deepEqual(second.recordings, first.recordings);
    t.deepEqual(second.skipped, first.skipped);

    // The camera writes its index (the counter moves): the table is read and parsed again.
    const index = path.join(dir, 'cam', 'datadir0', 'index00.bin');
    const fh = await fs.open(index, 'r+');
    const counter = Buffer.alloc(8);
    await fh.read(counter, 0, 8, 0);
    counter.writeBigUInt64LE(counter.readBigUInt64LE(0) + 1n);
    await fh.write(counter, 0, 8, 0);
    await fh.close();
    const third = await scanCamera(cam!);
    const d0 = third.datadirs.find((d) => d.name === 'datadir0')!;
    t.true(d0.bytesRead > 10_000, `changed index re-read (${d0.bytesRead} bytes)`);
    t.deepEqual(
      third.recordings.map((r) => r.id),
      first.recordings.map((r) => r.id),
    );
  },
);

test.serial(
  'a table read while the camera was still writing its index is not kept: the next pass reads the finished index',
  async (t) => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hiksync-cache-'));
    t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
    clearIndexTableCache();
    const truth = await writeSyntheticShare({
      root: dir,
      seed: 33,
      cameras: [{ name: 'cam', codec: 'h264', sdLayout: true, events: 6 }],
    });
    const index = path.join(dir, 'cam', 'index00.bin');
    const finished = await fs.readFile(index);
    // The camera writes its header (write counter) first, then the slots: a reader in between gets the new counter
    // with a slot not written yet (here: the last finished recording's slot still empty).
    const last = truth.cameras[0]!.recordings.at(-1)!;
    const avFiles = finished.readUInt32LE(12);
    const slotAt = 1280 + 32 * avFiles + (last.fileNo * 256 + last.slot) * 80;
    const torn = Buffer.from(finished);
    torn.fill(0, slotAt, slotAt + 80);
    const when = new Date();
    await fs.writeFile(index, torn);
    await fs.utimes(index, when, when);
    const [cam] = await discoverCameras(dir);
    const during = await scanCamera(cam!);
    t.is(during.recordings.length, truth.cameras[0]!.recordings.length - 1, 'the torn read misses that recording');

    // The camera's write completes before the reader looks at the file's mtime: same counter, same size, same mtime.
    await fs.writeFile(index, finished);
    await fs.utimes(index, when, when);
    const after = await scanCamera(cam!);
    t.is(after.recordings.length, truth.cameras[0]!.recordings.length, 'the next pass lists it');
  },
);
