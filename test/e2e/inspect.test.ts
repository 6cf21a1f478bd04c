/**
 * `hiksync inspect` through the built CLI: the layout report, the bundle (listed with the system's `tar -tzvf`), its
 * exit codes, and `scan` pointing to it for a layout hiksync does not read.
 */
import test from 'ava';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { runCli, tmp } from '../helpers/cli.js';
import { listWithSystemTar } from '../helpers/tar.js';
import { sparseFile } from '../hikvision/share.js';
import { binaryCamera, dvrFolder, sqliteCamera, unknownCamera } from '../inspect/folders.js';

const R = 'hiksync-bundle/';

test('inspect --bundle of a binary-index camera: index files only, then with media heads of exactly 64 KiB', async (t) => {
  const dir = await tmp(t, 'hiksync-e2e-inspect-');
  const cam = await binaryCamera(path.join(dir, 'share'));
  const out = path.join(dir, 'bundle.tar.gz');
  const r = runCli(['inspect', cam, '--bundle', out]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^bundle written: .*bundle\.tar\.gz \(/);
  t.regex(r.stdout, /layout: binary index\n/);
  t.regex(r.stdout, /no video or picture bytes/);
  const listed = listWithSystemTar(out);
  const idx = (await fs.stat(path.join(cam, 'datadir0', 'index00.bin'))).size;
  t.deepEqual(
    listed.filter((e) => e.name.startsWith(`${R}files/`)).map((e) => [e.name.slice(R.length), e.size]),
    [
      ...['datadir0', 'datadir1'].flatMap((d) =>
        ['index00.bin', 'index00p.bin', 'index01.bin', 'index01p.bin'].map((f) => [`files/${d}/${f}`, idx]),
      ),
      ['files/info.bin', 68],
    ],
  );
  t.false(
    listed.some((e) => /\.(mp4|pic)$/.test(e.name) || e.name.includes('media-heads')),
    'without --with-media-heads no hiv or pic entry at all',
  );

  const withHeads = path.join(dir, 'heads.tar.gz');
  const h = runCli(['inspect', cam, '--bundle', withHeads, '--with-media-heads']);
  t.is(h.code, 0, h.stderr);
  t.regex(
    h.stdout,
    /media heads \(real video\): first 64 KiB of datadir0\/hiv00000\.mp4, datadir0\/hiv00001\.mp4, datadir0\/hiv00002\.mp4/,
  );
  t.deepEqual(
    listWithSystemTar(withHeads)
      .filter((e) => /\.(mp4|pic)$/.test(e.name))
      .map((e) => [e.name.slice(R.length), e.size]),
    [0, 1, 2].map((f) => [`media-heads/datadir0/hiv0000${f}.mp4`, 65536]),
  );
});

test('inspect --bundle of a SQLite camera names the schemas it summarised; --json tells the entries', async (t) => {
  const dir = await tmp(t, 'hiksync-e2e-inspect-');
  const cam = await sqliteCamera(path.join(dir, 'share'));
  const r = runCli(['inspect', cam, '--bundle', path.join(dir, 'b.tar.gz')]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /SQLite schemas and row counts: datadir0\/event_db_index00, datadir0\/record_db_index00\n/);
  const j = runCli(['inspect', cam, '--bundle', path.join(dir, 'j.tar.gz'), '--json']);
  t.is(j.code, 0, j.stderr);
  const report = JSON.parse(j.stdout) as { layout: string; entries: Array<{ name: string; kind: string }> };
  t.is(report.layout, 'SQLite index');
  t.deepEqual(
    report.entries.filter((e) => e.kind === 'sqlite-schema').map((e) => e.name),
    [`${R}sqlite/datadir0/event_db_index00.txt`, `${R}sqlite/datadir0/record_db_index00.txt`],
  );
});

test('inspect without --bundle prints the layout, and for one hiksync may not read, how to report it', async (t) => {
  const dir = await tmp(t, 'hiksync-e2e-inspect-');
  const bin = runCli(['inspect', await binaryCamera(path.join(dir, 'share'))]);
  t.is(bin.code, 0, bin.stderr);
  t.regex(bin.stdout, /^Camera-Tuin: layout binary index\n {2}info\.bin: 2 datadirs\n {2}datadir0: index00\.bin, /);
  t.notRegex(bin.stdout, /--bundle/);
  const sq = runCli(['inspect', await sqliteCamera(path.join(dir, 'share'))]);
  t.regex(sq.stdout, /layout SQLite index\n/);
  t.regex(sq.stdout, /--bundle hiksync-bundle\.tar\.gz/);
  const dvr = runCli(['inspect', await dvrFolder(path.join(dir, 'share'))]);
  t.regex(dvr.stdout, /layout HIKBTREE \(DVR\/NVR disk\)\n/);
  const unknown = runCli(['inspect', await unknownCamera(path.join(dir, 'share')), '--json']);
  t.is((JSON.parse(unknown.stdout) as { label: string }).label, 'unknown');
});

test('exit codes: 66 unreadable folder, 73 target refused or over a cap (nothing left), 64 usage', async (t) => {
  const dir = await tmp(t, 'hiksync-e2e-inspect-');
  const cam = await binaryCamera(path.join(dir, 'share'));
  const missing = runCli(['inspect', path.join(dir, 'nope'), '--bundle', path.join(dir, 'x.tar.gz')]);
  t.is(missing.code, 66, missing.stderr);
  t.regex(missing.stderr, /^hiksync: cannot read the camera folder .*nope: does not exist\n$/);
  t.is(runCli(['inspect', path.join(dir, 'nope')]).code, 66);

  t.is(runCli(['inspect', cam, '--with-media-heads']).code, 64);
  t.is(runCli(['inspect']).code, 64);

  const inside = runCli(['inspect', cam, '--bundle', path.join(cam, 'datadir0', 'b.tar.gz')]);
  t.is(inside.code, 73);
  t.regex(inside.stderr, /inside the camera folder/);
  await fs.writeFile(path.join(dir, 'taken.tar.gz'), 'x');
  t.is(runCli(['inspect', cam, '--bundle', path.join(dir, 'taken.tar.gz')]).code, 73);

  // An index file over the 64 MiB cap (sparse: no disk used): refused by name, no bundle, no temporary file.
  await sparseFile(path.join(cam, 'datadir1', 'index01p.bin'), 64 * 1024 * 1024 + 1);
  const outDir = path.join(dir, 'out');
  await fs.mkdir(outDir);
  const big = runCli(['inspect', cam, '--bundle', path.join(outDir, 'b.tar.gz')]);
  t.is(big.code, 73, big.stderr);
  t.regex(big.stderr, /datadir1\/index01p\.bin is 67108865 bytes, above the bundle's cap of 67108864 bytes/);
  t.deepEqual(await fs.readdir(outDir), []);
});

test('scan points to inspect --bundle for a HIKBTREE folder and an unknown layout, not for a camera it reads', async (t) => {
  const dir = await tmp(t, 'hiksync-e2e-inspect-');
  const share = path.join(dir, 'share');
  await binaryCamera(share);
  await dvrFolder(share);
  await unknownCamera(share);
  const r = runCli(['scan', '--input', share]);
  const hints = r.stdout.split('\n').filter((l) => l.includes('hint:'));
  t.is(hints.length, 2, r.stdout);
  t.regex(r.stdout, /dvr: [^\n]*\n(?: {2}[^\n]*\n)* {2}hint: [^\n]*hiksync inspect "[^"]*\/dvr"[^\n]*--bundle/);
  t.regex(r.stdout, /Camera-Unknown: [^\n]*\n(?: {2}[^\n]*\n)* {2}hint: [^\n]*hiksync inspect "[^"]*\/Camera-Unknown"/);
  const j = runCli(['scan', '--input', share, '--json']);
  const report = JSON.parse(j.stdout) as { cameras: Array<{ camera: string; hint: string | null }> };
  t.deepEqual(
    report.cameras.map((c) => [c.camera, c.hint === null ? null : /inspect .*--bundle/.test(c.hint)]),
    [
      ['Camera-Tuin', null],
      ['Camera-Unknown', true],
      ['dvr', true],
    ],
  );
});
