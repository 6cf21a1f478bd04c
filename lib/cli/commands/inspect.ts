/**
 * `hiksync inspect <camera folder>`: what is in one camera folder (the storage layout, its index files, datadirs and
 * hiv blocks), and with `--bundle FILE` a small archive of its index files for a bug report (lib/inspect/bundle.ts).
 */
import { Command, Option, UsageError } from 'clipanion';
import type { RawSettings } from '../../config.js';
import { writeBundle, MEDIA_HEAD_BYTES, MEDIA_HEAD_FILES, type BundleResult } from '../../inspect/bundle.js';
import { inspectLayout, type CameraLayout } from '../../inspect/layout.js';
import { createShareIo } from '../../share-io.js';
import { formatBytes } from '../../pipeline/summary.js';
import { BaseCommand } from '../base.js';
import { jsonOption } from '../options.js';

export class InspectCommand extends BaseCommand {
  static override paths = [['inspect']];
  static override usage = Command.Usage({
    description: 'Show the storage layout of one camera folder, or bundle its index files for a bug report',
    details: `
      Lists the camera folder and tells which layout it has: the binary index (index00.bin), the SQLite index of
      firmware 5.5+ (record_db_index00, ...), a DVR/NVR disk (HIKBTREE), or one hiksync does not know; with its
      datadirs, index files and hiv blocks. Reads names, sizes and a few header bytes only.

      \`--bundle FILE\` writes a .tar.gz to attach to a bug report: the index files (binary and SQLite with their
      journal and WAL files, and info.bin: times and offsets, no pictures or video), a listing of the folder with
      sizes and mtimes, and the schema and row count of every table of every SQLite index. README.txt and
      MANIFEST.txt inside say exactly what it holds. No byte of a video or picture block goes in unless
      \`--with-media-heads\` adds the first ${MEDIA_HEAD_BYTES / 1024} KiB of the first ${MEDIA_HEAD_FILES} hiv*.mp4 files. The file must
      not exist yet and may not be inside the camera folder (the share is only read). Exit 66 when the camera
      folder cannot be read, 73 when the bundle cannot be made as asked (file exists, inside the camera folder,
      over a size cap).
    `,
    examples: [
      ['What layout does this camera write?', '$0 inspect /volume1/cameras/Camera-Tuin'],
      ['Make a bundle for a bug report', '$0 inspect /volume1/cameras/Camera-Tuin --bundle hiksync-bundle.tar.gz'],
      [
        'Include the start of three video blocks too',
        '$0 inspect /input/Camera-Tuin --bundle bundle.tar.gz --with-media-heads',
      ],
    ],
  });

  folder = Option.String({ name: 'camera folder', required: true });
  bundle = Option.String('--bundle', {
    description: 'Write a .tar.gz of the index files, listing and SQLite schemas to FILE (for a bug report)',
  });
  withMediaHeads = Option.Boolean('--with-media-heads', false, {
    description: `With --bundle: also the first ${MEDIA_HEAD_BYTES / 1024} KiB of the first ${MEDIA_HEAD_FILES} hiv*.mp4 files (real video)`,
  });
  json = jsonOption();

  protected override settings(): RawSettings {
    return {};
  }

  async execute(): Promise<number> {
    if (this.withMediaHeads && this.bundle === undefined)
      throw new UsageError('--with-media-heads adds to a bundle: give --bundle FILE too');
    if (this.bundle === '') throw new UsageError('--bundle needs a file name');
    const cfg = this.config();
    const io = createShareIo(cfg.shareTimeoutSec * 1000);
    if (this.bundle === undefined) {
      const layout = await inspectLayout(this.folder, io);
      if (this.json) this.context.stdout.write(JSON.stringify(layout, null, 2) + '\n');
      else this.context.stdout.write(describeLayout(layout, this.folder));
      return 0;
    }
    const result = await writeBundle(this.folder, this.bundle, {
      io,
      withMediaHeads: this.withMediaHeads,
      version: this.cli.binaryVersion ?? '',
    });
    if (this.json) {
      const { layout, ...rest } = result;
      this.context.stdout.write(JSON.stringify({ ...rest, layout: layout.label }, null, 2) + '\n');
    } else this.context.stdout.write(describeBundle(result));
    return 0;
  }
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** What `inspect` prints without --bundle. */
export function describeLayout(layout: CameraLayout, folder: string): string {
  const lines = [`${layout.camera}: layout ${layout.label}`];
  if (layout.infoBinDatadirs !== undefined) lines.push(`  info.bin: ${plural(layout.infoBinDatadirs, 'datadir')}`);
  for (const f of layout.folders) {
    const parts = [...f.binaryIndexes, ...f.sqliteFiles, ...f.dvrFiles];
    const hiv = `${plural(f.hivVideos, 'hiv .mp4 block')}, ${plural(f.hivPictures, 'hiv .pic block')}`;
    lines.push(
      `  ${f.path === '.' ? '(camera folder)' : f.path}: ${parts.length ? parts.join(', ') + '; ' : ''}${hiv}`,
    );
    if (f.notSqlite.length) lines.push(`    not SQLite despite the name: ${f.notSqlite.join(', ')}`);
  }
  if (layout.folders.length === 0) lines.push('  no index file, DVR file or hiv block found');
  const files = layout.entries.filter((e) => e.type === 'file').length;
  lines.push(
    `  listed: ${plural(files, 'file')}, ${plural(layout.entries.length - files, 'other entry', 'other entries')}`,
  );
  if (layout.truncated) lines.push(`  ${layout.truncated}`);
  for (const p of layout.problems) lines.push(`  problem: ${p}`);
  if (layout.kinds.length !== 1 || layout.kinds[0] !== 'binary-index')
    lines.push(
      `hiksync may not read this layout. To report it: hiksync inspect ${JSON.stringify(folder)} --bundle hiksync-bundle.tar.gz ` +
        '(index files and a listing, no video) and attach the file to an issue',
    );
  return lines.join('\n') + '\n';
}

/** The summary on stdout after a bundle was written: what it holds, and what it does not. */
export function describeBundle(r: BundleResult): string {
  const copies = r.entries.filter((e) => e.kind === 'index');
  const heads = r.entries.filter((e) => e.kind === 'media-head');
  const copiedBytes = copies.reduce((n, e) => n + e.size, 0);
  const lines = [
    `bundle written: ${r.file} (${formatBytes(r.archiveBytes)}, ${plural(r.entries.length, 'file')})`,
    `  layout: ${r.layout.label}`,
    `  index files: ${copies.length ? copies.map((e) => e.source).join(', ') : 'none found'} (${formatBytes(copiedBytes)} before compression)`,
    `  SQLite schemas and row counts: ${r.sqlite.length ? r.sqlite.map((s) => s.file).join(', ') : 'none'}`,
    `  listing: ${plural(r.layout.entries.length, 'entry', 'entries')} with sizes and mtimes`,
    heads.length
      ? `  media heads (real video): first ${MEDIA_HEAD_BYTES / 1024} KiB of ${heads.map((e) => e.source).join(', ')}`
      : '  no video or picture bytes (--with-media-heads adds the first 64 KiB of 3 hiv*.mp4 files)',
  ];
  for (const n of r.notes) lines.push(`  note: ${n}`);
  lines.push('  README.txt and MANIFEST.txt inside list every file; look through it before attaching it to an issue');
  return lines.join('\n') + '\n';
}
