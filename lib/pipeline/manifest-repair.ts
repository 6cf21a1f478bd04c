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
 * (-> done); a missing one was an interrupted attempt (-> failed, the attempt NOT counted). A dead process says
 * nothing about the recordings it had in flight (up to 2 x workers of them, queued ones too): counting the
 * interruption, as a stop by SIGTERM is not counted either, gave up every recording that happened to be in flight
 * during three crashes (container restarts, OOM kills, power loss).
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
        // The pending line counted the attempt in progress.
        attempts: Math.max(0, e.attempts - 1),
        lastError: 'interrupted (the run stopped while extracting; not counted as an attempt)',
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
