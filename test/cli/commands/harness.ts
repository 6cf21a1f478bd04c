/**
 * Commands run in-process through clipanion (no build needed), and an output archive to run them on: one camera
 * whose manifest lists ten 10-byte outputs, one per day, the newest about an hour old.
 */
import { Cli } from 'clipanion';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { HealthCommand } from '../../../lib/cli/commands/health.js';
import { RetentionCommand } from '../../../lib/cli/commands/retention.js';
import { Manifest } from '../../../lib/pipeline/manifest.js';
import type { ManifestEntry } from '../../../lib/pipeline/manifest-entry.js';
import { cameraNowSec } from '../../../lib/time.js';

export const DAY = 86_400;

/** `hiksync <args>` with the retention and health commands; what it printed and its exit code. */
export async function runCommand(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const cli = new Cli({ binaryName: 'hiksync', enableColors: false });
  cli.register(RetentionCommand);
  cli.register(HealthCommand);
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  err.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await cli.run(args, { stdin: process.stdin, stdout: out, stderr: err });
  return { code, stdout, stderr };
}

export interface Archive {
  root: string;
  input: string;
  output: string;
  stateDir: string;
  entries: ManifestEntry[];
  /** For retention: --output, camera clock UTC, Camera-Tuin tagged garden, JSON logs. */
  flags: string[];
  /** For health: --input, --output (each command takes only the options it uses). */
  healthFlags: string[];
}

/** The archive in a fresh temporary folder, removed when the test ends. */
export async function archive(t: { teardown(fn: () => unknown): void }): Promise<Archive> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'hiksync-cli-'));
  t.teardown(() => fs.rm(root, { recursive: true, force: true }));
  const input = path.join(root, 'in');
  const output = path.join(root, 'out');
  await fs.mkdir(path.join(input, 'Camera-Tuin'), { recursive: true });
  const stateDir = path.join(output, '.hiksync');
  const now = cameraNowSec('UTC', Date.now());
  const m = await Manifest.open(stateDir, 'Camera-Tuin');
  const entries: ManifestEntry[] = [];
  for (let i = 0; i < 10; i++) {
    const startSec = now - (9 - i) * DAY - 3600;
    const e: ManifestEntry = {
      id: `r${i}`,
      kind: 'video',
      output: `garden/video/r${i}.mp4`,
      status: 'done',
      size: 10,
      startSec,
      startUsec: 0,
      endSec: startSec + 60,
      source: { datadir: 'datadir0', fileNo: 0, slot: i, startOffset: 0, endOffset: 10 },
      attempts: 1,
      updatedAt: Date.now(),
    };
    await fs.mkdir(path.join(output, 'garden', 'video'), { recursive: true });
    await fs.writeFile(path.join(output, e.output), Buffer.alloc(10));
    m.put(e);
    entries.push(e);
  }
  await m.flush();
  const flags = [
    ...['--output', output, '--camera-tz', 'UTC'],
    ...['--camera-translation', 'Camera-Tuin:garden', '--log-format', 'json'],
  ];
  const healthFlags = ['--input', input, '--output', output];
  return { root, input, output, stateDir, entries, flags, healthFlags };
}
