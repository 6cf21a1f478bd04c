/**
 * Which camera folders a command works on (this shard's, and those `--camera` names), and what to tell the user about
 * the choice before anything is extracted: a CAMERA_TRANSLATION entry or a `--camera` that matches no folder (a typo
 * must not look like "nothing new"), and an input folder that is itself one camera (its tag would be the folder's
 * name, `input` in the container). scan and run share it, so both say the same thing.
 */
import * as path from 'node:path';
import { InputDirError } from '../errors.js';
import type { CameraDir } from '../hikvision/discovery.js';
import type { CameraScan } from '../hikvision/source.js';
import { shardOf, type Shard } from '../ops/shard.js';

/** Camera names listed in a message; a share with more cameras is cut off (the message stays one line). */
export const MAX_CAMERAS_NAMED = 10;

export interface CameraSelection {
  /** The cameras to work on, in discovery order. */
  cameras: CameraDir[];
  /** One line each, to tell the user once (not errors: the pass goes on). */
  notices: string[];
}

/** "a, b, c": at most MAX_CAMERAS_NAMED names, then how many there are. */
function nameList(names: readonly string[]): string {
  const shown = names.slice(0, MAX_CAMERAS_NAMED).join(', ');
  return names.length > MAX_CAMERAS_NAMED ? `${shown}, ... (${names.length} in all)` : shown;
}

/**
 * The cameras of this shard, filtered by `wanted` (folder names or tags; empty = all), and the notices. Throws
 * InputDirError (exit 66) when `wanted` names cameras but none of them is in the input at all: the command would
 * do nothing, and say nothing about why.
 */
export function selectCameras(
  inputDir: string,
  all: readonly CameraDir[],
  opts: { shard: Shard; translation: ReadonlyMap<string, string>; wanted?: readonly string[] },
): CameraSelection {
  const { shard, translation } = opts;
  const wanted = new Set(opts.wanted ?? []);
  const tagOf = (c: CameraDir) => translation.get(c.name) ?? c.name;
  const isWanted = (c: CameraDir) => wanted.size === 0 || wanted.has(c.name) || wanted.has(tagOf(c));
  const notices: string[] = [];
  // "Camera-Oprit, Camera-Tuin (garden)": folder names, with their tag where one is given.
  const known = nameList(all.map((c) => (translation.has(c.name) ? `${c.name} (${tagOf(c)})` : c.name)));

  const missing = [...wanted].filter((w) => !all.some((c) => c.name === w || tagOf(c) === w));
  if (wanted.size > 0 && missing.length === wanted.size) {
    const asked = missing.map((w) => `--camera ${w}`).join(', ');
    throw new InputDirError(
      `${asked}: no camera folder or tag of ${missing.length === 1 ? 'that name' : 'those names'} in ${inputDir}` +
        (all.length > 0 ? ` (its cameras: ${known})` : ''),
    );
  }
  for (const w of missing) notices.push(`--camera ${w}: no camera folder or tag of that name in ${inputDir}`);

  for (const source of translation.keys()) {
    if (!all.some((c) => c.name === source))
      notices.push(
        `CAMERA_TRANSLATION names "${source}", but no camera folder of that name is in ${inputDir}` +
          (all.length > 0 ? ` (its camera folders: ${nameList(all.map((c) => c.name))})` : ''),
      );
  }

  // The input folder itself holds a camera's index (one camera mounted as /input): its tag is the folder's name,
  // which in a container is the mount point. Only the user knows the camera's name, and a tag is for good (names
  // once given never change), so say it before the first file is named.
  const only = all.length === 1 ? all[0]! : undefined;
  if (only && only.path === path.resolve(inputDir) && !translation.has(only.name)) {
    notices.push(
      `${only.path} holds one camera, not a folder per camera: its files are tagged "${only.name}" ` +
        `(${only.name}/video/<time>-${only.name}.mp4); set CAMERA_TRANSLATION=${only.name}:<name>, e.g. ` +
        `${only.name}:garden, before the first run to name them after the camera`,
    );
  }

  const cameras = all.filter((c) => (shard.count <= 1 || shardOf(c.name, shard.count) === shard.index) && isWanted(c));
  return { cameras, notices };
}

/** What a camera's scan found, as far as telling the user about its layout goes. */
export type LayoutFindings = Pick<CameraScan, 'path' | 'datadirs' | 'skipped' | 'unavailable'>;

/**
 * For a camera whose layout hiksync does not read (no datadir or index it knows, a DVR disk such as HIKBTREE, a
 * SQLite index or picture layout it cannot use): the line that points to `hiksync inspect --bundle`, which makes the
 * archive a bug report needs. Undefined for a camera that was read, or whose share did not answer (that is not the
 * layout's fault).
 */
export function inspectPointer(scan: LayoutFindings): string | undefined {
  if (scan.unavailable !== undefined) return undefined;
  if (scan.datadirs.length > 0 && !scan.skipped.unsupported) return undefined;
  return (
    `a layout hiksync does not read: \`hiksync inspect ${JSON.stringify(scan.path)}\` shows what is there, and ` +
    '`--bundle hiksync-bundle.tar.gz` makes an archive of its index files (no video) to attach to an issue'
  );
}
