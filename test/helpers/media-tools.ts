/**
 * The one ffmpeg / ffprobe helper of the tests: to make test streams and to CHECK outputs (the product never needs
 * them). The binaries are resolved once: a system ffmpeg on PATH when there is one, else the static builds shipped
 * by @ffmpeg-installer/ffmpeg and @ffprobe-installer/ffprobe. When neither exists the tests fail loudly (never skip).
 */
import { execFile, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';

const require = createRequire(import.meta.url);
const run = promisify(execFile);
const MAX_OUTPUT = 256 * 1024 * 1024;

function onPath(bin: string): string | undefined {
  try {
    execFileSync(bin, ['-version'], { stdio: 'ignore' });
    return bin;
  } catch {
    return undefined;
  }
}

function fromNpm(pkg: string): string | undefined {
  try {
    return (require(pkg) as { path: string }).path;
  } catch {
    return undefined;
  }
}

function resolveTool(bin: 'ffmpeg' | 'ffprobe'): string {
  const found = onPath(bin) ?? fromNpm(`@${bin}-installer/${bin}`);
  if (!found) {
    throw new Error(
      `${bin} not found: install the Debian package ffmpeg or run npm ci (it ships ${bin} via @${bin}-installer/${bin})`,
    );
  }
  return found;
}

export const FFMPEG = resolveTool('ffmpeg');
export const FFPROBE = resolveTool('ffprobe');

/** Runs ffmpeg (no stdin, no banner) to completion; rejects when it exits non-zero. */
export async function ffmpeg(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(FFMPEG, ['-nostdin', '-hide_banner', ...args], { maxBuffer: MAX_OUTPUT });
}

/** ffmpeg with a lavfi source (a test pattern or a signal expression) as its input, quietly overwriting the output. */
export async function ffmpegLavfi(
  source: string,
  ...outputArgs: string[]
): Promise<{ stdout: string; stderr: string }> {
  return ffmpeg('-loglevel', 'error', '-y', '-f', 'lavfi', '-i', source, ...outputArgs);
}

/*
 * What `ffprobe -of json` prints, for the fields the tests read. A field is there only when the arguments asked for
 * it (-show_streams, -show_entries ...), hence optional. ffprobe prints counts, durations, rates, positions and
 * sizes as strings, and widths, heights and levels as numbers.
 */

export interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  codec_tag_string?: string;
  profile?: string;
  level?: number;
  width?: number;
  height?: number;
  sample_rate?: string;
  channels?: number;
  duration?: string;
  nb_frames?: string;
  /** With -count_frames. */
  nb_read_frames?: string;
  tags?: Record<string, string>;
}

export interface ProbeFormat {
  format_name?: string;
  duration?: string;
  tags?: Record<string, string>;
}

export interface ProbePacket {
  stream_index?: number;
  pts_time?: string;
  dts_time?: string;
  pos?: string;
  size?: string;
  /** In the stream's time base (ffprobe prints it as a number). */
  duration?: number;
  /** "K_" for a key frame, "__" otherwise (further letters for discard / corrupt). */
  flags?: string;
}

export interface ProbeFrame {
  media_type?: string;
  key_frame?: number;
  pict_type?: string;
  pts_time?: string;
}

export interface Probe {
  /** Empty when not asked for (or none). */
  streams: ProbeStream[];
  packets: ProbePacket[];
  frames: ProbeFrame[];
  /** With -show_format or -show_entries format=... */
  format?: ProbeFormat;
}

/** `ffprobe -v error -of json <args>` (the file is one of the args, usually the last), parsed. */
export async function ffprobe(...args: string[]): Promise<Probe> {
  const { stdout } = await run(FFPROBE, ['-v', 'error', '-of', 'json', ...args], { maxBuffer: MAX_OUTPUT });
  const raw = JSON.parse(stdout) as Partial<Probe>;
  const probe: Probe = { streams: raw.streams ?? [], packets: raw.packets ?? [], frames: raw.frames ?? [] };
  if (raw.format) probe.format = raw.format;
  return probe;
}

/** Per-frame md5 of the decoded video frames of a file (`inputArgs` go before -i, e.g. ['-f', 'hevc']). */
export async function frameMd5(file: string, inputArgs: string[] = []): Promise<string[]> {
  const { stdout } = await ffmpeg(
    '-loglevel',
    'error',
    ...inputArgs,
    '-i',
    file,
    '-map',
    '0:v:0',
    '-f',
    'framemd5',
    '-',
  );
  return stdout
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.slice(l.lastIndexOf(',') + 1).trim());
}

/** What `ffmpeg -v error -i F -f null -` prints: empty for a clean file. */
export async function decodeErrors(file: string): Promise<string> {
  const { stdout, stderr } = await ffmpeg('-v', 'error', '-i', file, '-f', 'null', '-');
  return (stdout + stderr).trim();
}
