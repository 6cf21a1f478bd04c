import test from 'ava';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { BundleLimitError } from '../../lib/errors.js';
import { isValidEntryName, splitName, TarGzWriter, ustarHeader } from '../../lib/inspect/tar.js';
import { tmp } from '../helpers/cli.js';
import { listWithSystemTar, readTarGz } from '../helpers/tar.js';

async function writeArchive(file: string, entries: Array<[string, Buffer]>, maxBytes = 1e9): Promise<number> {
  const fh = await fs.open(file, 'wx');
  const w = new TarGzWriter(fh.createWriteStream(), maxBytes);
  try {
    for (const [name, data] of entries) await w.add(name, data, new Date(1_700_000_000_000));
    return await w.finish();
  } catch (err) {
    await w.abort();
    throw err;
  }
}

test('the archive reads back byte for byte, with GNU tar and with an independent reader', async (t) => {
  const dir = await tmp(t, 'hiksync-tar-');
  const file = path.join(dir, 'a.tar.gz');
  const long = `root/${'d'.repeat(120)}/${'f'.repeat(90)}.bin`; // needs the ustar prefix field
  const entries: Array<[string, Buffer]> = [
    ['root/empty.txt', Buffer.alloc(0)],
    ['root/one-block.bin', Buffer.alloc(512, 7)],
    ['root/odd.bin', Buffer.from(Array.from({ length: 1000 }, (_, i) => i & 0xff))],
    [long, Buffer.from('deep')],
    ['root/big.bin', Buffer.alloc(3 * 1024 * 1024 + 5, 1)], // several gzip writes, backpressure
  ];
  const compressed = await writeArchive(file, entries);
  t.is((await fs.stat(file)).size, compressed, 'the compressed count is the file size');

  const read = await readTarGz(file);
  t.deepEqual(
    read.map((m) => [m.name, m.size, m.type, m.mtime]),
    entries.map(([n, d]) => [n, d.length, '0', 1_700_000_000]),
  );
  for (const [i, [, data]] of entries.entries()) t.true(read[i]!.data.equals(data));
  t.deepEqual(
    listWithSystemTar(file),
    entries.map(([n, d]) => ({ name: n, size: d.length })),
  );
});

test('ustar header: checksum, octal size, name split over prefix and name at a slash', (t) => {
  const h = ustarHeader({ name: 'a/b.txt', size: 1234, mtime: new Date(0) });
  t.is(h.length, 512);
  t.is(h.subarray(124, 136).toString('ascii'), '00000002322\0');
  t.is(h.subarray(257, 263).toString('ascii'), 'ustar\0');
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
  t.is(parseInt(h.subarray(148, 154).toString('ascii'), 8), sum);

  t.deepEqual(splitName('x/y'), { prefix: '', name: 'x/y' });
  const long = `${'p'.repeat(150)}/${'n'.repeat(99)}`;
  t.deepEqual(splitName(long), { prefix: 'p'.repeat(150), name: 'n'.repeat(99) });
  t.is(splitName('n'.repeat(101)), undefined, 'no slash to split at');
});

test('names that could escape the extraction folder, or do not fit, are refused', (t) => {
  for (const bad of ['', '/etc/passwd', 'a/../../b', './a', 'a//b', 'a\0b', 'x'.repeat(300)]) {
    t.false(isValidEntryName(bad), bad);
    t.throws(() => ustarHeader({ name: bad, size: 0, mtime: new Date() }), { instanceOf: RangeError });
  }
  t.throws(() => ustarHeader({ name: 'a', size: -1, mtime: new Date() }), { instanceOf: RangeError });
});

test('the compressed-size cap stops the writing with BundleLimitError', async (t) => {
  const dir = await tmp(t, 'hiksync-tar-');
  const file = path.join(dir, 'a.tar.gz');
  const random = Buffer.alloc(2 * 1024 * 1024);
  for (let i = 0; i < random.length; i += 4) random.writeUInt32LE((Math.imul(i, 2654435761) ^ (i >>> 7)) >>> 0, i);
  const err = await t.throwsAsync(writeArchive(file, [['r/noise.bin', random]], 256 * 1024), {
    instanceOf: BundleLimitError,
  });
  t.regex(err.message, /compressed archive is \d+ bytes, above the bundle's cap of 262144 bytes/);
});
