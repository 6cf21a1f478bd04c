/**
 * Driving the BUILT CLI (dist/) as a user would, for end-to-end tests.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(fileURLToPath(import.meta.url), '../../..');
export const CLI = path.join(ROOT, 'dist', 'lib', 'cli', 'main.js');

/** A fresh temporary folder, removed when the test ends. */
export async function tmp(t: { teardown(fn: () => unknown): void }, prefix: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The last JSON line on stdout (a --json pass summary), when there is one. */
  summary: any;
}

/** Runs `hiksync <args>` to completion (JSON logs, camera clock = UTC unless env says otherwise). */
export function runCli(args: string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, LOG_FORMAT: 'json', TZ: 'UTC', ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  const lines = r.stdout.trim().split('\n').filter(Boolean);
  let summary: unknown;
  try {
    summary = lines.length ? JSON.parse(lines[lines.length - 1]!) : undefined;
  } catch {
    summary = undefined;
  }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, summary };
}
