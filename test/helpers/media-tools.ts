/**
 * ffmpeg / ffprobe for CHECKING outputs in tests (the product never needs them): a system ffmpeg on PATH when
 * there is one, else the static builds shipped by @ffmpeg-installer/ffmpeg and @ffprobe-installer/ffprobe.
 * When neither exists the tests fail loudly (never skip).
 */
import { execFile, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';

const require = createRequire(import.meta.url);
const run = promisify(execFile);

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
  const found = onPath(bin) ?? fromNpm(bin === 'ffmpeg' ? '@ffmpeg-installer/ffmpeg' : '@ffprobe-installer/ffprobe');
  if (!found) throw new Error(`${bin} not found: install the Debian package ffmpeg or run npm ci (it ships ${bin} via @${bin}-installer/${bin})`);
  return found;
}

export const FFMPEG = resolveTool('ffmpeg');
export const FFPROBE = resolveTool('ffprobe');

export async function ffmpeg(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(FFMPEG, ['-nostdin', '-hide_banner', ...args], { maxBuffer: 256 * 1024 * 1024 });
}

export async function ffprobeJson(...args: string[]): Promise<any> {
  const { stdout } = await run(FFPROBE, ['-v', 'error', '-of', 'json', ...args], { maxBuffer: 256 * 1024 * 1024 });
  return JSON.parse(stdout);
}

/** Per-frame md5 of the decoded video frames of a file. */
export async function frameMd5(file: string, inputArgs: string[] = []): Promise<string[]> {
  const { stdout } = await ffmpeg('-loglevel', 'error', ...inputArgs, '-i', file, '-map', '0:v:0', '-f', 'framemd5', '-');
  return stdout
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(',').pop()!.trim());
}

/** What `ffmpeg -v error -i F -f null -` prints: empty for a clean file. */
export async function decodeErrors(file: string): Promise<string> {
  const { stdout, stderr } = await ffmpeg('-v', 'error', '-i', file, '-f', 'null', '-');
  return (stdout + stderr).trim();
}
