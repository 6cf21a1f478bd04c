/**
 * The `scan` scenario's child process: discover every camera under INPUT and read its index tables with
 * hiksync's own reader (discoverCameras + scanCamera), then report how many bytes that read. Bytes are counted
 * from /proc/self/io rchar around the scan (module loading excluded) and from the reader's own count
 * (DatadirScan.bytesRead).
 *
 *   node dist/bench/scan-probe.js INPUT
 *
 * Prints one JSON line (see ScanProbeResult). The used part of a picture table is taken with the slot count the
 * reader detected (4096, 256 or 96 per .pic file).
 */
import { readFileSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { discoverCameras, scanCamera, type DatadirScan } from '../lib/hikvision/source.js';

export interface DatadirRead {
  path: string;
  /** The reader's own count of bytes read in this datadir. */
  bytesRead: number;
  /** Bytes a reader needs: header + file records + every slot of every file the headers declare (video + pictures). */
  usedBound: number;
}

export interface ScanProbeResult {
  cameras: number;
  datadirs: number;
  recordings: number;
  seconds: number;
  /** rchar delta over the scan: every read of this process while scanning. */
  rchar: number;
  /** Sum of DatadirScan.bytesRead (the reader's own count). */
  reportedBytesRead: number;
  /** Size of every index*.bin file on disk (what a naive reader reads). */
  indexBytesOnDisk: number;
  perDatadir: DatadirRead[];
}

const HEADER = 1280;
const FILE_RECORD = 32;
const SLOT = 80;
const VIDEO_SLOTS = 256;

function rchar(): number {
  const m = /^rchar:\s+(\d+)/m.exec(readFileSync('/proc/self/io', 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** Header + file records + all slots of the files the header declares, bounded by the file size. */
async function usedPart(file: string | undefined, slotsPerFile: number): Promise<number> {
  if (!file) return 0;
  const fh = await fs.open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const head = Buffer.alloc(16);
    await fh.read(head, 0, 16, 0);
    const avFiles = head.readUInt32LE(12);
    return Math.min(size, HEADER + avFiles * FILE_RECORD + avFiles * slotsPerFile * SLOT);
  } finally {
    await fh.close();
  }
}

async function indexBytesOnDisk(dir: string): Promise<number> {
  let total = 0;
  for (const name of await fs.readdir(dir)) {
    if (/^index0[01]p?\.bin$/.test(name)) total += (await fs.stat(path.join(dir, name))).size;
  }
  return total;
}

async function main(): Promise<void> {
  const input = process.argv[2];
  if (!input) throw new Error('usage: scan-probe INPUT');
  const r0 = rchar();
  const t0 = performance.now();
  const cameras = await discoverCameras(input);
  let datadirs = 0;
  let recordings = 0;
  let reported = 0;
  const scanned: DatadirScan[] = [];
  for (const cam of cameras) {
    const scan = await scanCamera(cam);
    datadirs += scan.datadirs.length;
    recordings += scan.recordings.length;
    for (const d of scan.datadirs) reported += d.bytesRead;
    scanned.push(...scan.datadirs);
  }
  const seconds = (performance.now() - t0) / 1000;
  const read = rchar() - r0;

  // After the measurement: how much of each index table a reader needs, and how big the tables are.
  const perDatadir: DatadirRead[] = [];
  let onDisk = 0;
  for (const d of scanned) {
    const used =
      (await usedPart(d.videoIndex, VIDEO_SLOTS)) + (await usedPart(d.pictureIndex, d.pictureSlotsPerFile ?? 4096));
    perDatadir.push({ path: d.path, bytesRead: d.bytesRead, usedBound: used });
    onDisk += await indexBytesOnDisk(d.path);
  }
  const result: ScanProbeResult = {
    cameras: cameras.length,
    datadirs,
    recordings,
    seconds,
    rchar: read,
    reportedBytesRead: reported,
    indexBytesOnDisk: onDisk,
    perDatadir,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`scan-probe: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
