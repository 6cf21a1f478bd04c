/**
 * Bringing a camera's manifest back in line with its output folders after a crash or a loss: entries a crash
 * left 'pending' are settled, and a lost manifest is rebuilt from the files that are provably ours.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Recording } from '../hikvision/types.js';
import { isCameraPicture } from '../media/jpeg.js';
import { MARKER_PREFIX, readMp4Marker } from '../media/probe.js';
import type { Manifest } from './manifest.js';
import { entryFor } from './manifest-entry.js';
import { naturalNames, parseFileName, type VideoContainer } from './naming.js';
import { isListed, type OutputListing } from './output-folders.js';
import type { ShareIo } from '../share-io.js';

/**
 * Entries a crash left 'pending': the worker renames only complete files, so an existing output is complete
 * (-> done); a missing one was an interrupted attempt (-> failed, the attempt counted).
 */
export async function settlePending(manifest: Manifest, outputRoot: string, listing: OutputListing): Promise<number> {
  let settled = 0;
  for (const e of manifest.entries()) {
    if (e.status !== 'pending') continue;
    settled++;
    if (isListed(listing, e.output)) {
      const st = await fs.stat(path.join(outputRoot, e.output));
      manifest.put({ ...e, status: 'done', size: st.size, updatedAt: Date.now() });
    } else {
      manifest.put({
        ...e,
        status: 'failed',
        lastError: 'interrupted (the run stopped while extracting)',
        updatedAt: Date.now(),
      });
    }
  }
  return settled;
}

/**
 * Rebuild a lost manifest from the output folders without re-extracting: a file at the natural name of a
 * recording still on the camera is taken back when it is provably ours: an MP4 carrying hiksync's marker for
 * that recording id, or a JPEG identical byte for byte to the camera's picture (hiksync copies them verbatim).
 * Anything else at such a name (a user's own picture) is not ours: never adopted, so never deleted by retention.
 * Returns entries added. `io` reads the camera's pictures (a share that does not answer is ShareTimeoutError).
 */
export async function rebuildManifest(
  manifest: Manifest,
  outputRoot: string,
  tag: string,
  recordings: readonly Recording[],
  listing: OutputListing,
  container: VideoContainer,
  io?: ShareIo,
): Promise<number> {
  let added = 0;
  for (const [output, rec] of naturalNames(tag, recordings, container)) {
    if (manifest.get(rec.id) || manifest.ownerOf(output) || !isListed(listing, output)) continue;
    const abs = path.join(outputRoot, output);
    const name = path.basename(output);
    if (!parseFileName(name, tag)) continue;
    const ours =
      rec.kind === 'video'
        ? (await readMp4Marker(abs)) === MARKER_PREFIX + rec.id
        : await isCameraPicture(abs, io ? { ...rec, io } : rec);
    if (!ours) continue;
    const st = await fs.stat(abs);
    manifest.put(entryFor(rec, output, 'done', st.size, 0, 'rebuilt'));
    added++;
  }
  return added;
}
