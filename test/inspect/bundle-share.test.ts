/**
 * The bundle against a share that misbehaves: an index the camera rewrites while it is read, a FIFO where a file
 * should be, a share that stops answering. Each ends in a complete bundle or in a named error with nothing left.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { InputDirError } from '../../lib/errors.js';
import { writeBundle } from '../../lib/inspect/bundle.js';
import { createShareIo, ShareGate, type RawFileHandle } from '../../lib/share-io.js';
import { tmp } from '../helpers/cli.js';
import { readTarGz } from '../helpers/tar.js';
import { sqliteCamera } from './folders.js';
import { rawFs } from '../helpers/share-fs.js';

test('an index whose first bytes change during every read is read 3 times, then included with a note', async (t) => {
  const dir = await tmp(t, 'hiksync-bundle-share-');
  const cam = await sqliteCamera(path.join(dir, 'share'));
  let reads = 0;
  const raw = rawFs({
    open: async (file, flags) => {
      const fh = await fs.open(file, flags);
      if (!file.endsWith('record_db_index00')) return fh;
      // The camera bumps its change counter between our reads: every read from offset 0 sees a new value.
      const changing: RawFileHandle = {
        stat: () => fh.stat(),
        close: () => fh.close(),
        read: async (buffer, offset, length, position) => {
          const r = await fh.read(buffer, offset, length, position);
          if (position === 0 && r.bytesRead > 27) buffer.writeUInt32BE(++reads, offset + 24);
          return r;
        },
      };
      return changing;
    },
  });
  const out = path.join(dir, 'b.tar.gz');
  const result = await writeBundle(cam, out, { io: createShareIo(60_000, raw, [new ShareGate(8)]) });
  t.is(reads, 6, 'three attempts, each a read and a re-read of the first bytes');
  t.true(
    result.notes.some((n) => /record_db_index00: changed while it was read 3 times/.test(n)),
    result.notes.join('; '),
  );
  const members = await readTarGz(out);
  t.truthy(members.find((m) => m.name.endsWith('files/datadir0/record_db_index00')));
  t.regex(members.find((m) => m.name.endsWith('layout.json'))!.data.toString(), /changed while it was read/);
});

test('a FIFO named like an index file is listed, not opened: the bundle does not hang', async (t) => {
  const dir = await tmp(t, 'hiksync-bundle-share-');
  const cam = await sqliteCamera(path.join(dir, 'share'));
  const r = spawnSync('mkfifo', [path.join(cam, 'datadir0', 'index00.bin')]);
  if (r.status !== 0) return t.pass('mkfifo is not available here');
  const out = path.join(dir, 'b.tar.gz');
  const result = await writeBundle(cam, out, { io: createShareIo(60_000, undefined, [new ShareGate(8)]) });
  t.false(result.entries.some((e) => e.name.endsWith('index00.bin')));
  const listing = (await readTarGz(out)).find((m) => m.name.endsWith('listing.tsv'))!.data.toString();
  t.regex(listing, /^other\t\t\S+\tdatadir0\/index00\.bin$/m);
});

test('a share that stops answering mid-bundle: InputDirError (exit 66), no bundle, no temporary file', async (t) => {
  const dir = await tmp(t, 'hiksync-bundle-share-');
  const cam = await sqliteCamera(path.join(dir, 'share'));
  const raw = rawFs({
    open: (file, flags) =>
      file.endsWith('record_db_index00') ? new Promise<RawFileHandle>(() => undefined) : fs.open(file, flags),
  });
  const outDir = path.join(dir, 'out');
  await fs.mkdir(outDir);
  // The time limit is the point of this test (it must fire); everything else answers at once.
  const io = createShareIo(300, raw, [new ShareGate(8)]);
  const err = await t.throwsAsync(writeBundle(cam, path.join(outDir, 'b.tar.gz'), { io }), {
    instanceOf: InputDirError,
  });
  t.regex(err.message, /the camera share is not answering: opening .*record_db_index00/);
  t.deepEqual(await fs.readdir(outDir), []);
});
