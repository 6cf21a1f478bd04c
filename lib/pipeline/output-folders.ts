/**
 * The output folders of one camera (`<tag>/video`, `<tag>/images`): one listing per folder per pass, and the
 * temporary files a worker writes before its atomic rename.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { listFolder } from '../files.js';
import { IMAGE_FOLDER, VIDEO_FOLDER } from './naming.js';

/** Temporary files are hidden and end in .partial: `.<final name>.<pid>-<n>.partial`. */
export const TEMP_RE = /^\..+\.partial$/;

export function tempNameFor(outputAbs: string, unique: string): string {
  return path.join(path.dirname(outputAbs), `.${path.basename(outputAbs)}.${unique}.partial`);
}

/** File names present in `<tag>/video` and `<tag>/images` (one directory listing each). */
export interface OutputListing {
  video: ReadonlySet<string>;
  images: ReadonlySet<string>;
}

export interface CameraListing extends OutputListing {
  /** Temporary files left by an interrupted run, removed. */
  removedTemps: number;
}

/**
 * One directory listing per output folder. Runs under the lock, so any temporary file present belongs to a run
 * that died: it is removed (it never had the final name, so nothing complete is lost).
 */
export async function listCameraOutputs(outputRoot: string, tag: string): Promise<CameraListing> {
  let removedTemps = 0;
  const listFiles = async (folder: string): Promise<Set<string>> => {
    const dir = path.join(outputRoot, tag, folder);
    const names = new Set<string>();
    for (const name of await listFolder(dir)) {
      if (TEMP_RE.test(name)) {
        await fs.rm(path.join(dir, name), { force: true });
        removedTemps++;
      } else {
        names.add(name);
      }
    }
    return names;
  };
  const video = await listFiles(VIDEO_FOLDER);
  const images = await listFiles(IMAGE_FOLDER);
  return { video, images, removedTemps };
}

/** Whether `output` ("<tag>/video/<name>") was in the listing. */
export function isListed(listing: OutputListing, output: string): boolean {
  const name = output.slice(output.lastIndexOf('/') + 1);
  return output.includes(`/${VIDEO_FOLDER}/`) ? listing.video.has(name) : listing.images.has(name);
}
