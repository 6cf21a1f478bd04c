import test from 'ava';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ManifestEntry } from '../../lib/pipeline/manifest-entry.js';
import { applyRetention, FUTURE_TOLERANCE_SEC, planRetention, safeOutputPath } from '../../lib/pipeline/retention.js';
import { cameraNowSec } from '../../lib/time.js';

const DAY = 86_400;
const sec = (iso: string) => Date.parse(iso + 'Z') / 1000;
const NOW = sec('2024-07-01T12:00:00'); // camera-local now

let seq = 0;
function entry(startSec: number, over: Partial<ManifestEntry> = {}): ManifestEntry {
  const id = `rec-${++seq}`;
  return {
    id,
    kind: 'video',
    output: `garden/video/${id}.mp4`,
    status: 'done',
    size: 100,
    startSec,
    startUsec: 0,
    endSec: startSec + 60,
    source: { datadir: 'datadir0', fileNo: 0, slot: seq, startOffset: 0, endOffset: 100 },
    attempts: 1,
    updatedAt: 0,
    ...over,
  };
}

/** Ten days of one recording a day, ending today: with 7 days retention, the 3 oldest go (30%). */
function tenDays(): ManifestEntry[] {
  return Array.from({ length: 10 }, (_, i) => entry(NOW - (9 - i) * DAY - 3600));
}

const opts = { retentionDays: 7, nowCameraSec: NOW, maxShare: 0.5 };

test('deletes by recording time, oldest first; keeps the rest', (t) => {
  const entries = tenDays();
  const plan = planRetention(entries, opts);
  t.is(plan.blocked, undefined);
  t.deepEqual(
    plan.delete.map((e) => e.id),
    entries.slice(0, 3).map((e) => e.id),
  );
});

test('a recording is old only once it ENDED before the cutoff', (t) => {
  const cutoff = NOW - 7 * DAY;
  const straddles = entry(cutoff - 30, { endSec: cutoff + 30 });
  const ended = entry(cutoff - 90, { endSec: cutoff - 30 });
  const plan = planRetention([straddles, ended, ...tenDays().slice(5)], opts);
  t.deepEqual(
    plan.delete.map((e) => e.id),
    [ended.id],
  );
});

test('only done entries are candidates; RETENTION_DAYS 0 keeps everything', (t) => {
  const old = NOW - 30 * DAY;
  const entries = [
    entry(old, { status: 'failed' }),
    entry(old, { status: 'gave-up' }),
    entry(old, { status: 'pending' }),
    ...tenDays(),
  ];
  t.true(planRetention(entries, opts).delete.every((e) => e.status === 'done'));
  t.is(planRetention(entries, { ...opts, retentionDays: 0 }).delete.length, 0);
});

test('implausible dates (1970/2000 clock resets) are never deleted, even with force', (t) => {
  const reset1970 = entry(5000);
  const reset2000 = entry(sec('2000-01-01T00:10:00'));
  const entries = [reset1970, reset2000, ...tenDays()];
  for (const force of [false, true]) {
    const plan = planRetention(entries, { ...opts, force });
    t.is(plan.keptImplausible, 2);
    t.false(plan.delete.includes(reset1970));
    t.false(plan.delete.includes(reset2000));
    t.is(plan.delete.length, 3);
  }
});

test('share valve: more than maxShare of a camera -> nothing, with the reason; force overrides', (t) => {
  const entries = tenDays();
  const strict = planRetention(entries, { ...opts, retentionDays: 3 }); // 7 of 10 ended more than 3 days ago
  t.is(strict.delete.length, 0);
  t.regex(strict.blocked ?? '', /would delete 7 of 10 files \(70%\), more than RETENTION_MAX_SHARE=0.5/);
  const forced = planRetention(entries, { ...opts, retentionDays: 3, force: true });
  t.is(forced.delete.length, 7);
  t.is(forced.blocked, undefined);
  // Exactly the share is allowed (5 of 10), one more is not.
  t.is(planRetention(entries, { ...opts, retentionDays: 5 }).delete.length, 5);
  t.truthy(planRetention(entries, { ...opts, retentionDays: 4 }).blocked);
});

test('a host clock jumped a year ahead deletes nothing', (t) => {
  const plan = planRetention(tenDays(), { ...opts, nowCameraSec: NOW + 365 * DAY });
  t.is(plan.delete.length, 0);
  t.truthy(plan.blocked);
});

test('future valve: newest recording ahead of now -> nothing; tolerance and force', (t) => {
  const entries = tenDays();
  // CAMERA_TZ unset in a UTC container while the camera records Amsterdam time: recordings look 2 h ahead.
  const ahead = [...entries, entry(NOW + 2 * 3600)];
  const plan = planRetention(ahead, opts);
  t.is(plan.delete.length, 0);
  t.regex(plan.blocked ?? '', /120 min ahead .*CAMERA_TZ/);
  t.is(planRetention(ahead, { ...opts, force: true }).delete.length, 3);
  const slightly = [...entries, entry(NOW + FUTURE_TOLERANCE_SEC - 1)];
  t.is(planRetention(slightly, opts).delete.length, 3, 'within tolerance');
});

test('time-zone boundary: UTC host, Europe/Amsterdam camera', (t) => {
  // Host: 2024-07-08T10:30:00Z. Camera-local now: 12:30. Cutoff (7 days): 2024-07-01 12:30 camera time.
  const hostNow = Date.parse('2024-07-08T10:30:00Z');
  const now = cameraNowSec('Europe/Amsterdam', hostNow);
  t.is(now, sec('2024-07-08T12:30:00'));
  // Ended 12:00 camera time on 07-01: in UTC terms that is 10:00Z, i.e. 30 min older than the cutoff.
  const oldEnough = entry(sec('2024-07-01T11:59:00'), { endSec: sec('2024-07-01T12:00:00') });
  // Ended 12:30:30 camera time: 30 s short of the limit.
  const notYet = entry(sec('2024-07-01T12:28:00'), { endSec: sec('2024-07-01T12:30:30') });
  const recent = Array.from({ length: 5 }, (_, i) => entry(now - i * DAY));
  const plan = planRetention([oldEnough, notYet, ...recent], { ...opts, nowCameraSec: now });
  t.deepEqual(
    plan.delete.map((e) => e.id),
    [oldEnough.id],
  );
  // The mistake the camera zone avoids: comparing camera seconds with the host's UTC clock keeps it 2 h too long.
  const wrong = planRetention([oldEnough, notYet, ...recent], { ...opts, nowCameraSec: hostNow / 1000 });
  t.notDeepEqual(
    wrong.delete.map((e) => e.id),
    plan.delete.map((e) => e.id),
  );
});

async function setup(entries: ManifestEntry[]) {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'hiksync-ret-'));
  for (const e of entries) {
    const abs = path.join(root, e.output);
    await fs.mkdir(path.dirname(abs), { recursive: true });
    await fs.writeFile(abs, Buffer.alloc(e.size));
  }
  const live = new Map(entries.map((e) => [e.id, e]));
  const removed: string[] = [];
  let flushes = 0;
  const store = {
    entries: () => [...live.values()],
    remove: (id: string) => {
      live.delete(id);
      removed.push(id);
    },
    flush: () => {
      flushes++;
      return Promise.resolve();
    },
  };
  return { root, store, removed, live, flushes: () => flushes };
}

test('applyRetention deletes planned files by recording time, not mtime', async (t) => {
  const entries = tenDays();
  const { root, store, removed, flushes } = await setup(entries);
  // Give the OLD recordings a brand-new mtime and the new ones an ancient mtime: mtime must not matter.
  for (const [i, e] of entries.entries()) {
    const when = i < 3 ? new Date() : new Date('2001-01-01');
    await fs.utimes(path.join(root, e.output), when, when);
  }
  // A file in the output that hiksync did not create.
  await fs.writeFile(path.join(root, 'garden', 'video', 'mine.mp4'), 'user file');
  const plan = planRetention(store.entries(), opts);
  const r = await applyRetention(root, store, plan, { dryRun: false });
  t.deepEqual(r, { deleted: 3, bytes: 300, missing: 0, failed: 0 });
  t.deepEqual(
    removed,
    entries.slice(0, 3).map((e) => e.id),
  );
  t.is(flushes(), 1);
  const left = (await fs.readdir(path.join(root, 'garden', 'video'))).sort();
  t.deepEqual(left, [...entries.slice(3).map((e) => path.basename(e.output)), 'mine.mp4'].sort());
});

test('dry-run changes nothing', async (t) => {
  const entries = tenDays();
  const { root, store, removed, flushes } = await setup(entries);
  const plan = planRetention(store.entries(), opts);
  const r = await applyRetention(root, store, plan, { dryRun: true });
  t.deepEqual(r, { deleted: 3, bytes: 300, missing: 0, failed: 0 });
  t.deepEqual(removed, []);
  t.is(flushes(), 0);
  t.is((await fs.readdir(path.join(root, 'garden', 'video'))).length, 10);
});

test('missing files are counted and forgotten; unsafe or unknown entries are never touched', async (t) => {
  const entries = tenDays();
  const { root, store, live } = await setup(entries);
  await fs.unlink(path.join(root, entries[0]!.output));
  const plan = planRetention(store.entries(), opts);
  // A plan entry the store does not list (or lists elsewhere) must not lead to a deletion.
  const stranger = entry(NOW - 30 * DAY, { output: entries[5]!.output });
  const escaping = entry(NOW - 30 * DAY, { output: '../outside.mp4' });
  live.set(escaping.id, escaping);
  const r = await applyRetention(
    root,
    store,
    { ...plan, delete: [...plan.delete, stranger, escaping] },
    { dryRun: false },
  );
  t.is(r.deleted, 2);
  t.is(r.missing, 1);
  t.is(r.failed, 2);
  t.false(live.has(entries[0]!.id));
  await t.notThrowsAsync(fs.stat(path.join(root, entries[5]!.output)));
});

test('safeOutputPath refuses anything that could leave the output root', (t) => {
  t.is(safeOutputPath('/out', 'garden/video/a.mp4'), '/out/garden/video/a.mp4');
  for (const bad of [
    '',
    '/etc/passwd',
    '../x',
    'garden/../../x',
    'garden//x',
    './x',
    '.hiksync/manifests/x',
    'a\\b',
    'garden/./x',
  ]) {
    t.is(safeOutputPath('/out', bad), undefined, bad);
  }
});
