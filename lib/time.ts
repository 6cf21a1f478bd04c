/**
 * Camera time. Hikvision index timestamps are the camera's LOCAL wall-clock seconds written as if they were a Unix
 * epoch ("camera seconds"): format them with UTC getters. The host clock is real UTC. To compare the two, the host's
 * "now" is turned into camera seconds in the camera's IANA zone (cameraNowSec), and a camera time is turned into a
 * real instant only where one is needed (file mtimes: cameraLocalToUtcMs).
 *
 * Pure: no I/O; the only state is a memo of Intl formatters per zone.
 */
import { InvalidDateError } from './errors.js';

/** Camera clocks reset to 1970 or 2000 after a power loss; nothing real was recorded before this (2010-01-01). */
export const MIN_PLAUSIBLE_CAMERA_SEC = Date.UTC(2010, 0, 1) / 1000;
/** A recording may lie this far ahead of "now" (camera clock drift, a CAMERA_TZ off by hours) and still count. */
export const MAX_FUTURE_SEC = 86_400;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** True when `tz` is an IANA zone name this runtime knows ("Europe/Amsterdam", "UTC"). */
export function isValidTimeZone(tz: string): boolean {
  if (tz.length === 0) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The zone's UTC offset in ms at a real instant (wall clock minus UTC, whole seconds). */
export function zoneOffsetMs(tz: string, utcMs: number): number {
  const parts = formatterFor(tz).formatToParts(new Date(utcMs));
  const get = (type: Intl.DateTimeFormatPartTypes): number => Number(parts.find((p) => p.type === type)?.value);
  let year = get('year');
  if (parts.find((p) => p.type === 'era')?.value === 'BC') year = 1 - year;
  const wall = Date.UTC(year, get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  // Date.UTC maps years 0..99 to 1900..1999; no camera or host clock is there, but keep the arithmetic honest.
  const wallFixed = year >= 0 && year < 100 ? new Date(wall).setUTCFullYear(year) : wall;
  const truncated = Math.floor(utcMs / 1000) * 1000;
  return wallFixed - truncated;
}

/** The camera-local wall clock at host time `nowMs`, written as epoch seconds like the index timestamps. */
export function cameraNowSec(tz: string, nowMs: number): number {
  return Math.floor(nowMs / 1000) + zoneOffsetMs(tz, nowMs) / 1000;
}

/**
 * The real instant (UTC ms) of camera-local seconds `sec` in zone `tz`. Local times that do not exist or exist twice
 * are resolved like Temporal's 'compatible' disambiguation, deterministically:
 * - in a DST gap (spring forward, e.g. 02:30 in Europe/Amsterdam on the last Sunday of March) the time is pushed
 *   forward by the gap (02:30 -> 03:30 summer time), i.e. read with the offset in force before the change;
 * - in a repeated hour (fall back, 02:30 happens twice) the EARLIER instant (summer time) is chosen.
 * Zones change offset at most once in any 48 hours, which the two probe points rely on.
 */
export function cameraLocalToUtcMs(sec: number, tz: string): number {
  const local = sec * 1000;
  const before = zoneOffsetMs(tz, local - 86_400_000);
  const after = zoneOffsetMs(tz, local + 86_400_000);
  if (before === after) return local - before;
  const candidates = [local - before, local - after]
    .filter((t) => t + zoneOffsetMs(tz, t) === local)
    .sort((a, b) => a - b);
  if (candidates.length > 0) return candidates[0]!;
  return local - before; // gap
}

/** False for camera clocks reset to 1970/2000 (before 2010-01-01) or more than a day ahead of "now". */
export function isPlausibleCameraTime(sec: number, nowCameraSec: number): boolean {
  return Number.isFinite(sec) && sec >= MIN_PLAUSIBLE_CAMERA_SEC && sec <= nowCameraSec + MAX_FUTURE_SEC;
}

/** "YYYY-MM-DD HH:MM:SS" for messages. */
export function describeCameraTime(sec: number): string {
  const d = new Date(Math.floor(sec) * 1000);
  return d.toISOString().slice(0, 19).replace('T', ' ');
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$/;
const ZONED_RE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$/i;

/**
 * Parses --since/--until: an ISO 8601 date ("2024-05-01") or date-time ("2024-05-01T13:45" or "...:30", a space
 * works instead of the T), read as CAMERA-LOCAL time, into camera seconds. A zone suffix (Z, +02:00) is refused:
 * camera times carry no zone, and silently converting would shift the range by the offset.
 */
export function parseCameraDate(s: string, what = 'date'): number {
  const text = s.trim();
  const allowed = 'expected YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS] in camera-local time';
  if (ZONED_RE.test(text)) {
    throw new InvalidDateError(
      `${what} "${s}" has a time zone suffix; camera times have none: ${allowed}, without Z or +HH:MM`,
    );
  }
  const m = DATE_RE.exec(text);
  if (!m) throw new InvalidDateError(`${what} "${s}" is not a date: ${allowed}`);
  const [y, mo, d, h = 0, mi = 0, sec = 0] = m
    .slice(1)
    .map((v) => (v === undefined ? undefined : Number(v))) as number[];
  if (mo! < 1 || mo! > 12) throw new InvalidDateError(`${what} "${s}": month must be 01..12 (${allowed})`);
  const daysInMonth = new Date(Date.UTC(y!, mo, 0)).getUTCDate();
  if (d! < 1 || d! > daysInMonth)
    throw new InvalidDateError(`${what} "${s}": day must be 01..${daysInMonth} (${allowed})`);
  if (h > 23 || mi > 59 || sec > 59)
    throw new InvalidDateError(`${what} "${s}": time must be 00:00:00..23:59:59 (${allowed})`);
  return Date.UTC(y!, mo! - 1, d, h, mi, sec) / 1000;
}
