import test from 'ava';
import { emptyCameraSummary, formatSummary, tooOldNotes, type PassSummary } from '../../lib/pipeline/summary.js';

const NOW = Date.UTC(2026, 11, 1, 16, 14, 30) / 1000;
const DAYS = { RETENTION_DAYS: 90, VIDEO_SYNC_DAYS: undefined, IMAGE_SYNC_DAYS: undefined };

function pass(over: Partial<PassSummary>): PassSummary {
  return {
    startedAt: '2026-12-01T16:14:30.000Z',
    endedAt: '2026-12-01T16:14:31.000Z',
    seconds: 1,
    dryRun: false,
    interrupted: false,
    cameras: [],
    totals: {
      planned: 0,
      written: 0,
      adopted: 0,
      already: 0,
      failed: 0,
      gaveUp: 0,
      conflicts: 0,
      bytesRead: 0,
      bytesWritten: 0,
      retentionDeleted: 0,
    },
    mbPerSec: 0,
    tooOld: [],
    exitCode: 0,
    ...over,
  };
}

test('what RETENTION_DAYS left out is one sentence with the cut-off and the way to keep everything', (t) => {
  const a = { tooOld: { RETENTION_DAYS: { video: 40, picture: 5 } } };
  const b = { tooOld: { RETENTION_DAYS: { video: 2, picture: 0 } } };
  t.deepEqual(tooOldNotes([a, b], DAYS, NOW), [
    {
      setting: 'RETENTION_DAYS',
      days: 90,
      before: '2026-09-02 16:14',
      videos: 42,
      pictures: 5,
      message:
        '42 videos and 5 pictures older than RETENTION_DAYS=90 (before 2026-09-02 16:14 camera time) not extracted: ' +
        'set RETENTION_DAYS=0 (--retention-days 0) to keep everything',
    },
  ]);
  t.deepEqual(tooOldNotes([{ tooOld: {} }], DAYS, NOW), [], 'nothing left out: no note');
});

test('sync days get their own note, after RETENTION_DAYS; one picture is "1 picture"', (t) => {
  const notes = tooOldNotes(
    [{ tooOld: { IMAGE_SYNC_DAYS: { video: 0, picture: 1 }, RETENTION_DAYS: { video: 3, picture: 0 } } }],
    { ...DAYS, IMAGE_SYNC_DAYS: 7 },
    NOW,
  );
  t.deepEqual(
    notes.map((n) => n.message),
    [
      '3 videos older than RETENTION_DAYS=90 (before 2026-09-02 16:14 camera time) not extracted: set RETENTION_DAYS=0 (--retention-days 0) to keep everything',
      '1 picture older than IMAGE_SYNC_DAYS=7 (before 2026-11-24 16:14 camera time) not extracted: raise or unset IMAGE_SYNC_DAYS to extract them',
    ],
  );
});

test('a dry run counts what it would extract, per camera and in total; the age note follows the head line', (t) => {
  const cam = emptyCameraSummary('Camera-Tuin', 'garden');
  cam.listed = { video: 50, picture: 6 };
  cam.planned = { video: 40, picture: 2 };
  cam.skipped = { 'too-old': 14 };
  cam.retention = { deleted: 3, bytes: 30, missing: 0, keptImplausible: 0 };
  const note = tooOldNotes([{ tooOld: { RETENTION_DAYS: { video: 10, picture: 4 } } }], DAYS, NOW);
  const s = pass({ dryRun: true, cameras: [cam], tooOld: note, totals: { ...pass({}).totals, planned: 42 } });
  t.deepEqual(formatSummary(s), [
    'Dry run (nothing written): would extract 42 (40 videos, 2 pictures), 0 already there',
    '  10 videos and 4 pictures older than RETENTION_DAYS=90 (before 2026-09-02 16:14 camera time) not extracted: set RETENTION_DAYS=0 (--retention-days 0) to keep everything',
    '  garden (Camera-Tuin): listed 50 videos / 6 pictures; would extract 40 videos / 2 pictures; already 0; skipped: too-old 14',
    '    retention: would delete 3 file(s), 30 B',
  ]);
  const real = formatSummary(pass({ cameras: [{ ...cam, written: { video: 40, picture: 2 } }] }));
  t.regex(real[0]!, /^Pass complete: 0 written/);
  t.regex(real[1]!, /new 40 videos \/ 2 pictures/);
  t.regex(real[2]!, /retention: deleted 3 file\(s\)/);
});
