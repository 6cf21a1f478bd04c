/**
 * The one way tests drive the BUILT CLI (dist/) as a user would: to completion (runCli) or in the background
 * (startCli) for tests that signal, stop or race it. Both run `node dist/lib/cli/main.js <args>` with JSON logs
 * and TZ=UTC unless `env` says otherwise.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PassSummary } from '../../lib/pipeline/summary.js';

export const ROOT = path.resolve(fileURLToPath(import.meta.url), '../../..');
export const CLI = path.join(ROOT, 'dist', 'lib', 'cli', 'main.js');

/** A fresh temporary folder, removed when the test ends. */
export async function tmp(t: { teardown(fn: () => unknown): void }, prefix: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

export interface CliResult {
  /** Exit code; null when a signal ended the process. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The last line on stdout parsed as a `run --json` pass summary, when it is JSON. */
  summary?: PassSummary;
}

function cliEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, LOG_FORMAT: 'json', TZ: 'UTC', ...env };
}

function result(code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string): CliResult {
  const r: CliResult = { code, signal, stdout, stderr };
  const last = stdout.trim().split('\n').filter(Boolean).at(-1);
  if (last !== undefined) {
    try {
      r.summary = JSON.parse(last) as PassSummary;
    } catch {
      // not JSON: a human-readable report
    }
  }
  return r;
}

/** Runs `hiksync <args>` to completion. */
export function runCli(args: string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: cliEnv(env),
    maxBuffer: 64 * 1024 * 1024,
  });
  return result(r.status, r.signal, r.stdout, r.stderr);
}

export interface CliProcess {
  child: ChildProcessWithoutNullStreams;
  /** Settles when the process has exited and its output is read. */
  exited: Promise<CliResult>;
}

/** Starts `hiksync <args>` in the background; its output is collected for `exited`. */
export function startCli(args: string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], { env: cliEnv(env) });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve(result(code, signal, stdout, stderr)));
  });
  return { child, exited };
}

/**
 * Waits until a child started with HIKSYNC_PAUSE_AT has stopped itself at that point (state T in /proc), or has
 * exited. True when it is stopped. The deadline is generous (a loaded machine); the point itself is exact.
 */
export async function waitUntilPaused(child: ChildProcessWithoutNullStreams, deadlineMs = 120_000): Promise<boolean> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until && child.exitCode === null && child.signalCode === null) {
    const stat = await fs.readFile(`/proc/${child.pid}/stat`, 'utf8').catch(() => '');
    // Field 3, after the command name in parentheses (which may itself hold spaces).
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('T')) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}
