/**
 * Test streams for the media tests: small real H.264/H.265 elementary streams made with ffmpeg (25 fps, closed GOP
 * of 25, no B-frames, parameter sets before every IDR, like a camera), AAC and G.711 audio, and the frames / packets
 * they hold as ground truth independent of lib/media. The ffmpeg/ffprobe binaries come from test/helpers/media-tools.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ffmpeg, ffmpegLavfi, ffprobe } from '../helpers/media-tools.js';
import type { AnnexBFrame, AudioPacket } from '../../tools/synthetic/ps-writer.js';

/** A frame of a test stream: its bytes are a view into the stream file's bytes. */
export type SourceFrame = AnnexBFrame & { data: Buffer };

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'hiksync-media-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export type Codec = 'h264' | 'h265';

export async function makeAnnexB(
  dir: string,
  codec: Codec,
  opts: { size?: string; frames?: number; noise?: boolean } = {},
): Promise<string> {
  const file = path.join(dir, `src-${codec}-${opts.size ?? '160x120'}.${codec}`);
  const frames = String(opts.frames ?? 50);
  const input = ['-f', 'lavfi', '-i', `testsrc2=size=${opts.size ?? '160x120'}:rate=25`, '-frames:v', frames];
  const vf = opts.noise ? ['-vf', 'noise=alls=24:allf=t'] : [];
  if (codec === 'h264') {
    await ffmpeg(
      '-loglevel',
      'error',
      '-y',
      ...input,
      ...vf,
      '-c:v',
      'libx264',
      '-pix_fmt',
      'yuv420p',
      '-bf',
      '0',
      '-g',
      '25',
      '-x264-params',
      'repeat-headers=1:open-gop=0:scenecut=0:bframes=0',
      ...(opts.noise ? ['-b:v', '2500k'] : ['-crf', '28']),
      '-f',
      'h264',
      file,
    );
  } else {
    await ffmpeg(
      '-loglevel',
      'error',
      '-y',
      ...input,
      ...vf,
      '-c:v',
      'libx265',
      '-pix_fmt',
      'yuv420p',
      ...(opts.noise ? ['-b:v', '2500k'] : ['-crf', '30']),
      '-x265-params',
      'keyint=25:min-keyint=25:scenecut=0:bframes=0:open-gop=0:repeat-headers=1:info=0:log-level=error',
      '-f',
      'hevc',
      file,
    );
  }
  return file;
}

/** Frames of an Annex-B file as ffprobe's parser splits them (ground truth independent of lib/media). */
export async function readFrames(file: string, codec: Codec, firstPts = 900000): Promise<SourceFrame[]> {
  const probe = await ffprobe('-f', codec === 'h264' ? 'h264' : 'hevc', '-show_entries', 'packet=pos,size,flags', file);
  const bytes = readFileSync(file);
  return probe.packets.map((p, i) => {
    if (p.pos === undefined || p.size === undefined || p.flags === undefined) {
      throw new Error(`ffprobe printed packet ${i} of ${file} without pos, size or flags`);
    }
    const pos = Number(p.pos);
    return { data: bytes.subarray(pos, pos + Number(p.size)), pts: firstPts + i * 3600, key: p.flags.startsWith('K') };
  });
}

export async function makeAac(dir: string): Promise<string> {
  const file = path.join(dir, 'audio.aac');
  await ffmpegLavfi(
    'sine=frequency=440:sample_rate=16000:duration=2',
    '-ac',
    '1',
    '-c:a',
    'aac',
    '-profile:a',
    'aac_low',
    '-b:a',
    '32k',
    '-f',
    'adts',
    file,
  );
  return file;
}

export async function makeAlaw(dir: string): Promise<string> {
  const file = path.join(dir, 'audio.alaw');
  await ffmpegLavfi(
    'sine=frequency=660:sample_rate=8000:duration=2',
    '-ac',
    '1',
    '-c:a',
    'pcm_alaw',
    '-f',
    'alaw',
    file,
  );
  return file;
}

/** ADTS frames of an .aac file, one per audio packet, on the 90 kHz clock starting at firstPts. */
export function adtsPackets(file: string, firstPts: number): AudioPacket[] {
  const b = readFileSync(file);
  const out: AudioPacket[] = [];
  let pos = 0;
  let i = 0;
  while (pos + 7 <= b.length) {
    const len = ((b[pos + 3]! & 3) << 11) | (b[pos + 4]! << 3) | (b[pos + 5]! >> 5);
    out.push({ data: b.subarray(pos, pos + len), pts: firstPts + Math.round((i * 1024 * 90000) / 16000) });
    pos += len;
    i++;
  }
  return out;
}

/** G.711 as cameras send it: 320-byte (40 ms) packets. */
export function alawPackets(file: string, firstPts: number): AudioPacket[] {
  const b = readFileSync(file);
  const out: AudioPacket[] = [];
  for (let pos = 0, i = 0; pos < b.length; pos += 320, i++)
    out.push({ data: b.subarray(pos, pos + 320), pts: firstPts + i * 3600 });
  return out;
}
