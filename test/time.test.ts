import test from 'ava';
import fc from 'fast-check';
import {
  cameraLocalToUtcMs,
  cameraNowSec,
  isPlausibleCameraTime,
  isValidTimeZone,
  MIN_PLAUSIBLE_CAMERA_SEC,
  parseCameraDate,
} from '../lib/time.js';
import { InvalidDateError } from '../lib/errors.js';

const sec = (iso: string) => Date.parse(iso + 'Z') / 1000;

test('cameraNowSec: the wall clock of the zone as epoch seconds', (t) => {
  const now = Date.parse('2024-07-01T10:00:00Z');
  t.is(cameraNowSec('UTC', now), sec('2024-07-01T10:00:00'));
  t.is(cameraNowSec('Europe/Amsterdam', now), sec('2024-07-01T12:00:00'), 'summer: UTC+2');
  t.is(
    cameraNowSec('Europe/Amsterdam', Date.parse('2024-01-15T10:00:00.900Z')),
    sec('2024-01-15T11:00:00'),
    'winter: UTC+1, ms dropped',
  );
  t.is(cameraNowSec('America/New_York', now), sec('2024-07-01T06:00:00'));
  t.is(cameraNowSec('Asia/Kolkata', now), sec('2024-07-01T15:30:00'));
});

test('cameraLocalToUtcMs: ordinary times', (t) => {
  t.is(cameraLocalToUtcMs(sec('2024-07-01T12:00:00'), 'Europe/Amsterdam'), Date.parse('2024-07-01T10:00:00Z'));
  t.is(cameraLocalToUtcMs(sec('2024-01-15T11:00:00'), 'Europe/Amsterdam'), Date.parse('2024-01-15T10:00:00Z'));
  t.is(cameraLocalToUtcMs(sec('2024-01-15T11:00:00'), 'UTC'), Date.parse('2024-01-15T11:00:00Z'));
});

test('cameraLocalToUtcMs: DST gap is pushed forward, repeated hour takes the earlier instant', (t) => {
  // Europe/Amsterdam 2024-03-31 02:00 -> 03:00: 02:30 does not exist; read with +1 => 01:30Z (= 03:30 summer time).
  t.is(cameraLocalToUtcMs(sec('2024-03-31T02:30:00'), 'Europe/Amsterdam'), Date.parse('2024-03-31T01:30:00Z'));
  // 2024-10-27 03:00 -> 02:00: 02:30 happens at 00:30Z (summer) and 01:30Z (winter); the earlier is chosen.
  t.is(cameraLocalToUtcMs(sec('2024-10-27T02:30:00'), 'Europe/Amsterdam'), Date.parse('2024-10-27T00:30:00Z'));
  // Just outside the transitions.
  t.is(cameraLocalToUtcMs(sec('2024-10-27T03:00:00'), 'Europe/Amsterdam'), Date.parse('2024-10-27T02:00:00Z'));
  t.is(cameraLocalToUtcMs(sec('2024-03-31T03:00:00'), 'Europe/Amsterdam'), Date.parse('2024-03-31T01:00:00Z'));
});

test('property: cameraNowSec and cameraLocalToUtcMs are inverse away from transitions', (t) => {
  const zones = ['UTC', 'Europe/Amsterdam', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu'];
  fc.assert(
    fc.property(
      fc.integer({ min: Date.UTC(2010, 0, 1) / 1000, max: Date.UTC(2037, 0, 1) / 1000 }),
      fc.constantFrom(...zones),
      (s, tz) => {
        const ms = s * 1000;
        const local = cameraNowSec(tz, ms);
        const back = cameraLocalToUtcMs(local, tz);
        // Ambiguous local times map to the earlier instant; otherwise exact.
        return back === ms || (back < ms && cameraNowSec(tz, back) === local);
      },
    ),
  );
  t.pass();
});

test('isPlausibleCameraTime', (t) => {
  const now = sec('2024-07-01T12:00:00');
  t.false(isPlausibleCameraTime(0, now), '1970');
  t.false(isPlausibleCameraTime(sec('2000-01-01T00:00:00'), now), '2000 reset');
  t.false(isPlausibleCameraTime(MIN_PLAUSIBLE_CAMERA_SEC - 1, now));
  t.true(isPlausibleCameraTime(MIN_PLAUSIBLE_CAMERA_SEC, now));
  t.true(isPlausibleCameraTime(now, now));
  t.true(isPlausibleCameraTime(now + 86_400, now));
  t.false(isPlausibleCameraTime(now + 86_401, now));
  t.false(isPlausibleCameraTime(NaN, now));
});

test('parseCameraDate: dates and date-times, camera-local', (t) => {
  t.is(parseCameraDate('2024-05-01'), sec('2024-05-01T00:00:00'));
  t.is(parseCameraDate('2024-05-01T13:45'), sec('2024-05-01T13:45:00'));
  t.is(parseCameraDate('2024-05-01 13:45:30'), sec('2024-05-01T13:45:30'));
  t.is(parseCameraDate('2024-02-29'), sec('2024-02-29T00:00:00'));
});

test('parseCameraDate: clear errors', (t) => {
  const zone = t.throws(() => parseCameraDate('2024-05-01T13:45:00Z', '--since'), { instanceOf: InvalidDateError });
  t.regex(zone.message, /--since "2024-05-01T13:45:00Z" has a time zone suffix/);
  t.throws(() => parseCameraDate('2024-05-01T13:45+02:00'), { message: /time zone suffix/ });
  t.throws(() => parseCameraDate('2023-02-29'), { message: /day must be 01..28/ });
  t.throws(() => parseCameraDate('2024-13-01'), { message: /month must be 01..12/ });
  t.throws(() => parseCameraDate('2024-05-01T24:00'), { message: /time must be/ });
  t.throws(() => parseCameraDate('yesterday', '--until'), { message: /--until "yesterday" is not a date/ });
  t.throws(() => parseCameraDate('2024-5-1'), { message: /is not a date/ });
});

test('isValidTimeZone', (t) => {
  t.true(isValidTimeZone('Europe/Amsterdam'));
  t.false(isValidTimeZone('Nowhere/Town'));
  t.false(isValidTimeZone(''));
});
