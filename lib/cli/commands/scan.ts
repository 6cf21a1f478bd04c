/**
 * `hiksync scan`: read every camera's index tables and report what is there (no media bytes read, nothing written).
 */
import { Command } from 'clipanion';
import type { RawSettings } from '../../config.js';
import { discoverCameras, scanCamera } from '../../hikvision/source.js';
import { createShareIo } from '../../share-io.js';
import type { Recording } from '../../hikvision/types.js';
import { fmtCounts, formatBytes } from '../../pipeline/summary.js';
import { inspectPointer, selectCameras } from '../../pipeline/cameras.js';
import { formatStamp, naturalNames } from '../../pipeline/naming.js';
import { BaseCommand } from '../base.js';
import { cameraTranslationOption, containerOption, inputOption, jsonOption, shardOption } from '../options.js';

export class ScanCommand extends BaseCommand {
  static override paths = [['scan']];
  static override usage = Command.Usage({
    description: 'List the real recordings and pictures in every camera folder',
    details: `
      Reads the index tables (index00.bin / index00p.bin, or the SQLite databases record_db_index00 /
      event_db_index00 of firmware 5.5+, falling back to their 01 copies) of every datadir of every camera folder
      under the input directory, applies the ring-buffer validity rules (stale slots and rows, the open segment,
      ranges outside the hiv files) and prints, per camera, what is there and what was skipped and why.
      Nothing is written and no media bytes are read. \`--json\` prints the full work list, with the names \`run\`
      would give (\`--container mov\` plans .mov names).
    `,
    examples: [
      ['Summarise a NAS share', '$0 scan --input /volume1/cameras'],
      ['Print every recording as JSON', '$0 scan --input /input --json'],
    ],
  });

  input = inputOption();
  shard = shardOption();
  cameraTranslation = cameraTranslationOption();
  container = containerOption();
  json = jsonOption();

  protected override settings(): RawSettings {
    return {
      inputDir: this.input,
      shard: this.shard,
      cameraTranslation: this.cameraTranslation,
      container: this.container,
    };
  }

  async execute(): Promise<number> {
    const cfg = this.config();
    // stdout is the listing (and may be JSON): notes for the user go to stderr.
    for (const notice of cfg.notices) this.context.stderr.write(`hiksync: ${notice}\n`);
    const share = () => createShareIo(cfg.shareTimeoutSec * 1000);
    const { cameras, notices } = selectCameras(cfg.inputDir, await discoverCameras(cfg.inputDir, share()), {
      shard: cfg.shard,
      translation: cfg.cameraTranslation,
    });
    for (const notice of notices) this.context.stderr.write(`hiksync: ${notice}\n`);
    const out: unknown[] = [];
    let failed = false;
    for (const cam of cameras) {
      const scan = await scanCamera(cam, { io: share() });
      const tag = cfg.cameraTranslation.get(cam.name) ?? cam.name;
      const names = new Map<Recording, string>();
      for (const [output, rec] of naturalNames(tag, scan.recordings, cfg.container)) names.set(rec, output);
      if (scan.errors.length) failed = true;
      const videos = scan.recordings.filter((r) => r.kind === 'video');
      const pictures = scan.recordings.filter((r) => r.kind === 'picture');
      const bytes = scan.recordings.reduce((n, r) => n + (r.endOffset - r.startOffset), 0);
      const first = scan.recordings[0];
      const last = scan.recordings.reduce<Recording | undefined>(
        (m, r) => (!m || r.end.sec > m.end.sec ? r : m),
        undefined,
      );
      if (this.json) {
        out.push({
          camera: cam.name,
          tag,
          path: cam.path,
          datadirs: scan.datadirs,
          counts: { videos: videos.length, pictures: pictures.length, bytes },
          first: first ? formatStamp(first.start.sec) : null,
          last: last ? formatStamp(last.end.sec) : null,
          skipped: scan.skipped,
          notes: scan.notes ?? [],
          errors: scan.errors,
          hint: inspectPointer(scan) ?? null,
          recordings: scan.recordings.map((r) => ({ ...r, output: names.get(r) })),
        });
        continue;
      }
      const versions =
        [
          ...new Set(
            scan.datadirs
              .map((d) => (d.videoFormat === 'sqlite' ? 'SQLite' : d.version))
              .filter((v) => v !== undefined),
          ),
        ].join('/') || '?';
      this.context.stdout.write(
        `${tag}${tag !== cam.name ? ` (${cam.name})` : ''}: ${scan.datadirs.length} datadir(s), index version ${versions}\n` +
          `  ${videos.length} recordings, ${pictures.length} pictures, ${formatBytes(bytes)}` +
          (first && last ? `, ${formatStamp(first.start.sec)} .. ${formatStamp(last.end.sec)} (camera time)` : '') +
          '\n' +
          `  skipped: ${fmtCounts(scan.skipped)}` +
          (scan.skipped.empty ? ` (and ${scan.skipped.empty} never-used index slots)` : '') +
          '\n',
      );
      for (const n of scan.notes ?? []) this.context.stdout.write(`  note: ${n}\n`);
      for (const e of scan.errors) this.context.stdout.write(`  error: ${e}\n`);
      const pointer = inspectPointer(scan);
      if (pointer) this.context.stdout.write(`  hint: ${pointer}\n`);
    }
    if (this.json) this.context.stdout.write(JSON.stringify({ input: cfg.inputDir, cameras: out }, null, 2) + '\n');
    else if (cameras.length === 0) this.context.stdout.write(`no camera folders found in ${cfg.inputDir}\n`);
    return failed ? 1 : 0;
  }
}
