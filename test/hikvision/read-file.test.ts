import test from 'ava';
import { IndexCorruptError, LimitExceededError } from '../../lib/errors.js';
import { usedIndexLength } from '../../lib/hikvision/index-header.js';
import { INDEX_READ_ATTEMPTS, readIndexConsistent, type ReadableFile } from '../../lib/hikvision/read-file.js';
import { goldenIndex } from './golden.js';

const VIDEO = {
  required: (h: { avFiles: number }) => usedIndexLength(h.avFiles, 256),
  wanted: (h: { avFiles: number }) => usedIndexLength(h.avFiles, 256),
};

/** A fake index file whose write counter is bumped by `onRead` (the camera writing during our reads). */
function fakeFile(bytes: Buffer, onRead: (n: number, bytes: Buffer) => void = () => undefined) {
  const reads: Array<[number, number]> = [];
  let n = 0;
  const file: ReadableFile = {
    stat: () => Promise.resolve({ size: bytes.length }),
    read: (buf, off, len, pos) => {
      reads.push([pos, len]);
      onRead(n++, bytes);
      const got = Math.max(0, Math.min(len, bytes.length - pos));
      bytes.copy(buf, off, pos, pos + got);
      return Promise.resolve({ bytesRead: got });
    },
    close: () => Promise.resolve(),
  };
  return { open: () => Promise.resolve(file), reads };
}

test('consistent read: header, the used part in one read, the counter again; nothing past the used length', async (t) => {
  const bytes = Buffer.concat([goldenIndex().buf, Buffer.alloc(4 * 1024 * 1024)]);
  const f = fakeFile(bytes);
  const got = await readIndexConsistent('/x/index00.bin', VIDEO, f.open);
  const used = usedIndexLength(8, 256);
  t.deepEqual(f.reads, [
    [0, 1280],
    [0, used],
    [0, 8],
  ]);
  t.is(got.bytes.length, used);
  t.is(got.bytesRead, 1280 + used + 8);
  t.is(got.header.modifyTimes, '4242');
  t.is(got.fileSize, bytes.length);
});

test('consistent read: a counter that moved during the read is read again', async (t) => {
  const f = fakeFile(Buffer.from(goldenIndex().buf), (n, b) => {
    if (n === 2) b.writeBigUInt64LE(4243n, 0); // the camera wrote the index between our big read and the re-check
  });
  const got = await readIndexConsistent('/x/index00.bin', VIDEO, f.open);
  t.is(got.header.modifyTimes, '4243');
  t.is(f.reads.length, 6);
});

test("consistent read: an index that keeps changing is IndexCorruptError 'index kept changing'", async (t) => {
  const f = fakeFile(Buffer.from(goldenIndex().buf), (_n, b) => b.writeBigUInt64LE(b.readBigUInt64LE(0) + 1n, 0));
  await t.throwsAsync(readIndexConsistent('/x/index00.bin', VIDEO, f.open), {
    instanceOf: IndexCorruptError,
    message: /index kept changing/,
  });
  t.is(f.reads.length, INDEX_READ_ATTEMPTS * 3);
});

test('consistent read: header counts that do not fit the file are refused before the big read', async (t) => {
  const f = fakeFile(goldenIndex().buf.subarray(0, 50_000));
  await t.throwsAsync(readIndexConsistent('/x/index00.bin', VIDEO, f.open), {
    instanceOf: IndexCorruptError,
    message: /needs \d+ bytes; the file has 50000/,
  });
  t.deepEqual(f.reads, [[0, 1280]]);
});

test('consistent read: a wanted length past the hard cap is LimitExceededError', async (t) => {
  const f = fakeFile(goldenIndex().buf);
  const huge = { required: () => 1000, wanted: () => 10 ** 12 };
  // The file is small, so the wanted length is capped by its size and the read succeeds ...
  t.is((await readIndexConsistent('/x/index00.bin', huge, f.open)).bytes.length, goldenIndex().buf.length);
  // ... while a file that really is that large is refused rather than read into memory.
  const small = await fakeFile(goldenIndex().buf).open();
  const big: ReadableFile = { ...small, stat: () => Promise.resolve({ size: 2 ** 40 }) };
  const openBig = () => Promise.resolve(big);
  await t.throwsAsync(readIndexConsistent('/x/index00.bin', huge, openBig), { instanceOf: LimitExceededError });
});
