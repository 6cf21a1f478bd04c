/**
 * The forced exit must exit, also when a thread is stuck in a file-system call that never returns (process.exit()
 * would wait for that thread forever). A real child process with a real blocked thread: a FIFO without a writer.
 */
import test from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { constants } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURE = path.join(here, 'fixtures', 'blocked-read.ts');
/** Generous: the forced exit itself takes milliseconds. */
const BOUND_MS = 10_000;

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

async function fifo(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hiksync-exit-'));
  const file = path.join(dir, 'index00.bin');
  execFileSync('mkfifo', [file]);
  t.teardown(async () => {
    // Play the writer: a child that did not die is released from its open, then the FIFO goes.
    const writer = await fs.open(file, constants.O_WRONLY | constants.O_NONBLOCK).catch(() => undefined);
    await writer?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });
  return file;
}

function start(t: { teardown(fn: () => unknown): void }, args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, ...args]);
  t.teardown(() => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', () => stdout.includes('ready') && resolve());
    child.once('close', () => (stdout.includes('ready') ? resolve() : reject(new Error(`ended early: ${stderr}`))));
  });
  let from = 0;
  const exited = new Promise<Ended>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - from })),
  );
  const bounded = (): Promise<Ended> => {
    from = Date.now();
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      exited,
      new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new Error(`still running after ${BOUND_MS} ms`)), BOUND_MS)),
      ),
    ]).finally(() => clearTimeout(timer));
  };
  return { child, ready, bounded, stderrOf: () => stderr };
}

/** Waits until one of the child's threads sleeps in the FIFO open (Linux: /proc/<pid>/task/<tid>/wchan). */
async function blockedInFifo(pid: number): Promise<boolean> {
  for (let i = 0; i < 500; i++) {
    for (const tid of await fs.readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
      const wchan = await fs.readFile(`/proc/${pid}/task/${tid}/wchan`, 'utf8').catch(() => '');
      if (wchan === 'wait_for_partner') return true;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

test('two SIGTERMs while a thread is blocked in a read: the process ends at once, status 130 (SIGINT)', async (t) => {
  const file = await fifo(t);
  const { child, ready, bounded, stderrOf } = start(t, [file, 'signals', '600000']);
  await ready;
  t.true(await blockedInFifo(child.pid!), 'a thread is stuck in the FIFO open');
  child.kill('SIGTERM');
  // Signals of one kind do not queue: the second counts once the first was handled.
  await new Promise<void>((resolve) => {
    const seen = () => /SIGTERM received/.test(stderrOf()) && resolve();
    child.stderr.on('data', seen);
    seen();
  });
  child.kill('SIGTERM');
  const r = await bounded();
  // Shells, tini, Docker and Kubernetes report a death by SIGINT as exit status 128 + 2 = 130.
  t.is(r.signal, 'SIGINT', `code ${r.code}, stderr: ${r.stderr}`);
  t.regex(r.stderr, /second signal \(SIGTERM\): exiting now/);
  t.notRegex(r.stdout, /opened/);
});

test('one SIGTERM and a grace time that runs out while a thread is blocked: the process ends, status 130', async (t) => {
  const file = await fifo(t);
  const { child, ready, bounded } = start(t, [file, 'signals', '200']);
  await ready;
  t.true(await blockedInFifo(child.pid!));
  child.kill('SIGTERM');
  const r = await bounded();
  t.is(r.signal, 'SIGINT', `code ${r.code}, stderr: ${r.stderr}`);
  t.regex(r.stderr, /still running 0 s after SIGTERM: exiting now/);
});

test('a command that is done while a thread is blocked: the process is ended shortly after, saying why', async (t) => {
  const file = await fifo(t);
  const { child, ready, bounded } = start(t, [file, 'done', '1']);
  await ready;
  t.true(await blockedInFifo(child.pid!));
  child.stdin.write('done\n');
  const r = await bounded();
  t.is(r.signal, 'SIGINT', `code ${r.code}, stderr: ${r.stderr}`);
  t.regex(r.stderr, /still running 0\.3 s after finishing with exit code 1: a file-system call has not returned/);
});

test('a command that is done with nothing blocked exits by itself with its code, at once', async (t) => {
  const { child, ready, bounded } = start(t, ['-', 'done', '66']);
  await ready;
  child.stdin.write('done\n');
  const r = await bounded();
  t.is(r.code, 66);
  t.is(r.signal, null);
  t.is(r.stderr, '');
});
