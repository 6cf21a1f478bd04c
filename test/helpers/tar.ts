/**
 * Reads a .tar.gz back for tests: gunzip (node:zlib), then the ustar headers. Written apart from lib/inspect/tar.ts
 * (the writer) so a misreading of the format cannot hide in code both share; tests also list archives with the
 * system's `tar -tzvf` (listWithSystemTar).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as zlib from 'node:zlib';

export interface TarMember {
  name: string;
  size: number;
  mtime: number;
  type: string;
  data: Buffer;
}

function field(h: Buffer, start: number, len: number): string {
  const raw = h.subarray(start, start + len);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? len : end).toString('utf8');
}

function octalField(h: Buffer, start: number, len: number): number {
  return parseInt(field(h, start, len).trim() || '0', 8);
}

export function parseTar(tar: Buffer): TarMember[] {
  const out: TarMember[] = [];
  let off = 0;
  while (off + 512 <= tar.length) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const stored = octalField(h, 148, 8);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    if (sum !== stored) throw new Error(`bad header checksum at ${off}: ${sum} != ${stored}`);
    if (field(h, 257, 6) !== 'ustar') throw new Error(`not a ustar header at ${off}`);
    const prefix = field(h, 345, 155);
    const name = (prefix ? prefix + '/' : '') + field(h, 0, 100);
    const size = octalField(h, 124, 12);
    const data = tar.subarray(off + 512, off + 512 + size);
    if (data.length !== size) throw new Error(`${name}: truncated content`);
    out.push({ name, size, mtime: octalField(h, 136, 12), type: field(h, 156, 1), data: Buffer.from(data) });
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

export async function readTarGz(file: string): Promise<TarMember[]> {
  return parseTar(zlib.gunzipSync(await fs.readFile(file)));
}

/** `tar -tzvf file` as [{ name, size }] (GNU tar's verbose listing: mode owner size date time name). */
export function listWithSystemTar(file: string): Array<{ name: string; size: number }> {
  const r = spawnSync('tar', ['-tzvf', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar -tzvf ${file} failed: ${r.stderr}`);
  return r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const parts = line.trim().split(/\s+/);
      return { name: parts.slice(5).join(' '), size: Number(parts[2]) };
    });
}
