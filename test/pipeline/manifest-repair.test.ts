import test from 'ava';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Recording } from '../../lib/hikvision/types.js';
import { Manifest } from '../../lib/pipeline/manifest.js';
import { entryFor } from '../../lib/pipeline/manifest-entry.js';
import { settlePending } from '../../lib/pipeline/manifest-repair.js';
import { planCamera, type PlanOptions } from '../../lib/pipeline/plan.js';

const T0 = Date.UTC(2024, 4, 1, 8, 0, 0) / 1000;

function rec(id: string, slot: number): Recording {
  return {
    id,
    camera: 'cam',
    datadir: 'datadir0',
    kind: 'video',
    fileNo: 0,
    slot,
    source: '/input/cam/datadir0/hiv00000.mp4',
    indexPath: '/input/cam/datadir0/index00.bin',
    slotsPerFile: 256,
    start: { sec: T0 + slot * 60, usec: 0 },
    end: { sec: T0 + slot * 60 + 30, usec: 0 },
    startOffset: slot * 8192,
    endOffset: slot * 8192 + 4096,
  };
}

const opts: PlanOptions = {
  kinds: { video: true, picture: true },
  container: 'mp4',
  retentionDays: 0,
  nowCameraSec: T0 + 86_400,
  maxAttempts: 3,
  adoptExisting: false,
};

test('a crash while extracting counts no attempt: recordings in flight during 5 SIGKILLs are not given up', async (t) => {
  const state = await fs.mkdtemp(path.join(os.tmpdir(), 'hiksync-settle-'));
  t.teardown(() => fs.rm(state, { recursive: true, force: true }));
  const recordings = [rec('a', 0), rec('b', 1), rec('c', 2)];
  const listing = { video: new Set<string>(['cam_done.mp4']), images: new Set<string>() };
  for (let crash = 1; crash <= 5; crash++) {
    // A pass settles what the last one left, plans, writes a 'pending' line per recording in flight (the attempt in
    // progress counted) and dies.
    const m = await Manifest.open(state, 'cam');
    t.is(await settlePending(m, '/nowhere', listing), crash === 1 ? 0 : 3);
    const plan = planCamera('cam', 'cam', recordings, m, listing, opts);
    t.deepEqual(
      plan.tasks.map((x) => x.recording.id),
      ['a', 'b', 'c'],
      `pass ${crash}: every recording is still planned`,
    );
    t.deepEqual(plan.gaveUp, []);
    for (const task of plan.tasks) m.put(entryFor(task.recording, task.output, 'pending', 0, task.attempts + 1));
    await m.flush({ durable: true });
  }
  // Absent outputs are failed attempts that were not the recordings' fault.
  const m = await Manifest.open(state, 'cam');
  t.is(await settlePending(m, '/nowhere', listing), 3);
  for (const id of ['a', 'b', 'c']) {
    t.is(m.get(id)?.status, 'failed');
    t.is(m.get(id)?.attempts, 0, `${id}: the interrupted attempt is not counted`);
  }
});

test('a pending entry whose output exists is done: the rename is the last step of a complete file', async (t) => {
  const state = await fs.mkdtemp(path.join(os.tmpdir(), 'hiksync-settle-'));
  const out = await fs.mkdtemp(path.join(os.tmpdir(), 'hiksync-settle-out-'));
  t.teardown(() => fs.rm(state, { recursive: true, force: true }));
  t.teardown(() => fs.rm(out, { recursive: true, force: true }));
  const r = rec('a', 0);
  await fs.mkdir(path.join(out, 'cam', 'video'), { recursive: true });
  await fs.writeFile(path.join(out, 'cam', 'video', 'x.mp4'), Buffer.alloc(1234));
  const m = await Manifest.open(state, 'cam');
  m.put(entryFor(r, 'cam/video/x.mp4', 'pending', 0, 2));
  t.is(await settlePending(m, out, { video: new Set(['x.mp4']), images: new Set() }), 1);
  t.like(m.get('a'), { status: 'done', size: 1234, attempts: 2 });
});
