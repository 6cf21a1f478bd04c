/**
 * Reading an output tree from the outside, as the tests and the soak check it: the files on disk and what the
 * manifests say about them. Written independently of lib/pipeline (which writes both), so a misreading there
 * cannot hide in code the check shares.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

/** Every file under the output root except hiksync's state folder, as sorted '/'-separated relative paths. */
export async function listOutputTree(out: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const e of await fs.readdir(path.join(out, rel), { withFileTypes: true }).catch(() => [])) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (!rel && e.name === '.hiksync') continue;
      if (e.isDirectory()) await walk(child);
      else files.push(child); // anything that is not a folder counts: a stray FIFO or link is a finding too
    }
  };
  await walk('');
  return files.sort();
}

/** One manifest line as the checks read it. */
export interface ManifestLine {
  id: string;
  output: string;
  size: number;
  status: string;
  attempts?: number;
  lastError?: string;
}

/** The last line of every id in every camera manifest (removals forget; unreadable or partial lines are ignored). */
export async function lastManifestLines(out: string): Promise<Map<string, ManifestLine>> {
  const dir = path.join(out, '.hiksync', 'manifests');
  const byId = new Map<string, ManifestLine>();
  for (const f of await fs.readdir(dir).catch(() => [] as string[])) {
    if (!f.endsWith('.jsonl')) continue;
    for (const line of (await fs.readFile(path.join(dir, f), 'utf8')).split('\n')) {
      let e: Partial<ManifestLine> & { removed?: boolean };
      try {
        e = JSON.parse(line) as typeof e;
      } catch {
        continue;
      }
      if (typeof e.id !== 'string') continue;
      if (e.removed) byId.delete(e.id);
      else if (typeof e.output === 'string' && typeof e.size === 'number' && typeof e.status === 'string') {
        byId.set(e.id, e as ManifestLine);
      }
    }
  }
  return byId;
}

/** The live 'done' lines: id -> line. */
export async function doneManifestLines(out: string): Promise<Map<string, ManifestLine>> {
  return new Map([...(await lastManifestLines(out))].filter(([, e]) => e.status === 'done'));
}
