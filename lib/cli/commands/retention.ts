/**
 * `hiksync retention`: apply RETENTION_DAYS now, outside a run (a run applies it after each complete pass).
 * Deletes only files hiksync created (listed in the manifests), by recording time, with the safety valves of
 * lib/pipeline/retention.ts; `--force` overrides them, `--dry-run` only reports.
 */
import { Command, Option } from 'clipanion';
import type { RawSettings } from '../../config.js';
import { createLogger } from '../../log.js';
import { acquireLock } from '../../ops/lock.js';
import { shardOf } from '../../ops/shard.js';
import { Manifest } from '../../pipeline/manifest.js';
import { applyRetention, planRetention } from '../../pipeline/retention.js';
import { formatBytes } from '../../pipeline/summary.js';
import { cameraNowSec } from '../../time.js';
import { ExitCode } from '../../errors.js';
import { BaseCommand } from '../base.js';
import {
  cameraTranslationOption,
  cameraTzOption,
  jsonOption,
  lockFileOption,
  logFormatOption,
  logLevelOption,
  outputOption,
  retentionDaysOption,
  shardOption,
} from '../options.js';

interface CameraRetention {
  camera: string;
  tag: string;
  deleted: number;
  bytes: number;
  missing: number;
  failed: number;
  keptImplausible: number;
  blocked?: string;
}

export class RetentionCommand extends BaseCommand {
  static override paths = [['retention']];
  static override usage = Command.Usage({
    description: 'Delete outputs older than RETENTION_DAYS (only files hiksync created)',
    details: `
      Goes through the manifest of every camera of this shard and deletes the outputs whose recording ended more
      than RETENTION_DAYS ago (camera-local time, see CAMERA_TZ). Files hiksync did not create are never touched,
      and recordings with implausible dates (camera clock reset to 1970/2000) are kept.

      Nothing is deleted for a camera when that would remove more than RETENTION_MAX_SHARE (default 0.5) of its
      files, or when its newest recording lies in the future (wrong clock or CAMERA_TZ); \`--force\` overrides both,
      e.g. once for the first run on an archive older than the retention period. Takes the lock first, so it never
      runs at the same time as a pass (exit 75 while one holds it: try again after it); \`--dry-run\` only reads
      and needs no lock.
    `,
    examples: [
      ['See what would be deleted', '$0 retention --dry-run'],
      ['Keep 30 days, JSON report', '$0 retention --retention-days 30 --json'],
      ['First clean-up of an old archive', '$0 retention --force'],
    ],
  });

  output = outputOption();
  retentionDays = retentionDaysOption();
  cameraTz = cameraTzOption();
  cameraTranslation = cameraTranslationOption();
  shard = shardOption();
  lockFile = lockFileOption();
  logFormat = logFormatOption();
  logLevel = logLevelOption();
  json = jsonOption();
  dryRun = Option.Boolean('--dry-run', false, { description: 'Only report what would be deleted' });
  force = Option.Boolean('--force', false, { description: 'Delete even when a safety valve would stop it' });

  protected override settings(): RawSettings {
    return {
      outputDir: this.output,
      retentionDays: this.retentionDays,
      cameraTz: this.cameraTz,
      cameraTranslation: this.cameraTranslation,
      shard: this.shard,
      lockFile: this.lockFile,
      logFormat: this.logFormat,
      logLevel: this.logLevel,
    };
  }

  async execute(): Promise<number> {
    const cfg = this.config();
    const log = createLogger({ format: cfg.logFormat, level: cfg.logLevel }, this.context.stderr);
    for (const notice of cfg.notices) log.info(notice);
    const results: CameraRetention[] = [];
    if (cfg.retentionDays === 0) {
      log.info('RETENTION_DAYS is 0: keeping everything');
    } else {
      // A dry run only reads the manifests (a torn last line is ignored on load), so it never waits for a pass.
      const lock = this.dryRun
        ? undefined
        : await acquireLock(cfg.lockFile, {
            onLost: (err) => log.error(`lost the lock ${cfg.lockFile} while deleting: ${err.message}`),
          });
      if (lock?.warning) log.warn(lock.warning);
      try {
        const cameras = (await Manifest.listCameras(cfg.stateDir)).filter(
          (c) => cfg.shard.count <= 1 || shardOf(c, cfg.shard.count) === cfg.shard.index,
        );
        const nowCameraSec = cameraNowSec(cfg.cameraTz, Date.now());
        for (const camera of cameras) {
          const tag = cfg.cameraTranslation.get(camera) ?? camera;
          const manifest = await Manifest.open(cfg.stateDir, camera);
          const plan = planRetention(manifest.entries(), {
            retentionDays: cfg.retentionDays,
            nowCameraSec,
            maxShare: cfg.retentionMaxShare,
            force: this.force,
          });
          const store = {
            entries: () => manifest.entries(),
            remove: (id: string) => manifest.remove(id),
            flush: () => manifest.flush({ durable: true }),
          };
          const applied = await applyRetention(cfg.outputDir, store, plan, { dryRun: this.dryRun });
          const r: CameraRetention = { camera, tag, ...applied, keptImplausible: plan.keptImplausible };
          if (plan.blocked) {
            r.blocked = plan.blocked;
            // Said once: the human report on stdout carries it ("BLOCKED: ..."); a JSON report is for machines, so
            // then the log tells the person.
            if (this.json) log.warn(`${tag}: retention deleted nothing: ${plan.blocked}`);
          }
          results.push(r);
        }
      } finally {
        await lock?.release();
      }
    }

    const problems = results.some((r) => r.blocked !== undefined || r.failed > 0);
    if (this.json) {
      this.context.stdout.write(
        JSON.stringify(
          { dryRun: this.dryRun, retentionDays: cfg.retentionDays, force: this.force, cameras: results },
          null,
          2,
        ) + '\n',
      );
    } else {
      const verb = this.dryRun ? 'would delete' : 'deleted';
      for (const r of results) {
        const extra = [
          r.missing ? `${r.missing} already gone` : '',
          r.failed ? `${r.failed} could not be deleted` : '',
          r.keptImplausible ? `${r.keptImplausible} with implausible dates kept` : '',
          r.blocked ? `BLOCKED: ${r.blocked}` : '',
        ].filter(Boolean);
        this.context.stdout.write(
          `${r.tag}: ${verb} ${r.deleted} files (${formatBytes(r.bytes)})${extra.length ? `; ${extra.join('; ')}` : ''}\n`,
        );
      }
      if (results.length === 0 && cfg.retentionDays > 0)
        this.context.stdout.write(`no manifests in ${cfg.stateDir}: nothing hiksync created to delete\n`);
    }
    return problems ? ExitCode.SOME_FAILED : ExitCode.OK;
  }
}
