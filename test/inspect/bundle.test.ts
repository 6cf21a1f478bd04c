import test from 'ava';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { BundleLimitError, BundleOutputError, exitCodeFor, ExitCode, InputDirError } from '../../lib/errors.js';
import { BUNDLE_ROOT, MEDIA_HEAD_BYTES, writeBundle, type BundleLimits } from '../../lib/inspect/bundle.js';
import { createShareIo } from '../../lib/share-io.js';
import { tmp } from '../helpers/cli.js';
import { readTarGz, type TarMember } from '../helpers/tar.js';
import { binaryCamera, dvrFolder, filesUnder, noise, sqliteCamera, unknownCamera } from './folders.js';

const io = () => createShareIo(60_000);
const R = `${BUNDLE_ROOT}/`;

async function bundle(cam: string, out: string, opts: { heads?: boolean; limits?: Partial<BundleLimits> } = {}) {
  const result = await writeBundle(cam, out, {
    io: io(),
    withMediaHeads: opts.heads ?? false,
    version: 'test',
    ...(opts.limits ? { limits: opts.limits } : {}),
  });
  return { result, members: await readTarGz(out) };
}

const names = (members: TarMember[]) => members.map((m) => m.name.slice(R.length));
const member = (members: TarMember[], name: string) => members.find((m) => m.name === R + name);

/** The fixed entries every bundle has, in order around the copies. */
function assertFrame(t: { is(a: unknown, b: unknown, m?: string): void }, members: TarMember[]) {
  t.is(names(members)[0], 'README.txt');
  t.is(names(members).at(-1), 'MANIFEST.txt');
  for (const m of members) t.is(m.name.startsWith(R), true, m.name);
}

test('binary-index camera: the index files and info.bin byte for byte, no hiv or log byte', async (t) => {
  const dir = await tmp(t, 'hiksync-bundle-');
  const cam = await binaryCamera(path.join(dir, 'share'));
  const before = await filesUnder(cam);
  const out = path.join(dir, 'bundle.tar.gz');
  const { result, members } = await bundle(cam, out);
  assertFrame(t, members);

  const expected = before.filter((f) => /(^|\/)(index0[01]p?\.bin|info\.bin)$/.test(f));
  t.is(expected.length, 9, 'two datadirs of four indexes, and info.bin');
  const copies = names(members).filter((n) => n.startsWith('files/'));
  t.deepEqual(copies.sort(), expected.map((f) => `files/${f}`).sort());
  for (const f of expected) t.true(member(members, `files/${f}`)!.data.equals(await fs.readFile(path.join(cam, f))), f);
  t.deepEqual(
    names(members).filter((n) => !n.startsWith('files/')),
    ['README.txt', 'listing.tsv', 'layout.json', 'MANIFEST.txt'],
    'no media-heads, no sqlite schema',
  );
  t.false(
    members.some((m) => /hiv\d{5}\.(mp4|pic)|logCurFile/.test(m.name)),
    'no entry of a hiv block or a log',
  );
  t.is(result.layout.label, 'binary index');
  t.deepEqual(await filesUnder(cam), before, 'nothing written next to the camera files');

  // The listing names every file with its size and mtime; the manifest every other entry with size and hash.
  const listing = member(members, 'listing.tsv')!.data.toString();
  for (const f of before) {
    const st = await fs.stat(path.join(cam, f));
    t.true(listing.includes(`file\t${st.size}\t${new Date(st.mtimeMs).toISOString()}\t${f}\n`), f);
  }
  const manifest = member(members, 'MANIFEST.txt')!.data.toString();
  for (const m of members.slice(0, -1)) {
    const hash = createHash('sha256').update(m.data).digest('hex');
    t.regex(manifest, new RegExp(`^ *${m.size}  ${hash}  ${m.name.replace(/[.]/g, '\\.')}  `, 'm'), m.name);
  }
  t.regex(member(members, 'README.txt')!.data.toString(), /no video and no pictures: no byte of any hiv\*\.mp4/);
});

test('SQLite camera: databases with their -journal/-wal, schema and row counts; no hiv, pic, log or user file', async (t) => {
  const dir = await tmp(t, 'hiksync-bundle-');
  const cam = await sqliteCamera(path.join(dir, 'share'));
  const { result, members } = await bundle(cam, path.join(dir, 'b.tgz'));
  assertFrame(t, members);
  t.deepEqual(names(members), [
    'README.txt',
    'files/datadir0/event_db_index00',
    'files/datadir0/pic_segment_db_index00-wal',
    'files/datadir0/record_db_index00',
    'files/datadir0/record_db_index00-journal',
    'listing.tsv',
    'sqlite/datadir0/event_db_index00.txt',
    'sqlite/datadir0/record_db_index00.txt',
    'layout.json',
    'MANIFEST.txt',
  ]);
  t.is(result.layout.label, 'SQLite index');
  const schema = member(members, 'sqlite/datadir0/record_db_index00.txt')!.data.toString();
  t.regex(schema, /table record_segment_idx_tb: 3 rows\n/);
  t.regex(schema, /table record_file_idx_tb: 2 rows\n/);
  t.regex(member(members, 'sqlite/datadir0/event_db_index00.txt')!.data.toString(), /table MotionDetectTB: 2 rows/);
  const layout = JSON.parse(member(members, 'layout.json')!.data.toString()) as { kinds: string[]; camera: string };
  t.deepEqual(layout.kinds, ['sqlite-index']);
  t.is(layout.camera, 'Camera-Oprit');
  t.false(member(members, 'layout.json')!.data.toString().includes(dir), 'the full path of the share is not in it');
});

test('--with-media-heads: exactly the first 64 KiB of the first 3 hiv .mp4 blocks (all of a shorter one), no .pic', async (t) => {
  const dir = await tmp(t, 'hiksync-bundle-');
  const sq = await sqliteCamera(path.join(dir, 'share'));
  const { result, members } = await bundle(sq, path.join(dir, 'sq.tar.gz'), { heads: true });
  const heads = members.filter((m) => m.name.startsWith(`${R}media-heads/`));
  t.deepEqual(
    heads.map((m) => [m.name.slice(R.length), m.size]),
    [
      ['media-heads/datadir0/hiv00000.mp4', MEDIA_HEAD_BYTES],
      ['media-heads/datadir0/hiv00001.mp4', 40 * 1024],
    ],
  );
  t.true(heads[0]!.data.equals(noise(200 * 1024, 11).subarray(0, 65536)));
  t.true(heads[1]!.data.equals(noise(40 * 1024, 12)));
  t.deepEqual(
    result.entries.filter((e) => e.kind === 'media-head').map((e) => e.source),
    ['datadir0/hiv00000.mp4', 'datadir0/hiv00001.mp4'],
  );

  const bin = await binaryCamera(path.join(dir, 'share2'));
  const b = await bundle(bin, path.join(dir, 'bin.tar.gz'), { heads: true });
  const binHeads = b.members.filter((m) => m.name.startsWith(`${R}media-heads/`));
  t.deepEqual(
    binHeads.map((m) => [m.name.slice(R.length), m.size]),
    [
      ['media-heads/datadir0/hiv00000.mp4', 65536],
      ['media-heads/datadir0/hiv00001.mp4', 65536],
      ['media-heads/datadir0/hiv00002.mp4', 65536],
    ],
  );
  const src = await fs.readFile(path.join(bin, 'datadir0', 'hiv00001.mp4'));
  t.true(binHeads[1]!.data.equals(src.subarray(0, 65536)));
  t.false(b.members.some((m) => m.name.endsWith('.pic')));
  t.regex(member(b.members, 'README.txt')!.data.toString(), /first 64 KiB of the first 3 hiv\*\.mp4/);
});

test('unknown layout and a HIKBTREE folder: listing and layout only, the marker file is not copied', async (t) => {
  const dir = await tmp(t, 'hiksync-bundle-');
  const unknown = await unknownCamera(path.join(dir, 'share'));
  const u = await bundle(unknown, path.join(dir, 'u.tar.gz'));
  t.deepEqual(names(u.members), ['README.txt', 'listing.tsv', 'layout.json', 'MANIFEST.txt']);
  t.is(u.result.layout.label, 'unknown');
  t.regex(member(u.members, 'listing.tsv')!.data.toString(), /file\t5000\t\S+\tstuff\/data\.idx\n/);

  const dvr = await dvrFolder(path.join(dir, 'share'));
  const d = await bundle(dvr, path.join(dir, 'd.tar.gz'));
  t.deepEqual(names(d.members), ['README.txt', 'listing.tsv', 'layout.json', 'MANIFEST.txt']);
  t.is(d.result.layout.label, 'HIKBTREE (DVR/NVR disk)');
  t.regex(member(d.members, 'listing.tsv')!.data.toString(), /file\t4096\t\S+\tHIKBTREE\n/);
});

/** Runs a bundle that must fail; checks no file is at the target or at a temporary name in its folder. */
async function failing(t: import('ava').ExecutionContext, cam: string, limits: Partial<BundleLimits>, heads = false) {
  const outDir = await tmp(t, 'hiksync-bundle-out-');
  const out = path.join(outDir, 'b.tar.gz');
  const err = await t.throwsAsync(bundle(cam, out, { limits, heads }), { instanceOf: BundleLimitError });
  t.deepEqual(await fs.readdir(outDir), [], 'no bundle and no temporary file left');
  t.is(exitCodeFor(err), ExitCode.CANT_CREATE);
  return err;
}

test('caps: one file, all files together, the number of files, the compressed archive: named error, nothing left', async (t) => {
  const dir = await tmp(t, 'hiksync-bundle-');
  const cam = await binaryCamera(path.join(dir, 'share'));
  const perFile = await failing(t, cam, { maxFileBytes: 1024 * 1024 - 1 });
  t.regex(perFile.message, /^datadir0\/index00\.bin is 1048576 bytes, above the bundle's cap of 1048575 bytes/);
  const total = await failing(t, cam, { maxInputBytes: 4 * 1024 * 1024 });
  t.regex(total.message, /the index files together is \d+ bytes, above the bundle's cap of 4194304/);
  const count = await failing(t, cam, { maxFiles: 8 });
  t.regex(count.message, /^the number of index files is 9 files, above the bundle's cap of 8 files$/);

  // The archive cap is hit while writing (incompressible heads): the half-written temporary file is removed.
  const sq = await sqliteCamera(path.join(dir, 'share'));
  await fs.writeFile(path.join(sq, 'datadir0', 'hiv00001.mp4'), noise(300 * 1024, 99));
  await fs.writeFile(path.join(sq, 'datadir0', 'hiv00002.mp4'), noise(300 * 1024, 98));
  const archive = await failing(t, sq, { maxArchiveBytes: 150 * 1024 }, true);
  t.regex(archive.message, /the compressed archive is \d+ bytes, above the bundle's cap of 153600 bytes/);
});

test('the target: not inside the camera folder, not over an existing file, its folder must exist', async (t) => {
  const dir = await tmp(t, 'hiksync-bundle-');
  const cam = await binaryCamera(path.join(dir, 'share'));
  const before = await filesUnder(cam);
  for (const inside of [path.join(cam, 'b.tar.gz'), path.join(cam, 'datadir0', 'b.tar.gz')]) {
    const err = await t.throwsAsync(bundle(cam, inside), { instanceOf: BundleOutputError });
    t.regex(err.message, /inside the camera folder/);
  }
  // Also through a symbolic link that leads into the camera folder.
  await fs.symlink(path.join(cam, 'datadir1'), path.join(dir, 'link'));
  await t.throwsAsync(bundle(cam, path.join(dir, 'link', 'b.tar.gz')), { message: /inside the camera folder/ });
  t.deepEqual(await filesUnder(cam), before);

  const there = path.join(dir, 'there.tar.gz');
  await fs.writeFile(there, 'keep me');
  const exists = await t.throwsAsync(bundle(cam, there), { instanceOf: BundleOutputError });
  t.regex(exists.message, /exists already/);
  t.is(await fs.readFile(there, 'utf8'), 'keep me');
  t.is(exitCodeFor(exists), ExitCode.CANT_CREATE);

  await t.throwsAsync(bundle(cam, path.join(dir, 'no-such-folder', 'b.tar.gz')), {
    instanceOf: BundleOutputError,
    message: /no-such-folder does not exist/,
  });
});

test('a camera folder that is missing or not a folder is InputDirError (exit 66), and nothing is written', async (t) => {
  const dir = await tmp(t, 'hiksync-bundle-');
  const out = path.join(dir, 'out');
  await fs.mkdir(out);
  const missing = await t.throwsAsync(bundle(path.join(dir, 'nope'), path.join(out, 'b.tar.gz')), {
    instanceOf: InputDirError,
  });
  t.is(exitCodeFor(missing), ExitCode.NO_INPUT);
  await fs.writeFile(path.join(dir, 'a-file'), 'x');
  await t.throwsAsync(bundle(path.join(dir, 'a-file'), path.join(out, 'b.tar.gz')), { instanceOf: InputDirError });
  t.deepEqual(await fs.readdir(out), []);
});
