/**
 * A Docker engine for the container test. A running engine the environment already reaches (DOCKER_HOST or the
 * default socket) is used as it is. Otherwise, as root, the test starts its own `dockerd` (installing Debian's
 * docker.io first when there is none) and stops it afterwards by its pid.
 *
 * Its own dockerd keeps out of everyone's way: its own data root (kept between runs: the base image and the
 * build cache live there), its own socket and exec root, no default bridge and no iptables rules. Builds use the
 * host's network (`docker build --network host`), containers get none (hiksync needs no network).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** Kill the command (SIGKILL) after this long; the result then has code null. */
  timeoutMs?: number;
}

/** Runs a command to its end and collects its output. Never throws for a non-zero exit. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs a command with its output going to a log file; resolves with the exit code. */
export function runLogged(cmd: string, args: readonly string[], logFile: string, env?: NodeJS.ProcessEnv) {
  return new Promise<number | null>((resolve, reject) => {
    const fd = openSync(logFile, 'a');
    const child = spawn(cmd, args, { env: env ?? process.env, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
}

/** The last lines of a log file, for a failure message. */
export function tail(file: string, lines = 25): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Why there is no engine; the test counts it as a failure unless HIKSYNC_SKIP_CONTAINER=1. */
export class NoEngineError extends Error {
  override name = 'NoEngineError';
}

export interface Engine {
  /** The environment for `docker` commands (DOCKER_HOST set to this engine). */
  env: NodeJS.ProcessEnv;
  /** One line: which engine, started how. */
  description: string;
  /** Seconds spent installing docker.io (0 when it was there). */
  installSeconds: number;
  /** Stops the dockerd this test started (by its pid); nothing for an engine that was already running. */
  stop(): Promise<void>;
}

/** Where the test's own dockerd keeps its state between runs. */
export const STATE_DIR = process.env.HIKSYNC_CONTAINER_STATE ?? '/var/lib/hiksync-container-test';
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

export async function docker(engine: Pick<Engine, 'env'>, args: readonly string[], opts: RunOptions = {}) {
  return run('docker', args, { env: engine.env, ...opts });
}

async function onPath(cmd: string): Promise<boolean> {
  return (await run('sh', ['-c', `command -v ${cmd}`])).code === 0;
}

async function engineAnswers(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (!(await onPath('docker'))) return undefined;
  const r = await run('docker', ['version', '--format', '{{.Server.Version}}'], { env, timeoutMs: 20_000 });
  return r.code === 0 ? r.stdout.trim() : undefined;
}

/** apt-get install, with an `apt-get update` first only when the package lists are too old to find the package. */
export async function aptInstall(packages: string[], logFile: string): Promise<void> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => runLogged('apt-get', ['install', '-y', '--no-install-recommends', ...packages], logFile, env);
  if ((await install()) === 0) return;
  if ((await runLogged('apt-get', ['update'], logFile, env)) !== 0 || (await install()) !== 0) {
    throw new NoEngineError(`apt-get install ${packages.join(' ')} failed:\n${tail(logFile)}`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

/**
 * A dockerd of an earlier run of this test that did not get to stop it (the runner was killed) still holds the
 * data root: stop it, by the pid in its pidfile, when that process really is a dockerd on our data root.
 */
async function stopLeftover(pidFile: string, dataRoot: string, log: (l: string) => void): Promise<void> {
  const pid = Number((await fs.readFile(pidFile, 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
  const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.startsWith('dockerd\0') || !cmdline.includes(dataRoot)) return;
  log(`stopping the dockerd an earlier run left behind (pid ${pid})`);
  process.kill(pid, 'SIGTERM');
  if (!(await waitGone(pid, STOP_TIMEOUT_MS))) process.kill(pid, 'SIGKILL');
}

export async function startEngine(log: (line: string) => void): Promise<Engine> {
  const existing = await engineAnswers(process.env);
  if (existing !== undefined) {
    return {
      env: process.env,
      description: `the running Docker engine ${existing} (${process.env.DOCKER_HOST ?? 'default socket'})`,
      installSeconds: 0,
      stop: () => Promise.resolve(),
    };
  }
  if (process.getuid?.() !== 0) {
    throw new NoEngineError('no Docker engine answers, and only root can install and start one');
  }

  await fs.mkdir(STATE_DIR, { recursive: true });
  let installSeconds = 0;
  if (!(await onPath('dockerd')) || !(await onPath('docker'))) {
    const t0 = Date.now();
    // A machine without an engine has no base image either: debootstrap (to build one) comes in the same apt run.
    const packages = ['docker.io', ...((await onPath('debootstrap')) ? [] : ['debootstrap'])];
    log(`installing ${packages.join(' ')} (apt-get)`);
    await aptInstall(packages, path.join(STATE_DIR, 'apt.log'));
    installSeconds = (Date.now() - t0) / 1000;
  }

  // Short paths: a unix socket path is limited to ~107 bytes, containerd's sits under the exec root.
  const runDir = existsSync('/run') ? '/run/hiksync-container-test' : path.join(STATE_DIR, 'run');
  const dataRoot = path.join(STATE_DIR, 'docker');
  const execRoot = path.join(runDir, 'exec');
  const pidFile = path.join(runDir, 'dockerd.pid');
  const socket = path.join(runDir, 'docker.sock');
  const logFile = path.join(STATE_DIR, 'dockerd.log');
  await fs.mkdir(runDir, { recursive: true });
  await stopLeftover(pidFile, dataRoot, log);
  await fs.writeFile(logFile, '');

  const args = [
    `--data-root=${dataRoot}`,
    `--exec-root=${execRoot}`,
    `--pidfile=${pidFile}`,
    `--host=unix://${socket}`,
    '--bridge=none',
    '--iptables=false',
    '--ip-forward=false',
  ];
  const fd = openSync(logFile, 'a');
  // Its own process group: a ^C to the test reaches the test, which removes its containers before stopping dockerd.
  const daemon: ChildProcess = spawn('dockerd', args, { stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  const pid = daemon.pid;
  if (pid === undefined) throw new NoEngineError(`dockerd did not start:\n${tail(logFile)}`);
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    daemon.once('exit', () => {
      exited = true;
      resolve();
    }),
  );

  const stop = async () => {
    if (exited) return;
    process.kill(pid, 'SIGTERM');
    const timer = setTimeout(() => {
      log(`dockerd (pid ${pid}) did not stop within ${STOP_TIMEOUT_MS / 1000} s: SIGKILL`);
      if (!exited) process.kill(pid, 'SIGKILL');
    }, STOP_TIMEOUT_MS);
    await exit;
    clearTimeout(timer);
    // dockerd leaves the host's network namespace bound under its exec root; harmless, but ours to tidy.
    const netns = path.join(execRoot, 'netns', 'default');
    if ((await fs.readFile('/proc/self/mounts', 'utf8')).includes(` ${netns} `)) await run('umount', [netns]);
  };

  const env = { ...process.env, DOCKER_HOST: `unix://${socket}` };
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let version: string | undefined;
  while ((version = await engineAnswers(env)) === undefined) {
    if (exited || Date.now() > deadline) {
      await stop();
      throw new NoEngineError(
        `dockerd ${exited ? 'exited' : `did not answer within ${READY_TIMEOUT_MS / 1000} s`}:\n${tail(logFile)}`,
      );
    }
    await sleep(200);
  }
  return {
    env,
    description: `dockerd ${version} started by this test (pid ${pid}, data root ${dataRoot}, log ${logFile})`,
    installSeconds,
    stop,
  };
}
