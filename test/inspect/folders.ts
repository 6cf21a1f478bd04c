/** Camera folders for the inspect tests: a synthetic binary-index camera, a hand-made SQLite one, odd ones. */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { writeSyntheticShare } from '../../tools/synthetic/share-writer.js';
import { xorshiftBytes } from '../helpers/fuzz.js';
import { RECORD_DB_SQL, sqliteDb } from './sqlite.js';

/** Bytes that do not repeat (so a copied range is recognisable), `seed` varies them. */
export function noise(length: number, seed = 1): Buffer {
  return xorshiftBytes(length, seed);
}

/** A two-datadir binary-index camera from the synthetic writer (info.bin, index00/01(p).bin, hiv blocks, logs). */
export async function binaryCamera(root: string, name = 'Camera-Tuin'): Promise<string> {
  await writeSyntheticShare({
    root,
    seed: 7,
    cameras: [{ name, codec: 'h264', datadirs: 2, infoBin: true, events: 4, pictures: 2 }],
  });
  return path.join(root, name);
}

/**
 * A firmware-5.5-like camera: datadir0 with record_db_index00 (+ -journal), event_db_index00, pic_segment_db_index00
 * -wal, hiv blocks (noise, 200 KiB and 40 KiB), a .pic block, logCurFile.bin and a file of the user's.
 */
export async function sqliteCamera(root: string, name = 'Camera-Oprit'): Promise<string> {
  const cam = path.join(root, name);
  const dd = path.join(cam, 'datadir0');
  await fs.mkdir(dd, { recursive: true });
  await fs.writeFile(path.join(dd, 'record_db_index00'), await sqliteDb(RECORD_DB_SQL));
  await fs.writeFile(path.join(dd, 'record_db_index00-journal'), noise(1000, 5));
  await fs.writeFile(
    path.join(dd, 'event_db_index00'),
    await sqliteDb(`CREATE TABLE event_id (name TEXT); INSERT INTO event_id VALUES ('MotionDetectTB');
      CREATE TABLE MotionDetectTB (file_no, trigger_time, pic_offset_0, pic_len_0);
      INSERT INTO MotionDetectTB VALUES (0, 1700000000, 0, 5000), (0, 1700000100, 8192, 4000);`),
  );
  await fs.writeFile(path.join(dd, 'pic_segment_db_index00-wal'), noise(300, 6));
  await fs.writeFile(path.join(dd, 'hiv00000.mp4'), noise(200 * 1024, 11));
  await fs.writeFile(path.join(dd, 'hiv00001.mp4'), noise(40 * 1024, 12));
  await fs.writeFile(path.join(dd, 'hiv00000.pic'), noise(100 * 1024, 13));
  await fs.writeFile(path.join(dd, 'logCurFile.bin'), noise(2048, 14));
  await fs.writeFile(path.join(cam, 'notes-of-the-user.txt'), 'private');
  return cam;
}

/** A folder of no layout hiksync knows: some files, a sub-folder. */
export async function unknownCamera(root: string): Promise<string> {
  const cam = path.join(root, 'Camera-Unknown');
  await fs.mkdir(path.join(cam, 'stuff'), { recursive: true });
  await fs.writeFile(path.join(cam, 'stuff', 'data.idx'), noise(5000, 21));
  await fs.writeFile(path.join(cam, 'readme.txt'), 'x');
  return cam;
}

/** A DVR/NVR disk image folder: HIKBTREE and HIKDISK00.bin markers. */
export async function dvrFolder(root: string): Promise<string> {
  const cam = path.join(root, 'dvr');
  await fs.mkdir(cam, { recursive: true });
  await fs.writeFile(path.join(cam, 'HIKBTREE'), noise(4096, 31));
  return cam;
}

/** Every file under `dir` (relative paths), to show nothing was added next to the camera's files. */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { recursive: true, withFileTypes: true }))
    if (!e.isDirectory()) out.push(path.relative(dir, path.join(e.parentPath ?? e.path, e.name)));
  return out.sort();
}
