/**
 * Test helper process: a hung network share, for real. Mounts a read-only FUSE file system at argv[3] that mirrors
 * the folder argv[2], speaking the kernel's FUSE protocol on /dev/fuse itself (no libfuse: `npm ci && npm test`
 * needs nothing else; it needs root and /dev/fuse, as CI has). Reads of the files listed in the JSON file argv[4]
 * (an array of paths relative to the mirrored folder, read again at every read, so a test can change it) are never
 * answered: the caller's read blocks in the kernel exactly like a read of a hung NFS mount (a regular file, whose
 * stat answers, whose open answers, whose read never returns). Each unanswered read prints "hung <path>".
 * Like a hard NFS mount, a blocked reader can still be killed: a fatal signal makes the kernel send INTERRUPT, and
 * the server then answers the read with EINTR (without that, FUSE waits uninterruptibly, SIGKILL included).
 * Prints "mounted" once the mount is in place; ends when the file system is unmounted. Its loop never yields to
 * the event loop: stop it with SIGKILL (closing /dev/fuse aborts the connection: the kernel fails the blocked reads
 * with ENOTCONN) and `umount -l` the mountpoint.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

if (process.argv.length !== 5) throw new Error('usage: fuse-hang-server <folder> <mountpoint> <hang.json>');
const [mirrored, mountpoint, hangFile] = process.argv.slice(2) as [string, string, string];
const hangs = (p: string): boolean =>
  (JSON.parse(fs.readFileSync(hangFile, 'utf8')) as string[]).some((h) => path.join(mirrored, h) === p);

// Opcodes and sizes of the FUSE protocol (linux/fuse.h, 7.31).
const OP = {
  LOOKUP: 1,
  FORGET: 2,
  GETATTR: 3,
  READLINK: 5,
  OPEN: 14,
  READ: 15,
  STATFS: 17,
  RELEASE: 18,
  GETXATTR: 22,
  LISTXATTR: 23,
  FLUSH: 25,
  INIT: 26,
  OPENDIR: 27,
  READDIR: 28,
  RELEASEDIR: 29,
  ACCESS: 34,
  INTERRUPT: 36,
  DESTROY: 38,
  BATCH_FORGET: 42,
} as const;
const WRITES = new Set([4, 6, 8, 9, 10, 11, 12, 13, 16, 20, 21, 24, 30, 35, 43, 45, 47]);
const NO_REPLY = new Set<number>([OP.FORGET, OP.BATCH_FORGET, OP.INTERRUPT]);
const IN_HEADER = 40;
const OUT_HEADER = 16;
const ATTR_SIZE = 88;
const FOPEN_DIRECT_IO = 1;
const ENOENT = 2;
const EROFS = 30;
const ENOSYS = 38;
const EINTR = 4;
const ENODEV = 19;
const MAX_WRITE = 128 * 1024;

const fuse = fs.openSync('/dev/fuse', 'r+');
const mount = spawnSync(
  'mount',
  ['-t', 'fuse', '-o', `fd=3,rootmode=40000,user_id=0,group_id=0,ro`, 'hiksync-hang', mountpoint],
  { stdio: ['ignore', 'inherit', 'inherit', fuse] },
);
if (mount.status !== 0) throw new Error(`mount failed (${mount.status}): is this root, with /dev/fuse?`);
process.stdout.write('mounted\n');

/** Reads left unanswered, until their reader is killed (INTERRUPT). */
const hung = new Set<bigint>();
const paths = new Map<bigint, string>([[1n, mirrored]]);
const ids = new Map<string, bigint>([[mirrored, 1n]]);
let nextId = 2n;
function idOf(p: string): bigint {
  let id = ids.get(p);
  if (id === undefined) {
    id = nextId++;
    ids.set(p, id);
    paths.set(id, p);
  }
  return id;
}

function attr(p: string, id: bigint): Buffer {
  const st = fs.lstatSync(p, { bigint: true });
  const b = Buffer.alloc(ATTR_SIZE);
  b.writeBigUInt64LE(id, 0);
  b.writeBigUInt64LE(st.size, 8);
  b.writeBigUInt64LE(st.blocks, 16);
  for (const [i, ns] of [st.atimeNs, st.mtimeNs, st.ctimeNs].entries()) {
    b.writeBigUInt64LE(ns / 1_000_000_000n, 24 + i * 8);
    b.writeUInt32LE(Number(ns % 1_000_000_000n), 48 + i * 4);
  }
  b.writeUInt32LE(Number(st.mode), 60);
  b.writeUInt32LE(Number(st.nlink), 64);
  b.writeUInt32LE(Number(st.uid), 68);
  b.writeUInt32LE(Number(st.gid), 72);
  b.writeUInt32LE(4096, 80);
  return b;
}

function reply(unique: bigint, error: number, body: Buffer = Buffer.alloc(0)): void {
  const head = Buffer.alloc(OUT_HEADER);
  head.writeUInt32LE(OUT_HEADER + body.length, 0);
  head.writeInt32LE(-error, 4);
  head.writeBigUInt64LE(unique, 8);
  try {
    fs.writeSync(fuse, Buffer.concat([head, body]));
  } catch {
    /* the request was interrupted meanwhile: nobody waits for the answer */
  }
}

function handle(op: number, unique: bigint, node: bigint, arg: Buffer): void {
  const p = paths.get(node);
  if (op === OP.INIT) {
    const out = Buffer.alloc(64);
    out.writeUInt32LE(7, 0);
    out.writeUInt32LE(31, 4);
    out.writeUInt32LE(arg.readUInt32LE(8), 8); // max_readahead as offered
    out.writeUInt32LE(MAX_WRITE, 20);
    out.writeUInt32LE(1, 24); // time_gran
    return reply(unique, 0, out);
  }
  if (WRITES.has(op)) return reply(unique, EROFS);
  if (p === undefined) return reply(unique, ENOENT);
  try {
    switch (op) {
      case OP.LOOKUP: {
        const child = path.join(p, arg.toString('utf8', 0, arg.indexOf(0)));
        if (!fs.existsSync(child)) return reply(unique, ENOENT);
        const id = idOf(child);
        const out = Buffer.alloc(40);
        out.writeBigUInt64LE(id, 0);
        return reply(unique, 0, Buffer.concat([out, attr(child, id)]));
      }
      case OP.GETATTR:
        return reply(unique, 0, Buffer.concat([Buffer.alloc(16), attr(p, node)]));
      case OP.READLINK:
        return reply(unique, 0, Buffer.from(fs.readlinkSync(p)));
      case OP.OPEN:
      case OP.OPENDIR: {
        const out = Buffer.alloc(16);
        if (op === OP.OPEN) out.writeUInt32LE(FOPEN_DIRECT_IO, 8);
        return reply(unique, 0, out);
      }
      case OP.READ: {
        if (hangs(p)) {
          // Unanswered: the reader blocks as on a hung NFS mount.
          hung.add(unique);
          return void process.stdout.write(`hung ${path.relative(mirrored, p)}\n`);
        }
        const offset = Number(arg.readBigUInt64LE(8));
        const size = arg.readUInt32LE(16);
        const buf = Buffer.alloc(size);
        const fd = fs.openSync(p, 'r');
        try {
          return reply(unique, 0, buf.subarray(0, fs.readSync(fd, buf, 0, size, offset)));
        } finally {
          fs.closeSync(fd);
        }
      }
      case OP.READDIR: {
        const offset = Number(arg.readBigUInt64LE(8));
        const size = arg.readUInt32LE(16);
        const names = ['.', '..', ...fs.readdirSync(p)];
        const parts: Buffer[] = [];
        let used = 0;
        for (let i = offset; i < names.length; i++) {
          const name = Buffer.from(names[i]!);
          const entry = Buffer.alloc(Math.ceil((24 + name.length) / 8) * 8);
          if (used + entry.length > size) break;
          const full = names[i] === '.' || names[i] === '..' ? p : path.join(p, names[i]!);
          entry.writeBigUInt64LE(idOf(full), 0);
          entry.writeBigUInt64LE(BigInt(i + 1), 8);
          entry.writeUInt32LE(name.length, 16);
          entry.writeUInt32LE((fs.lstatSync(full).mode >> 12) & 0xf, 20);
          name.copy(entry, 24);
          parts.push(entry);
          used += entry.length;
        }
        return reply(unique, 0, Buffer.concat(parts));
      }
      case OP.STATFS:
        return reply(unique, 0, Buffer.alloc(80));
      case OP.RELEASE:
      case OP.RELEASEDIR:
      case OP.FLUSH:
      case OP.ACCESS:
        return reply(unique, 0);
      default:
        return reply(unique, ENOSYS);
    }
  } catch (err) {
    return reply(unique, (err as NodeJS.ErrnoException).code === 'ENOENT' ? ENOENT : 5);
  }
}

const buf = Buffer.alloc(MAX_WRITE + 4096);
for (;;) {
  let n: number;
  try {
    n = fs.readSync(fuse, buf, 0, buf.length, null);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EINTR' || code === 'EAGAIN' || code === 'ENOENT') continue;
    if ((err as NodeJS.ErrnoException).errno === -ENODEV || code === 'ENODEV') process.exit(0); // unmounted
    throw err;
  }
  if (n < IN_HEADER) continue;
  const op = buf.readUInt32LE(4);
  const unique = buf.readBigUInt64LE(8);
  const node = buf.readBigUInt64LE(16);
  if (op === OP.DESTROY) process.exit(0);
  if (op === OP.INTERRUPT) {
    const target = buf.readBigUInt64LE(IN_HEADER);
    if (hung.delete(target)) reply(target, EINTR);
    continue;
  }
  if (NO_REPLY.has(op)) continue;
  handle(op, unique, node, Buffer.from(buf.subarray(IN_HEADER, n)));
}
