/**
 * The last gate before an MP4 takes its final name (mp4StructureProblem) and the box finder adoption and rebuild
 * use (findTopLevelBox), on hand-made box sequences: 32-bit, 64-bit (size 1) and to-the-end (size 0) sizes, and
 * the cut and impossible boxes a lost write leaves.
 */
import test from 'ava';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { boxHeader, findTopLevelBox, mp4StructureProblem } from '../../lib/media/probe.js';

function box(type: string, payload: number, opts: { large?: boolean; toEnd?: boolean } = {}): Buffer {
  const headerLen = opts.large ? 16 : 8;
  const b = Buffer.alloc(headerLen + payload);
  b.writeUInt32BE(opts.toEnd ? 0 : opts.large ? 1 : headerLen + payload, 0);
  b.write(type, 4, 'latin1');
  if (opts.large) b.writeBigUInt64BE(BigInt(headerLen + payload), 8);
  return b;
}

async function file(t: { teardown(fn: () => unknown): void }, ...parts: Buffer[]): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hiksync-probe-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const f = path.join(dir, 'x.mp4');
  await fs.writeFile(f, Buffer.concat(parts));
  return f;
}

test('boxHeader: 32-bit, 64-bit and to-the-end sizes; a 64-bit size cut off', (t) => {
  t.like(boxHeader(box('ftyp', 12), 100), { type: 'ftyp', size: 20, headerLen: 8, cut: false });
  t.like(boxHeader(box('mdat', 4, { large: true }), 100), { type: 'mdat', size: 20, headerLen: 16, cut: false });
  t.like(boxHeader(box('moov', 0, { toEnd: true }), 77), { type: 'moov', size: 77, headerLen: 8 });
  t.like(boxHeader(box('mdat', 4, { large: true }), 12), { cut: true });
});

test('a complete file (ftyp, 64-bit mdat, moov to the end) passes; findTopLevelBox finds moov behind the 64-bit mdat', async (t) => {
  const f = await file(t, box('ftyp', 12), box('mdat', 100, { large: true }), box('moov', 30, { toEnd: true }));
  t.is(await mp4StructureProblem(f), null);
  const fh = await fs.open(f, 'r');
  try {
    t.deepEqual(await findTopLevelBox(fh, (await fh.stat()).size, 'moov'), { pos: 20 + 116, size: 38 });
    t.is(await findTopLevelBox(fh, (await fh.stat()).size, 'free'), null);
  } finally {
    await fh.close();
  }
});

test('what a lost write leaves is named: a box past the end, stray bytes, an impossible size, no moov', async (t) => {
  const cut = box('moov', 30).subarray(0, 20);
  t.regex(
    (await mp4StructureProblem(await file(t, box('ftyp', 12), box('mdat', 50), cut)))!,
    /box moov at 78 needs 38 bytes, the file ends after 20/,
  );
  t.regex(
    (await mp4StructureProblem(await file(t, box('ftyp', 12), box('moov', 8), Buffer.alloc(5))))!,
    /5 stray bytes/,
  );
  const impossible = box('mdat', 0);
  impossible.writeUInt32BE(4, 0);
  t.regex(
    (await mp4StructureProblem(await file(t, box('ftyp', 12), impossible, box('moov', 8))))!,
    /impossible size 4/,
  );
  t.regex((await mp4StructureProblem(await file(t, box('ftyp', 12), box('mdat', 10))))!, /no moov box/);
  t.regex(
    (await mp4StructureProblem(await file(t, box('ftyp', 12), box('mdat', 0, { large: true }).subarray(0, 12))))!,
    /box mdat at 20 is cut in its header/,
  );
});
