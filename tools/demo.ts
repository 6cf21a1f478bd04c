/**
 * `npm run demo`: write a small synthetic camera share (two cameras, one of each index kind: H.265 + AAC with the
 * binary index00.bin of older firmware, H.264 + G.711 with the SQLite record database of firmware 5.5+; pictures and
 * every ring-buffer trap), run the built `hiksync run` on it as a user would, and print where the files are.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { findPackageRoot } from './synthetic/fixtures.js';
import { writeSyntheticShare } from './synthetic/share-writer.js';

const root = findPackageRoot();
const share = path.join(root, 'demo', 'share');
const output = path.join(root, 'demo', 'output');
const cli = path.join(root, 'dist', 'lib', 'cli', 'main.js');

async function main(): Promise<void> {
  await fs.rm(path.join(root, 'demo'), { recursive: true, force: true });
  await fs.mkdir(share, { recursive: true });
  console.log(`Writing a synthetic camera share to ${path.relative(process.cwd(), share) || share} ...`);
  const truth = await writeSyntheticShare({
    root: share,
    seed: 42,
    cameras: [
      { name: 'Camera-Tuin', codec: 'h265', audio: 'aac', datadirs: 2, infoBin: true, events: 24, pictures: 6 },
      {
        name: 'Camera-Oprit',
        codec: 'h264',
        audio: 'alaw',
        sdLayout: true,
        events: 12,
        pictures: 4,
        indexFormat: 'sqlite',
      },
    ],
  });
  const expected = truth.cameras.reduce((n, c) => n + c.recordings.length, 0);
  console.log(
    `  ${truth.cameras.length} cameras (${truth.cameras.map((c) => `${c.name}: ${c.indexFormat === 'sqlite' ? 'SQLite record_db_index00' : 'index00.bin'}`).join(', ')}), ` +
      `${expected} real recordings and pictures (plus stale and open slots to ignore)\n`,
  );

  const args = [
    cli,
    'run',
    '--input',
    share,
    '--output',
    output,
    '--retention-days',
    '0',
    '--camera-translation',
    'Camera-Tuin:garden,Camera-Oprit:driveway',
  ];
  console.log(
    `$ hiksync ${args
      .slice(1)
      .map((a) => (a.includes(' ') ? JSON.stringify(a) : path.isAbsolute(a) ? path.relative(process.cwd(), a) : a))
      .join(' ')}`,
  );
  const run = spawnSync(process.execPath, args, {
    stdio: 'inherit',
    env: { ...process.env, LOG_FORMAT: process.env.LOG_FORMAT ?? 'pretty' },
  });
  if (run.status !== 0) {
    console.error(`hiksync run exited with ${run.status}`);
    process.exit(run.status ?? 1);
  }

  console.log('\nYour files:');
  for (const tag of ['garden', 'driveway']) {
    for (const folder of ['video', 'images']) {
      const dir = path.join(output, tag, folder);
      const names = (await fs.readdir(dir).catch(() => [] as string[])).sort();
      console.log(
        `  ${path.relative(process.cwd(), dir)}/  ${names.length} file(s)${names.length ? `, e.g. ${names[0]}` : ''}`,
      );
    }
  }
  console.log('\nOpen any .mp4 in a browser or player, or check one with: ffprobe <file>');
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
