/**
 * Run one child process and measure what it cost: wall time, CPU time (user + sys, the child and every
 * descendant it waited for) and peak memory.
 *
 * Memory is taken two ways because they answer different questions: GNU time's %M is the largest max-RSS of
 * one process in the tree (hiksync is ONE process, its worker threads included, so this is the whole of it);
 * the tree sampler sums VmRSS over all live descendants every 50 ms, which is what counts when a driver runs
 * several ffmpeg processes at once. The reported peak is the larger of the two.
 * Without /usr/bin/time, /proc/<pid>/stat and VmHWM of the child are polled instead (a slight undercount of
 * CPU: the last 50 ms before exit are not seen).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

export interface Measured {
  exitCode: number | null;
  signal: string | null;
  wallSec: number;
  userSec: number;
  sysSec: number;
  /** Peak resident memory in bytes: max(GNU time %M, sampled sum over the process tree). */
  peakRssBytes: number;
  /** The sampled tree sum alone (0 when the child lived shorter than one sample). */
  treePeakRssBytes: number;
  method: 'gnu-time' | 'proc-poll';
  /**
   * CPU seconds the whole machine spent busy during the run minus this process tree's own: other processes,
   * kernel writeback threads, the harness's sampler. Large values mean the numbers are disturbed.
   */
  outsideCpuSec: number;
  stdout: string;
  stderr: string;
}

export interface MeasureOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Kill the child after this long (ms). */
  timeoutMs?: number;
}

const GNU_TIME = '/usr/bin/time';
const SAMPLE_MS = 50;
const CLK_TCK = 100; // Linux USER_HZ: /proc/<pid>/stat counts in 1/100 s on every mainstream kernel

export function gnuTimeAvailable(): boolean {
  return existsSync(GNU_TIME);
}

export async function measure(cmd: string, args: readonly string[], opts: MeasureOptions = {}): Promise<Measured> {
  const useTime = gnuTimeAvailable();
  const timeFile = path.join(
    os.tmpdir(),
    `hiksync-bench-time-${process.pid}-${Math.random().toString(36).slice(2)}.txt`,
  );
  const [file, argv] = useTime ? [GNU_TIME, ['-f', '%e %U %S %M', '-o', timeFile, cmd, ...args]] : [cmd, [...args]];

  const busy0 = machineBusySec();
  const t0 = performance.now();
  const child = spawn(file, argv, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));

  let treePeak = 0;
  let polled = { cpuTicks: 0, hwmKiB: 0 };
  const timer = setInterval(() => {
    if (child.pid === undefined) return;
    treePeak = Math.max(treePeak, treeRssKiB(child.pid, useTime) * 1024);
    if (!useTime) polled = pollSelf(child.pid, polled);
  }, SAMPLE_MS);
  const killer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;

  const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, sig) => resolve([code, sig]));
  });
  const wallSec = (performance.now() - t0) / 1000;
  const busy1 = machineBusySec();
  clearInterval(timer);
  if (killer) clearTimeout(killer);

  let userSec = 0;
  let sysSec = 0;
  let maxRssBytes = 0;
  if (useTime) {
    const text = await fs.readFile(timeFile, 'utf8').catch(() => '');
    await fs.rm(timeFile, { force: true });
    // GNU time prints "Command exited with non-zero status N" before the format line in that case.
    const line = text.trim().split('\n').pop() ?? '';
    const [, u, s, m] = line.split(/\s+/).map(Number);
    userSec = u ?? 0;
    sysSec = s ?? 0;
    maxRssBytes = (m ?? 0) * 1024;
  } else {
    userSec = polled.cpuTicks / CLK_TCK;
    maxRssBytes = polled.hwmKiB * 1024;
    sysSec = 0; // folded into userSec by the poller (stat gives both; kept as one sum)
  }
  return {
    exitCode,
    signal,
    wallSec,
    userSec,
    sysSec,
    peakRssBytes: Math.max(maxRssBytes, treePeak),
    treePeakRssBytes: treePeak,
    method: useTime ? 'gnu-time' : 'proc-poll',
    outsideCpuSec: Math.max(0, busy1 - busy0 - userSec - sysSec),
    stdout: Buffer.concat(out).toString('utf8'),
    stderr: Buffer.concat(err).toString('utf8'),
  };
}

/** Busy CPU seconds of all cores since boot (/proc/stat: user nice system irq softirq steal). */
function machineBusySec(): number {
  const line = (readText('/proc/stat') ?? '').split('\n')[0] ?? '';
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  return busy / CLK_TCK;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Direct children of every thread of `pid` (children spawned from a worker thread hang off that thread). */
function childrenOf(pid: number): number[] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const kids: number[] = [];
  for (const tid of tids) {
    const text = readText(`/proc/${pid}/task/${tid}/children`);
    if (text) for (const p of text.trim().split(/\s+/)) if (p) kids.push(Number(p));
  }
  return kids;
}

function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readText(`/proc/${pid}/status`) ?? '');
  return m ? Number(m[1]) : 0;
}

/** Sum of VmRSS over the tree under `root` (the GNU time wrapper itself excluded when `skipRoot`). */
function treeRssKiB(root: number, skipRoot: boolean): number {
  let total = 0;
  const stack = [root];
  const seen = new Set<number>();
  while (stack.length) {
    const pid = stack.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    if (!(skipRoot && pid === root)) total += rssKiB(pid);
    stack.push(...childrenOf(pid));
  }
  return total;
}

/** utime+stime+cutime+cstime (fields 14-17 after the comm) and VmHWM of the child itself. */
function pollSelf(pid: number, prev: { cpuTicks: number; hwmKiB: number }): { cpuTicks: number; hwmKiB: number } {
  const stat = readText(`/proc/${pid}/stat`);
  const status = readText(`/proc/${pid}/status`);
  let cpuTicks = prev.cpuTicks;
  if (stat) {
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is state (field 3); utime is field 14 -> index 11.
    cpuTicks = Math.max(
      cpuTicks,
      [11, 12, 13, 14].reduce((n, i) => n + Number(fields[i] ?? 0), 0),
    );
  }
  const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status ?? '');
  return { cpuTicks, hwmKiB: Math.max(prev.hwmKiB, m ? Number(m[1]) : 0) };
}
