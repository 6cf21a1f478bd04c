/**
 * The scan against a share that misbehaves: a FIFO (or another non-file) where a file should be is an error named
 * at once, never a blocked read; a share that does not answer ends the camera's scan after the time limit with one
 * clear line, lists nothing for it and asks that share nothing more.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { constants, type Dirent } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { InputDirError, ShareTimeoutError } from '../../lib/errors.js';
import { discoverCameras } from '../../lib/hikvision/discovery.js';
import { recheckRecording, scanCamera } from '../../lib/hikvision/source.js';
import { createShareIo, ShareGate, type RawFileHandle, type RawShareFs } from '../../lib/share-io.js';
import { goldenCamera, removeDir, tempDir } from './share.js';

const never = <T>() => new Promise<T>(() => undefined);
/** Generous: the real calls of these tests must answer within it on a loaded machine; the hung ones never do. */
const LIMIT = 2000;

/** Replaces `file` by a FIFO; teardown opens its write end, so a reader that did block is released. */
async function makeFifo(t: { teardown(fn: () => unknown): void }, file: string): Promise<void> {
  await fs.rm(file);
  execFileSync('mkfifo', [file]);
  t.teardown(async () => {
    const writer = await fs.open(file, constants.O_WRONLY | constants.O_NONBLOCK).catch(() => undefined);
    await writer?.close();
  });
}

/** Fails the test instead of waiting for ava's timeout when `p` hangs. */
function within<T>(p: Promise<T>, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

/** The real file system, except that reads of files matching `hang` never return; `calls` counts every call. */
function hangingFs(hang: RegExp): { raw: RawShareFs; calls: string[] } {
  const calls: string[] = [];
  const raw: RawShareFs = {
    readdir: (dir, opts) => {
      calls.push(`readdir ${dir}`);
      return hang.test(dir) ? never<Dirent[]>() : fs.readdir(dir, opts);
    },
    stat: (p) => {
      calls.push(`stat ${p}`);
      return fs.stat(p);
    },
    open: async (file, flags): Promise<RawFileHandle> => {
      calls.push(`open ${file}`);
      const fh = await fs.open(file, flags);
      return {
        stat: () => fh.stat(),
        read: (b, o, l, p) => (hang.test(file) ? never<{ bytesRead: number }>() : fh.read(b, o, l, p)),
        close: () => fh.close(),
      };
    },
  };
  return { raw, calls };
}

test('index00.bin a FIFO: named as an error, and the copy index01.bin is read instead', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const cam = await goldenCamera(root);
  const index00 = path.join(cam.path, 'datadir0', 'index00.bin');
  await makeFifo(t, index00);
  const scan = await within(scanCamera(cam));
  t.is(scan.recordings.length, 13);
  t.is(scan.datadirs[0]!.videoIndex, path.join(cam.path, 'datadir0', 'index01.bin'));
  t.deepEqual(scan.errors, [
    `cam1/datadir0: ${index00} is a FIFO, not a regular file: hiksync reads regular files only (index01.bin used)`,
  ]);
  t.is(scan.unavailable, undefined);
});

test('both indexes FIFOs: one error line naming both, nothing listed, counted unreadable', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const cam = await goldenCamera(root);
  for (const n of ['index00.bin', 'index01.bin']) await makeFifo(t, path.join(cam.path, 'datadir0', n));
  const scan = await within(scanCamera(cam));
  t.deepEqual(scan.recordings, []);
  t.is(scan.errors.length, 2);
  t.regex(scan.errors[0]!, /index00\.bin: .*index00\.bin is a FIFO, not a regular file/);
  t.regex(scan.errors[1]!, /index01\.bin: .*index01\.bin is a FIFO, not a regular file/);
  t.is(scan.skipped.unreadable, 1);
});

test('info.bin a FIFO: named as an error; the datadirs are found by listing', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const cam = await goldenCamera(root);
  const info = path.join(cam.path, 'info.bin');
  await makeFifo(t, info);
  const scan = await within(scanCamera(cam));
  t.is(scan.recordings.length, 13);
  t.deepEqual(scan.errors, [
    `cam1: ${info} is a FIFO, not a regular file: hiksync reads regular files only; its datadirs are found by listing`,
  ]);
});

test('a hiv file that is a FIFO: named as an error, its recordings skipped as missing', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const cam = await goldenCamera(root);
  const before = await scanCamera(cam);
  const inFile1 = before.recordings.filter((r) => r.fileNo === 1).length;
  t.true(inFile1 > 0);
  await makeFifo(t, path.join(cam.path, 'datadir0', 'hiv00001.mp4'));
  const scan = await within(scanCamera(cam));
  t.is(scan.recordings.length, 13 - inFile1);
  t.false(scan.recordings.some((r) => r.fileNo === 1));
  t.deepEqual(scan.errors, ['cam1/datadir0: hiv00001.mp4 is a FIFO, not a regular file: its recordings are skipped']);
  t.true((scan.skipped['missing-file'] ?? 0) >= inFile1);
});

test('a read of index00.bin that never returns: the camera is unavailable after the limit, nothing more is asked', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const cam = await goldenCamera(root);
  const index00 = path.join(cam.path, 'datadir0', 'index00.bin');
  const { raw, calls } = hangingFs(/index00\.bin$/);
  const scan = await within(scanCamera(cam, { io: createShareIo(LIMIT, raw, [new ShareGate(8)]) }));
  const line = `the camera share is not answering: reading ${index00} took longer than 2 s (a hung network mount?)`;
  t.is(scan.unavailable, line);
  t.deepEqual(scan.errors, [`cam1: ${line}`]);
  t.deepEqual(scan.recordings, [], 'never index01.bin of a share that did not answer, never a partial list');
  t.false(
    calls.some((c) => c.includes('index01.bin')),
    calls.join('\n'),
  );
});

test('a camera folder whose listing never returns: unavailable, one line', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const cam = await goldenCamera(root);
  const { raw } = hangingFs(/cam1$/);
  const scan = await within(scanCamera(cam, { io: createShareIo(LIMIT, raw, [new ShareGate(8)]) }));
  t.regex(scan.unavailable ?? '', /^the camera share is not answering: listing .*cam1 took longer than 2 s/);
  t.is(scan.errors.length, 1);
  t.deepEqual(scan.recordings, []);
});

test('an input folder whose listing never returns is InputDirError (exit 66), never "no camera"', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const { raw } = hangingFs(/./);
  const err = await t.throwsAsync(within(discoverCameras(root, createShareIo(LIMIT, raw, [new ShareGate(8)]))), {
    instanceOf: InputDirError,
  });
  t.is(
    err.message,
    `cannot list the input folder ${root}: the camera share is not answering: listing ${root} took longer than 2 s (a hung network mount?)`,
  );
});

test('the re-check of a recording whose index does not answer throws ShareTimeoutError, not "the camera rewrote it"', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const cam = await goldenCamera(root);
  const rec = (await scanCamera(cam)).recordings[0]!;
  const { raw } = hangingFs(/index00\.bin$/);
  await t.throwsAsync(within(recheckRecording(rec, undefined, createShareIo(LIMIT, raw, [new ShareGate(8)]))), {
    instanceOf: ShareTimeoutError,
  });
});
