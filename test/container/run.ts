/**
 * `npm run test:container`: the image on a real Docker engine. Starts an engine (see engine.ts), makes sure the base
 * image is there (see image.ts), builds the project's Dockerfile, runs the checks (checks.ts) against synthetic
 * shares, and ends with `N passed, N failed`, the line .ci/run adds to its totals.
 *
 * There is no silent skip: without an engine (not root, no docker) the run counts as failed, unless
 * HIKSYNC_SKIP_CONTAINER=1 says to skip, which is printed as SKIPPED in the counts line (as are the checks
 * HIKSYNC_CONTAINER_CHECKS=<regex> leaves out).
 * It cleans up after itself (its containers, its folders, the dockerd it started), also after a failure or ^C, so a
 * second run starts from the same place; the base image and the build cache stay in the engine on purpose.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checks, LABEL, writeShares, type Shares } from './checks.js';
import { docker, NoEngineError, startEngine, type Engine } from './engine.js';
import { buildImage, ensureBaseImage, pruneOldImages, TEST_IMAGE } from './image.js';
import { Report } from './report.js';

const ROOT = path.resolve(fileURLToPath(import.meta.url), '../../..');

async function removeTestContainers(engine: Engine): Promise<void> {
  const ids = (await docker(engine, ['ps', '--all', '--quiet', '--filter', `label=${LABEL}`])).stdout.split(/\s+/);
  const live = ids.filter(Boolean);
  if (live.length > 0) await docker(engine, ['rm', '--force', '--volumes', ...live]);
}

async function main(): Promise<number> {
  const report = new Report();
  const log = (line: string) => report.comment(line);
  const started = Date.now();
  const phases: string[] = [];
  const phase = (name: string, seconds: number, how = '') =>
    phases.push(`${name} ${seconds.toFixed(0)} s${how ? ` (${how})` : ''}`);

  if (process.env.HIKSYNC_SKIP_CONTAINER === '1') {
    report.skip('container test', 'HIKSYNC_SKIP_CONTAINER=1: the image was NOT built or run');
    report.end();
    return 0;
  }

  let engine: Engine | undefined;
  let work: string | undefined;
  let interrupted = false;
  const cleanup = async () => {
    if (engine) {
      await removeTestContainers(engine).catch(() => undefined);
      await engine.stop().catch((err: unknown) => log(`stopping the engine: ${String(err)}`));
      engine = undefined;
    }
    if (work) await fs.rm(work, { recursive: true, force: true }).catch(() => undefined);
    work = undefined;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    let t0 = Date.now();
    try {
      engine = await startEngine(log);
    } catch (err) {
      if (!(err instanceof NoEngineError)) throw err;
      report.fail(
        'a Docker engine',
        `${err.message}\nThe container test did not run: this counts as a failure. Set HIKSYNC_SKIP_CONTAINER=1 to skip it on purpose.`,
      );
      report.end();
      return 1;
    }
    log(`engine: ${engine.description}`);
    if (engine.installSeconds > 0) phase('install docker.io', engine.installSeconds);
    phase('engine start', (Date.now() - t0) / 1000 - engine.installSeconds);
    await removeTestContainers(engine);

    work = await fs.mkdtemp(path.join(os.tmpdir(), 'hiksync-ct-'));
    await fs.chmod(work, 0o755);
    // The shares are written while the images build: neither needs the other.
    const sharesStarted = Date.now();
    const shares: Promise<Shares> = writeShares(work);
    shares.catch(() => undefined);

    t0 = Date.now();
    const base = await ensureBaseImage(engine, ROOT, log);
    phase('base image', (Date.now() - t0) / 1000, `${base.image}, ${base.how}`);
    t0 = Date.now();
    const build = await buildImage(engine, ROOT, base.image);
    phase('docker build', build.seconds, `legacy builder, log ${build.logFile}`);
    const ready = await shares;
    log(`synthetic shares ready ${((Date.now() - sharesStarted) / 1000).toFixed(0)} s after they were started`);

    t0 = Date.now();
    const ctx = { engine, image: TEST_IMAGE, work, shares: ready, extraCa: build.extraCa };
    // HIKSYNC_CONTAINER_CHECKS=<regex>: only the checks whose name matches (while working on one); the others are
    // reported as skipped, so a filtered run never looks complete.
    const only = process.env.HIKSYNC_CONTAINER_CHECKS ? new RegExp(process.env.HIKSYNC_CONTAINER_CHECKS) : undefined;
    for (const check of checks(ctx)) {
      if (interrupted) break;
      if (only && !only.test(check.name)) report.skip(check.name, 'not selected by HIKSYNC_CONTAINER_CHECKS');
      else await report.check(check);
    }
    phase('checks', (Date.now() - t0) / 1000);
    await pruneOldImages(engine);
  } catch (err) {
    report.fail('container test set-up', err instanceof Error ? (err.stack ?? err.message) : String(err));
  } finally {
    const t0 = Date.now();
    await cleanup();
    phase('clean-up', (Date.now() - t0) / 1000);
  }
  log(`time: ${phases.join(', ')}; total ${((Date.now() - started) / 1000).toFixed(0)} s`);
  report.end();
  return report.failed > 0 || report.passed === 0 ? 1 : 0;
}

process.exitCode = await main();
