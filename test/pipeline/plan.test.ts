import test from 'ava';
import type { Recording } from '../../lib/hikvision/types.js';
import type { ManifestEntry } from '../../lib/pipeline/manifest-entry.js';
import { planCamera, type ManifestView, type PlanOptions } from '../../lib/pipeline/plan.js';

const T0 = Date.UTC(2024, 4, 1, 8, 0, 0) / 1000;
const NOW = T0 + 86_400;

function rec(id: string, sec: number, usec = 0, kind: Recording['kind'] = 'video'): Recording {
  return {
    id,
    camera: 'Camera-Tuin',
    datadir: 'datadir0',
    kind,
    fileNo: 0,
    slot: 0,
    source: '/input/Camera-Tuin/datadir0/hiv00000.mp4',
    indexPath: '/input/Camera-Tuin/datadir0/index00.bin',
    slotsPerFile: 256,
    start: { sec, usec },
    end: { sec: sec + 30, usec: 0 },
    startOffset: 0,
    endOffset: 4096,
  };
}

function manifestOf(entries: ManifestEntry[]): ManifestView {
  return {
    get: (id) => entries.find((e) => e.id === id),
    ownerOf: (o) => entries.find((e) => e.output === o),
  };
}

function done(r: Recording, output: string, status: ManifestEntry['status'] = 'done', attempts = 1): ManifestEntry {
  return {
    id: r.id,
    kind: r.kind,
    output,
    status,
    size: 10,
    startSec: r.start.sec,
    startUsec: r.start.usec,
    endSec: r.end.sec,
    source: { datadir: r.datadir, fileNo: r.fileNo, slot: r.slot, startOffset: r.startOffset, endOffset: r.endOffset },
    attempts,
    updatedAt: 0,
  };
}

const opts: PlanOptions = {
  kinds: { video: true, picture: true },
  container: 'mp4',
  retentionDays: 90,
  nowCameraSec: NOW,
  maxAttempts: 3,
  adoptExisting: false,
};
const empty = { video: new Set<string>(), images: new Set<string>() };

test('same second: the first by microseconds keeps the plain name, later ones get -2, -3', (t) => {
  const plan = planCamera(
    'Camera-Tuin',
    'garden',
    [rec('b', T0, 500), rec('c', T0, 900), rec('a', T0, 100)],
    manifestOf([]),
    empty,
    opts,
  );
  t.deepEqual(
    plan.tasks.map((x) => [x.recording.id, x.output]),
    [
      ['a', 'garden/video/2024-05-01_08-00-00-garden.mp4'],
      ['b', 'garden/video/2024-05-01_08-00-00-garden-2.mp4'],
      ['c', 'garden/video/2024-05-01_08-00-00-garden-3.mp4'],
    ],
  );
});

test('a name once given never changes: a new same-second recording takes the next free suffix', (t) => {
  const a = rec('a', T0, 100);
  const m = manifestOf([done(a, 'garden/video/2024-05-01_08-00-00-garden.mp4')]);
  const listing = { video: new Set(['2024-05-01_08-00-00-garden.mp4']), images: new Set<string>() };
  // An earlier-usec recording appears later (another datadir): it must not steal the plain name.
  const plan = planCamera('Camera-Tuin', 'garden', [a, rec('z', T0, 50)], m, listing, opts);
  t.deepEqual(
    plan.tasks.map((x) => [x.recording.id, x.output]),
    [['z', 'garden/video/2024-05-01_08-00-00-garden-2.mp4']],
  );
  t.is(plan.skipped.already, 1);
});

test('an output the user deleted is extracted again under its old name', (t) => {
  const a = rec('a', T0);
  const plan = planCamera('c', 'garden', [a], manifestOf([done(a, 'garden/video/x.mp4')]), empty, opts);
  t.deepEqual(
    plan.tasks.map((x) => [x.output, x.reason]),
    [['garden/video/x.mp4', 'deleted']],
  );
});

test('a file hiksync did not write is a conflict, never a target; --adopt-existing hands it to the worker', (t) => {
  const listing = { video: new Set(['2024-05-01_08-00-00-garden.mp4']), images: new Set<string>() };
  const plan = planCamera('c', 'garden', [rec('a', T0)], manifestOf([]), listing, opts);
  t.deepEqual(plan.tasks, []);
  t.deepEqual(plan.conflicts, ['garden/video/2024-05-01_08-00-00-garden.mp4']);
  const adopt = planCamera('c', 'garden', [rec('a', T0)], manifestOf([]), listing, { ...opts, adoptExisting: true });
  t.deepEqual(
    adopt.tasks.map((x) => x.reason),
    ['foreign'],
  );
});

test('retention window: old recordings are skipped, implausible dates never are', (t) => {
  const old = rec('old', NOW - 100 * 86_400);
  const reset = rec('reset', Date.UTC(2000, 0, 1) / 1000);
  const ahead = rec('ahead', NOW + 30 * 86_400);
  const plan = planCamera('c', 'garden', [old, reset, ahead], manifestOf([]), empty, opts);
  t.deepEqual(
    plan.tasks.map((x) => [x.recording.id, x.implausible]),
    [
      ['reset', true],
      ['ahead', true],
    ],
  );
  t.is(plan.skipped['too-old'], 1);
  t.is(plan.implausible, 2);
  const keepAll = planCamera('c', 'garden', [old], manifestOf([]), empty, { ...opts, retentionDays: 0 });
  t.is(keepAll.tasks.length, 1);
});

test('VIDEO_SYNC_DAYS / IMAGE_SYNC_DAYS limit how far back each kind is extracted; the setting that left a recording out is counted', (t) => {
  const day = 86_400;
  const recs = [
    rec('v1', NOW - 2 * day),
    rec('v10', NOW - 10 * day),
    rec('v100', NOW - 100 * day),
    rec('p1', NOW - 2 * day, 0, 'picture'),
    rec('p10', NOW - 10 * day, 0, 'picture'),
  ];
  const plan = planCamera('c', 'garden', recs, manifestOf([]), empty, { ...opts, syncDays: { video: 7 } });
  t.deepEqual(plan.tasks.map((x) => x.recording.id).sort(), ['p1', 'p10', 'v1']);
  t.is(plan.skipped['too-old'], 2);
  // v100 is beyond RETENTION_DAYS (unsetting the sync days would not bring it back); v10 only beyond the sync days.
  t.deepEqual(plan.tooOld, { RETENTION_DAYS: { video: 1, picture: 0 }, VIDEO_SYNC_DAYS: { video: 1, picture: 0 } });

  const pictures = planCamera('c', 'garden', recs, manifestOf([]), empty, { ...opts, syncDays: { picture: 7 } });
  t.deepEqual(pictures.tooOld, { RETENTION_DAYS: { video: 1, picture: 0 }, IMAGE_SYNC_DAYS: { video: 0, picture: 1 } });
  // Sync days longer than the retention window change nothing; with RETENTION_DAYS=0 they alone decide.
  const longer = planCamera('c', 'garden', recs, manifestOf([]), empty, { ...opts, syncDays: { video: 365 } });
  t.deepEqual(longer.tooOld, { RETENTION_DAYS: { video: 1, picture: 0 } });
  const alone = planCamera('c', 'garden', recs, manifestOf([]), empty, {
    ...opts,
    retentionDays: 0,
    syncDays: { video: 7 },
  });
  t.deepEqual(alone.tooOld, { VIDEO_SYNC_DAYS: { video: 2, picture: 0 } });
  t.is(alone.tasks.length, 3);
});

test('failed recordings are retried with their name until maxAttempts, then given up', (t) => {
  const a = rec('a', T0);
  const b = rec('b', T0 + 60);
  const m = manifestOf([done(a, 'garden/video/a.mp4', 'failed', 2), done(b, 'garden/video/b.mp4', 'failed', 3)]);
  const plan = planCamera('c', 'garden', [a, b], m, empty, opts);
  t.deepEqual(
    plan.tasks.map((x) => [x.recording.id, x.reason, x.attempts]),
    [['a', 'retry', 2]],
  );
  t.deepEqual(plan.gaveUp, ['b']);
  const c = rec('c', T0 + 120);
  const gaveUp = manifestOf([done(c, 'garden/video/c.mp4', 'gave-up', 3)]);
  t.deepEqual(planCamera('c', 'garden', [c], gaveUp, empty, opts).tasks, []);
  const retried = planCamera('c', 'garden', [c], gaveUp, empty, { ...opts, retryGaveUp: true });
  t.deepEqual(
    retried.tasks.map((x) => [x.output, x.reason, x.attempts]),
    [['garden/video/c.mp4', 'retry', 0]],
  );
});

test('--since/--until, --no-video and --no-images filter the plan', (t) => {
  const recs = [rec('v1', T0), rec('v2', T0 + 3600), rec('p1', T0 + 3600, 0, 'picture')];
  const ranged = planCamera('c', 'g', recs, manifestOf([]), empty, { ...opts, since: T0 + 1800, until: T0 + 7200 });
  t.deepEqual(ranged.tasks.map((x) => x.recording.id).sort(), ['p1', 'v2']);
  const noVideo = planCamera('c', 'g', recs, manifestOf([]), empty, {
    ...opts,
    kinds: { video: false, picture: true },
  });
  t.deepEqual(
    noVideo.tasks.map((x) => x.output),
    ['g/images/2024-05-01_09-00-00-g.jpg'],
  );
});
