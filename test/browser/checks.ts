/**
 * What the browser check asserts about each output of a real `hiksync run`: the browser's measurements (page.ts)
 * against ffprobe's view of the same file. Verdicts live here, measurements in the page.
 */
import type { ProbeStream } from '../helpers/media-tools.js';
import type { SyntheticCamera } from '../../tools/synthetic/share-writer.js';
import type { Assert } from '../container/report.js';
import type { HevcProbeResult, ImageResult, PlayResult } from './page.js';
import type { ServedRequest } from './range-server.js';

/**
 * The e2e share: H.264 and H.265, with and without sound, small and large frames. The default length mix gives
 * 8 recording lengths (a 0.48 s clip up to 90 s; some recordings continue in the next hiv file), so one camera
 * covers the odd durations. One camera per audio codec the PS carries that hiksync keeps: AAC and MP3 stay in the MP4
 * as they are; G.711 A-law / mu-law, G.726, G.722.1, MP2 and PCM become FLAC. Every output with an audio stream is held to the
 * same audio checks, whatever its codec.
 */
export const CAMERAS: SyntheticCamera[] = [
  { name: 'h264-aac', codec: 'h264', audio: 'aac', events: 8, pictures: 2 },
  { name: 'h264-alaw', codec: 'h264', audio: 'alaw', sdLayout: true, events: 3, pictures: 1 },
  { name: 'h264-mp3', codec: 'h264', audio: 'mp3', events: 2 },
  { name: 'h264-ulaw', codec: 'h264', audio: 'ulaw', events: 1 },
  { name: 'h264-g726', codec: 'h264', audio: 'g726', events: 1 },
  { name: 'h264-mp2', codec: 'h264', audio: 'mp2', events: 2 },
  { name: 'h264-pcm', codec: 'h264', audio: 'pcm', events: 1 },
  { name: 'h264-g7221', codec: 'h264', audio: 'g7221', events: 1 },
  { name: 'h264-none-large', codec: 'h264', audio: 'none', fixture: 'large', events: 2 },
  { name: 'h265-aac', codec: 'h265', audio: 'aac', events: 2 },
  { name: 'h265-none-large', codec: 'h265', audio: 'none', fixture: 'large', events: 1, pictures: 1 },
];

/** Seconds the browser's durations may differ from ffprobe's (one 25 fps frame and a bit of rounding). */
export const DURATION_TOLERANCE_S = 0.05;
/** Seconds WebAudio's decoded duration may differ from the audio stream's (AAC priming, one 1024-sample frame). */
export const AUDIO_DURATION_TOLERANCE_S = 0.1;
/** A decoded frame of the synthetic test pattern has a luma spread far above this; a blank one has ~0. */
export const MIN_LUMA_SPREAD = 8;
/** The fixtures' sine tones peak near 0.13-0.5 (a silent or failed decode gives 0). */
export const MIN_AUDIO_PEAK = 0.02;

export interface OutputProbe {
  video?: ProbeStream;
  audio?: ProbeStream;
  /** format.duration (NaN when ffprobe could not read the file). */
  duration: number;
  /** Why ffprobe could not read the file. */
  error?: string;
}

/** The browser played an H.264 output correctly: every step, and agreeing with ffprobe. */
export function assertPlayed(
  a: Assert,
  probe: OutputProbe,
  codec: 'h264' | 'hevc',
  m: PlayResult,
  served: ServedRequest[],
): void {
  if (a.ok(probe.error === undefined, 'ffprobe reads it', probe.error)) {
    a.is(probe.video?.codec_name, codec, "the camera's codec (ffprobe)");
  }
  a.ok(m.error === undefined, `every step ran (stopped at "${m.stage}")`, m.error);
  const partial = served.filter((r) => r.status === 206);
  a.note(measured(m, partial));
  // Metadata (nothing else can follow without it).
  if (!a.ok(m.duration !== undefined, 'metadata loaded')) return;
  a.ok(
    Math.abs(m.duration! - probe.duration) <= DURATION_TOLERANCE_S,
    `duration ${m.duration} s matches ffprobe's ${probe.duration} s (±${DURATION_TOLERANCE_S})`,
  );
  a.is([m.width, m.height], [probe.video?.width, probe.video?.height], 'videoWidth x videoHeight = ffprobe');
  // Frames decode.
  a.ok(m.framesPresented > 0, 'requestVideoFrameCallback fired', `${m.framesPresented} frames presented`);
  a.ok((m.totalVideoFrames ?? 0) > 0, 'getVideoPlaybackQuality().totalVideoFrames > 0', `${m.totalVideoFrames}`);
  a.ok(
    (m.lumaSpread ?? 0) >= MIN_LUMA_SPREAD,
    `a presented frame drawn to a canvas shows the picture (luma spread >= ${MIN_LUMA_SPREAD})`,
    `${m.lumaSpread?.toFixed(1)}`,
  );
  // Playback advances.
  if (m.endedBeforeAdvance) {
    a.ok(probe.duration <= 0.55, 'ended before 0.5 s only when the clip is that short', `${probe.duration} s`);
    a.note(`a ${probe.duration} s clip: played to its end (${m.advancedTo} s) instead of past 0.5 s`);
  } else {
    a.ok((m.advancedTo ?? 0) > 0.5, 'currentTime advanced past 0.5 s', `${m.advancedTo}`);
  }
  // Seek to 1 s before the end, play to `ended`.
  a.ok(m.seekedAt !== undefined, `seeked to ${m.seekTarget?.toFixed(3)} s`);
  a.ok(m.endedAt !== undefined, 'played from there to `ended`');
  if (m.endedAt !== undefined && m.duration !== undefined) {
    a.ok(m.endedAt >= m.duration - DURATION_TOLERANCE_S, 'ended at the end', `${m.endedAt} of ${m.duration} s`);
  }
  a.ok((m.framesAfterSeek ?? 0) > 0, 'frames presented after the seek', `${m.framesAfterSeek}`);
  // Sound: measured whenever ffprobe sees an audio stream, whatever its codec.
  if (probe.audio) {
    a.ok(
      (m.audioDecodedBytes ?? 0) > 0,
      'audio decoded while playing (webkitAudioDecodedByteCount > 0)',
      `${m.audioDecodedBytes}`,
    );
    const d = m.decodedAudio;
    if (a.ok(d !== undefined, 'WebAudio decodeAudioData decoded the audio track')) {
      const want = Number(probe.audio.duration ?? probe.duration);
      a.ok(
        Math.abs(d!.duration - want) <= AUDIO_DURATION_TOLERANCE_S,
        `decoded audio lasts the stream's ${want} s (±${AUDIO_DURATION_TOLERANCE_S})`,
        `${d!.duration.toFixed(3)} s`,
      );
      a.ok(d!.peak >= MIN_AUDIO_PEAK, `decoded audio is not silence (peak >= ${MIN_AUDIO_PEAK})`, `${d!.peak}`);
    }
  } else {
    a.is(m.audioDecodedBytes ?? 0, 0, 'no audio stream (ffprobe): the browser decoded no audio either');
  }
  // Served as a web server would: the player asked for byte ranges and got 206.
  a.ok(partial.length > 0, 'fetched with Range requests answered 206', `${served.length} requests, none 206`);
}

/** One line of what the browser measured (the steps it did not reach left out). */
function measured(m: PlayResult, partial: ServedRequest[]): string {
  const n = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(3));
  const parts: string[] = [];
  if (m.duration !== undefined) parts.push(`${n(m.duration)} s ${m.width}x${m.height}`);
  parts.push(`frames presented ${m.framesPresented} (after the seek ${m.framesAfterSeek ?? '-'})`);
  if (m.totalVideoFrames !== undefined) parts.push(`totalVideoFrames ${m.totalVideoFrames}`);
  if (m.lumaSpread !== undefined) parts.push(`luma spread ${m.lumaSpread.toFixed(1)}`);
  if (m.advancedTo !== undefined) parts.push(`advanced to ${n(m.advancedTo)} s`);
  if (m.seekTarget !== undefined) parts.push(`seek to ${n(m.seekTarget)} s, ended at ${n(m.endedAt)} s`);
  parts.push(`decoded bytes video ${m.videoDecodedBytes ?? '-'} audio ${m.audioDecodedBytes ?? '-'}`);
  const d = m.decodedAudio;
  if (d) parts.push(`WebAudio ${n(d.duration)} s peak ${d.peak.toFixed(3)} rms ${d.rms.toFixed(3)}`);
  parts.push(`ranges ${partial.map((r) => r.range ?? '(none)').join(' ') || '(no 206)'}`);
  return parts.join('; ');
}

/** The HEVC codec string of an output for canPlayType (`hvc1.<profile>.<compat>.L<level>.B0`). */
export function hevcType(video: ProbeStream | undefined): string {
  const tag = video?.codec_tag_string === 'hev1' ? 'hev1' : 'hvc1';
  const main10 = /10/.test(video?.profile ?? '');
  return `video/mp4; codecs="${tag}.${main10 ? '2.4' : '1.6'}.L${video?.level ?? 93}.B0"`;
}

/** The browser cannot show HEVC: it says so (canPlayType '') and does so (no video track, or an error). */
export function hevcUnsupported(r: HevcProbeResult): boolean {
  return r.canPlayType === '' && (!r.loaded || r.width === 0);
}

export function assertImage(a: Assert, r: ImageResult, want: ProbeStream | undefined): void {
  a.ok(r.error === undefined, 'decoded in an <img>', r.error);
  a.ok(r.naturalWidth > 0, 'naturalWidth > 0', `${r.naturalWidth}`);
  a.is([r.naturalWidth, r.naturalHeight], [want?.width, want?.height], 'naturalWidth x naturalHeight = ffprobe');
}
