import test from 'ava';
import { constants, type Dirent, type Stats } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { NotRegularFileError, ShareTimeoutError } from '../lib/errors.js';
import { cameraShareGate, createShareIo, ShareGate, shareCallLimit, type RawFileHandle } from '../lib/share-io.js';
import { rawFs } from './helpers/share-fs.js';

const never = <T>() => new Promise<T>(() => undefined);
/** Calls that never answer keep their place in the gate for good: each test that makes them has its own gate. */
const ownGate = () => [new ShareGate(8)];

async function tmpDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hiksync-share-io-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A FIFO with no writer: opening it for reading without O_NONBLOCK blocks a libuv thread until a writer comes.
 * Teardown plays that writer, so a broken test never leaves a thread blocked in the test process.
 */
function fifo(t: { teardown(fn: () => unknown): void }, dir: string, name: string): string {
  const file = path.join(dir, name);
  execFileSync('mkfifo', [file]);
  t.teardown(async () => {
    const writer = await fs.open(file, constants.O_WRONLY | constants.O_NONBLOCK).catch(() => undefined);
    await writer?.close();
  });
  return file;
}

/** Fails the test instead of waiting for ava's timeout when `p` hangs. */
function within<T>(p: Promise<T>, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

test('a call the share never answers fails after the limit, naming the call and the path', async (t) => {
  let calls = 0;
  const io = createShareIo(
    30,
    rawFs({
      readdir: () => {
        calls++;
        return never<Dirent[]>();
      },
    }),
    ownGate(),
  );
  const err = await t.throwsAsync(within(io.readdir('/share/cam1')), { instanceOf: ShareTimeoutError });
  t.is(err.code, 'input-unavailable');
  t.is(
    err.message,
    'the camera share is not answering: listing /share/cam1 took longer than 30 ms (a hung network mount?)',
  );
  t.is(io.failure, err);
  // The reader gives up on the share: later calls fail at once and never reach the file system.
  await t.throwsAsync(within(io.stat('/share/cam1/info.bin'), 20), { is: err });
  t.is(calls, 1);
});

test('the limit is in the message in seconds', async (t) => {
  const io = createShareIo(1500, rawFs({ stat: () => never<Stats>() }), ownGate());
  await t.throwsAsync(within(io.stat('/share/x')), {
    message:
      'the camera share is not answering: reading the attributes of /share/x took longer than 1.5 s (a hung network mount?)',
  });
});

test('a file the share opens after the time-out is closed, not leaked', async (t) => {
  let answer: (h: RawFileHandle) => void = () => undefined;
  let closed = 0;
  const io = createShareIo(
    20,
    rawFs({ open: () => new Promise<RawFileHandle>((resolve) => (answer = resolve)) }),
    ownGate(),
  );
  await t.throwsAsync(within(io.open('/share/cam1/index00.bin')), { instanceOf: ShareTimeoutError });
  const late = { close: () => Promise.resolve(void closed++) } as unknown as RawFileHandle;
  answer(late);
  await new Promise((resolve) => setImmediate(resolve));
  t.is(closed, 1);
});

test('a read that never returns fails after the limit; closing that file does not wait for it', async (t) => {
  const dir = await tmpDir(t);
  const file = path.join(dir, 'index00.bin');
  await fs.writeFile(file, Buffer.alloc(64, 7));
  let closeAnswered = false;
  const io = createShareIo(
    1000,
    rawFs({
      open: async (f, flags) => {
        const fh = await fs.open(f, flags);
        return {
          stat: () => fh.stat(),
          read: () => never<{ bytesRead: number }>(),
          // A handle with a hung read closes only when the read returns: never.
          close: () => fh.close().then(() => never<void>().then(() => void (closeAnswered = true))),
        };
      },
    }),
    ownGate(),
  );
  const fh = await within(io.open(file));
  t.is((await fh.stat()).size, 64);
  await t.throwsAsync(within(fh.read(Buffer.alloc(8), 0, 8, 0)), {
    instanceOf: ShareTimeoutError,
    message: new RegExp(`reading ${file} took longer`),
  });
  await within(fh.close(), 100);
  t.false(closeAnswered);
});

test('a FIFO where a file should be is refused at once, without blocking on it', async (t) => {
  const dir = await tmpDir(t);
  const file = fifo(t, dir, 'index00.bin');
  const io = createShareIo(60_000);
  const err = await t.throwsAsync(within(io.open(file)), { instanceOf: NotRegularFileError });
  t.is(err.message, `${file} is a FIFO, not a regular file: hiksync reads regular files only`);
  t.is(io.failure, undefined, 'a FIFO is an answer, not a share that does not answer');
});

test('a folder where a file should be is refused; a regular file is read as it is', async (t) => {
  const dir = await tmpDir(t);
  const io = createShareIo(60_000);
  await t.throwsAsync(io.open(dir), { instanceOf: NotRegularFileError, message: /is a folder, not a regular file/ });
  const file = path.join(dir, 'info.bin');
  await fs.writeFile(file, 'hello share');
  const fh = await io.open(file);
  const buf = Buffer.alloc(5);
  t.is((await fh.read(buf, 0, 5, 6)).bytesRead, 5);
  t.is(buf.toString(), 'share');
  await fh.close();
  t.deepEqual(
    (await io.readdir(dir)).map((e) => e.name),
    ['info.bin'],
  );
  t.true((await io.stat(file)).isFile());
});

test('hung calls keep their place: with every place held, a call fails after the limit without reaching the share', async (t) => {
  const gate = new ShareGate(2);
  const reached: string[] = [];
  const io = createShareIo(
    300,
    rawFs({
      stat: (p) => {
        reached.push(p);
        return p.endsWith('hung') ? never<Stats>() : fs.stat(os.tmpdir());
      },
    }),
    [gate],
  );
  // Two readers on the same gate: one reader's hung calls hold both places.
  const other = createShareIo(300, rawFs({ stat: (p) => (reached.push(p), fs.stat(os.tmpdir())) }), [gate]);
  await Promise.all([
    t.throwsAsync(io.stat('/a/hung'), { instanceOf: ShareTimeoutError }),
    t.throwsAsync(io.stat('/b/hung'), { instanceOf: ShareTimeoutError }),
  ]);
  t.is(gate.inFlight, 2, 'a hung call keeps its thread, so it keeps its place');
  await t.throwsAsync(within(other.stat('/c/fine')), {
    instanceOf: ShareTimeoutError,
    message: /reading the attributes of \/c\/fine took longer than 300 ms/,
  });
  t.deepEqual(reached, ['/a/hung', '/b/hung'], 'the third call never reached the file system');
});

test('a place freed by an answer goes to a waiting call; the count is shared through the buffer', async (t) => {
  const gate = new ShareGate(1);
  const twin = new ShareGate(gate.buffer); // what a worker makes of its task's buffer
  t.is(twin.limit, 1);
  let answer: () => void = () => undefined;
  const slow = createShareIo(
    5000,
    rawFs({ stat: () => new Promise<Stats>((resolve) => (answer = () => resolve({} as Stats))) }),
    [gate],
  );
  const fast = createShareIo(5000, rawFs({ stat: () => Promise.resolve({ fast: true } as unknown as Stats) }), [twin]);
  const first = slow.stat('/slow');
  const second = fast.stat('/fast');
  await new Promise((r) => setImmediate(r));
  t.is(twin.inFlight, 1, "the worker sees the main thread's call");
  answer();
  await first;
  t.like(await within(second), { fast: true });
  t.is(gate.inFlight, 0);
});

test('a camera whose share hangs never holds every place: another camera still gets one', async (t) => {
  const whole = new ShareGate(3);
  const hung = createShareIo(300, rawFs({ stat: () => never<Stats>() }), [cameraShareGate(3), whole]);
  const fine = createShareIo(3000, rawFs({ stat: () => fs.stat(os.tmpdir()) }), [cameraShareGate(3), whole]);
  const calls = [hung.stat('/cam1/a'), hung.stat('/cam1/b'), hung.stat('/cam1/c')];
  for (const c of calls) await t.throwsAsync(c, { instanceOf: ShareTimeoutError });
  t.is(whole.inFlight, 2, "the camera's gate let two of its calls through, not three");
  t.true((await within(fine.stat('/cam2/x'))).isDirectory());
});

test('the share may take every threadpool thread but one', (t) => {
  t.is(shareCallLimit(4), 3);
  t.is(shareCallLimit(16), 15);
  t.is(shareCallLimit(1), 1);
});

test('the time limit must be positive', (t) => {
  t.throws(() => createShareIo(0), { instanceOf: RangeError });
});
