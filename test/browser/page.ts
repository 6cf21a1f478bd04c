/// <reference lib="dom" />
/**
 * What runs INSIDE the browser page (passed to playwright's `page.evaluate`): measurements only, no verdicts; the
 * runner (run.ts) compares them with ffprobe's view of the same file. Each function is serialised on its own, so
 * it may use nothing from this module's scope: every helper lives inside it. Every wait is on a media event with a
 * generous upper bound (a loaded 2-core machine), never a sleep.
 */

export interface PlayArgs {
  src: string;
  /** ffprobe saw an audio stream: decode it with WebAudio too. */
  audio: boolean;
  /** Upper bound for each awaited event (metadata, advancing, seeked, ended, decodeAudioData). */
  eventTimeoutMs: number;
}

export interface AudioMeasure {
  duration: number;
  sampleRate: number;
  channels: number;
  /** Largest absolute sample of the decoded PCM (0 = silence). */
  peak: number;
  rms: number;
}

export interface PlayResult {
  /** The last step reached: metadata, advance, seek, ended, audio, done. */
  stage: string;
  /** What stopped the steps (a media error, a timeout), with the element's state. */
  error?: string;
  duration?: number;
  width?: number;
  height?: number;
  /** requestVideoFrameCallback calls: frames really presented. */
  framesPresented: number;
  /** getVideoPlaybackQuality().totalVideoFrames when currentTime had advanced. */
  totalVideoFrames?: number;
  /** Standard deviation of the luma of one presented frame drawn to a canvas (a flat or blank frame is ~0). */
  lumaSpread?: number;
  /** currentTime when it had passed 0.5 s (or the clip ended first). */
  advancedTo?: number;
  /** The clip ended before currentTime passed 0.5 s (a clip of 0.5 s or less). */
  endedBeforeAdvance?: boolean;
  seekTarget?: number;
  /** currentTime right after `seeked`. */
  seekedAt?: number;
  /** Frames presented between the seek and `ended`. */
  framesAfterSeek?: number;
  /** currentTime at `ended`. */
  endedAt?: number;
  /** Chromium's count of decoded audio / video bytes for the element (after it played). */
  audioDecodedBytes?: number;
  videoDecodedBytes?: number;
  /** WebAudio's decodeAudioData of the whole fetched file (only when `audio`). */
  decodedAudio?: AudioMeasure;
}

/** Plays one MP4 in a `<video>` (sound on: autoplay is allowed by the launch flag) and measures each step. */
export async function playInVideo(args: PlayArgs): Promise<PlayResult> {
  const result: PlayResult = { stage: 'metadata', framesPresented: 0 };
  const v = document.createElement('video');
  v.preload = 'auto';
  v.muted = false;
  v.playsInline = true;
  document.body.append(v);

  const state = () =>
    `currentTime ${v.currentTime.toFixed(3)}, readyState ${v.readyState}, networkState ${v.networkState}` +
    `${v.error ? `, error ${v.error.code} ${v.error.message}` : ''}`;
  /** Resolves on the first of `events` for which `done()` holds; rejects on a media error or after the bound. */
  const waitFor = (events: string[], what: string, done: () => boolean = () => true) =>
    new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        for (const e of events) v.removeEventListener(e, onEvent);
        v.removeEventListener('error', onError);
      };
      const onEvent = () => {
        if (!done()) return;
        cleanup();
        resolve();
      };
      const onError = () => {
        cleanup();
        reject(new Error(`${what}: media error (${state()})`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${what}: not within ${args.eventTimeoutMs / 1000} s (${state()})`));
      }, args.eventTimeoutMs);
      for (const e of events) v.addEventListener(e, onEvent);
      v.addEventListener('error', onError);
    });

  const canvas = document.createElement('canvas');
  canvas.width = 64;
  canvas.height = 48;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const onFrame = () => {
    result.framesPresented++;
    if (result.lumaSpread === undefined && ctx) {
      ctx.drawImage(v, 0, 0, canvas.width, canvas.height);
      const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      let sum = 0;
      let sq = 0;
      const n = px.length / 4;
      for (let i = 0; i < px.length; i += 4) {
        const y = 0.299 * px[i]! + 0.587 * px[i + 1]! + 0.114 * px[i + 2]!;
        sum += y;
        sq += y * y;
      }
      result.lumaSpread = Math.sqrt(Math.max(0, sq / n - (sum / n) ** 2));
    }
    v.requestVideoFrameCallback(onFrame);
  };
  v.requestVideoFrameCallback(onFrame);

  try {
    const metadata = waitFor(['loadedmetadata'], 'loadedmetadata');
    v.src = args.src;
    await metadata;
    result.duration = v.duration;
    result.width = v.videoWidth;
    result.height = v.videoHeight;

    result.stage = 'advance';
    const advanced = waitFor(['timeupdate', 'ended'], 'currentTime past 0.5 s', () => v.currentTime > 0.5 || v.ended);
    await v.play();
    await advanced;
    result.advancedTo = v.currentTime;
    result.endedBeforeAdvance = v.ended && v.currentTime <= 0.5;
    result.totalVideoFrames = v.getVideoPlaybackQuality().totalVideoFrames;

    result.stage = 'seek';
    const target = Math.max(0, v.duration - 1);
    result.seekTarget = target;
    const seeked = waitFor(['seeked'], `seeked to ${target.toFixed(3)} s`);
    v.currentTime = target;
    await seeked;
    result.seekedAt = v.currentTime;
    const framesAtSeek = result.framesPresented;

    result.stage = 'ended';
    const ended = waitFor(['ended'], 'ended after the seek');
    if (v.paused) await v.play();
    await ended;
    result.endedAt = v.currentTime;
    result.framesAfterSeek = result.framesPresented - framesAtSeek;
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
    // play() rejects with "interrupted by a call to pause()" when the element fails: say why it failed.
    if (v.error && !result.error.includes('media error')) result.error += ` (media error: ${state()})`;
  }
  const counts = v as HTMLVideoElement & { webkitAudioDecodedByteCount?: number; webkitVideoDecodedByteCount?: number };
  if (counts.webkitAudioDecodedByteCount !== undefined) result.audioDecodedBytes = counts.webkitAudioDecodedByteCount;
  if (counts.webkitVideoDecodedByteCount !== undefined) result.videoDecodedBytes = counts.webkitVideoDecodedByteCount;
  v.pause();
  v.removeAttribute('src');
  v.load();
  v.remove();

  if (args.audio && result.error === undefined) {
    result.stage = 'audio';
    try {
      result.decodedAudio = await decodeAudio(args.src, args.eventTimeoutMs);
    } catch (err) {
      result.error = `decodeAudioData: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  if (result.error === undefined) result.stage = 'done';
  return result;

  /** The whole file through WebAudio: the audio track decoded to PCM, whatever the element did with it. */
  async function decodeAudio(src: string, timeoutMs: number): Promise<AudioMeasure> {
    const bytes = await (await fetch(src)).arrayBuffer();
    const ac = new OfflineAudioContext({ numberOfChannels: 1, length: 1, sampleRate: 48_000 });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const buffer = await Promise.race([
      ac.decodeAudioData(bytes),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`not within ${timeoutMs / 1000} s`)), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    const pcm = buffer.getChannelData(0);
    let peak = 0;
    let sq = 0;
    for (const s of pcm) {
      peak = Math.max(peak, Math.abs(s));
      sq += s * s;
    }
    return {
      duration: buffer.duration,
      sampleRate: buffer.sampleRate,
      channels: buffer.numberOfChannels,
      peak,
      rms: Math.sqrt(sq / Math.max(1, pcm.length)),
    };
  }
}

export interface HevcProbeResult {
  canPlayType: string;
  /** The file loaded its metadata (Chromium drops a video track it cannot decode and keeps the audio). */
  loaded: boolean;
  width?: number;
  error?: string;
}

/** What the browser says and does about an HEVC output: its canPlayType, and whether it shows a video track. */
export async function probeHevc(args: { src: string; type: string; eventTimeoutMs: number }): Promise<HevcProbeResult> {
  const v = document.createElement('video');
  const result: HevcProbeResult = { canPlayType: v.canPlayType(args.type), loaded: false };
  v.preload = 'metadata';
  v.muted = true;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      result.error = `no loadedmetadata or error within ${args.eventTimeoutMs / 1000} s`;
      resolve();
    }, args.eventTimeoutMs);
    v.onloadedmetadata = () => {
      clearTimeout(timer);
      result.loaded = true;
      result.width = v.videoWidth;
      resolve();
    };
    v.onerror = () => {
      clearTimeout(timer);
      result.error = `media error ${v.error?.code} ${v.error?.message ?? ''}`;
      resolve();
    };
    v.src = args.src;
  });
  v.removeAttribute('src');
  v.load();
  return result;
}

export interface ImageResult {
  src: string;
  naturalWidth: number;
  naturalHeight: number;
  error?: string;
}

/** Loads each JPEG in an `<img>` and decodes it. */
export async function loadImages(args: { srcs: string[]; eventTimeoutMs: number }): Promise<ImageResult[]> {
  const results: ImageResult[] = [];
  for (const src of args.srcs) {
    const img = document.createElement('img');
    img.src = src;
    const r: ImageResult = { src, naturalWidth: 0, naturalHeight: 0 };
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        img.decode(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`not decoded within ${args.eventTimeoutMs / 1000} s`)),
            args.eventTimeoutMs,
          );
        }),
      ]);
    } catch (err) {
      r.error = err instanceof Error ? err.message : String(err);
    } finally {
      clearTimeout(timer);
    }
    r.naturalWidth = img.naturalWidth;
    r.naturalHeight = img.naturalHeight;
    results.push(r);
  }
  return results;
}
