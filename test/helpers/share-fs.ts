/**
 * The camera share's file-system calls (lib/share-io.ts RawShareFs) as node's, with some replaced: how a test makes
 * one call hang, fail or change its answer without a real misbehaving share.
 */
import * as fs from 'node:fs/promises';
import type { RawShareFs } from '../../lib/share-io.js';

export function rawFs(over: Partial<RawShareFs>): RawShareFs {
  return {
    readdir: (dir, opts) => fs.readdir(dir, opts),
    stat: (p) => fs.stat(p),
    open: (file, flags) => fs.open(file, flags),
    ...over,
  };
}
