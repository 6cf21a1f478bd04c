/**
 * The images of the container test: the base (the official node:22-bookworm-slim when the engine has it, else an
 * equivalent built by tools/container/base-image.sh and kept in the engine as a cache) and hiksync's image, built
 * from the project's Dockerfile with the legacy builder as a user behind this machine's proxy would build it.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { aptInstall, docker, NoEngineError, runLogged, STATE_DIR, tail, type Engine } from './engine.js';

export const OFFICIAL_BASE = 'node:22-bookworm-slim';
/** What tools/container/base-image.sh tags by default; `localhost/` so that no engine ever tries Docker Hub for it. */
export const LOCAL_BASE = 'localhost/node:22-bookworm-slim';
export const TEST_IMAGE = 'hiksync:container-test';
/** Where a TLS-inspecting proxy's CA certificates live on Debian (update-ca-certificates' input). */
export const HOST_CA_DIR = '/usr/local/share/ca-certificates';
const PROXY_VARS = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'FTP_PROXY', 'ALL_PROXY'];

/** A cached local base older than this is built again: it carries Debian's and Node's security fixes of its day. */
const MAX_BASE_AGE_DAYS = 30;

async function ageDays(engine: Engine, image: string): Promise<number | undefined> {
  const r = await docker(engine, ['image', 'inspect', '--format', '{{.Created}}', image]);
  return r.code === 0 ? (Date.now() - Date.parse(r.stdout.trim())) / 86_400_000 : undefined;
}

async function hasImage(engine: Engine, image: string): Promise<boolean> {
  return (await docker(engine, ['image', 'inspect', '--format', '{{.Id}}', image])).code === 0;
}

export interface BaseImage {
  image: string;
  how: string;
  seconds: number;
}

/**
 * HIKSYNC_NODE_IMAGE names a base to use as it is. Otherwise the official image when present, then the local
 * equivalent when an earlier run built it in the last 30 days, else it is built now (root only: debootstrap, chroot).
 */
export async function ensureBaseImage(engine: Engine, root: string, log: (l: string) => void): Promise<BaseImage> {
  const chosen = process.env.HIKSYNC_NODE_IMAGE;
  if (chosen) {
    if (!(await hasImage(engine, chosen))) throw new Error(`HIKSYNC_NODE_IMAGE=${chosen} is not in the engine`);
    return { image: chosen, how: 'HIKSYNC_NODE_IMAGE', seconds: 0 };
  }
  if (await hasImage(engine, OFFICIAL_BASE)) return { image: OFFICIAL_BASE, how: 'official, present', seconds: 0 };
  const age = await ageDays(engine, LOCAL_BASE);
  if (age !== undefined && age <= MAX_BASE_AGE_DAYS) {
    return { image: LOCAL_BASE, how: `local equivalent, cached (${age.toFixed(0)} days old)`, seconds: 0 };
  }
  if (process.getuid?.() !== 0) {
    throw new NoEngineError(`neither ${OFFICIAL_BASE} nor ${LOCAL_BASE} is in the engine, and only root can build one`);
  }
  const t0 = Date.now();
  const logFile = path.join(STATE_DIR, 'base-image.log');
  if ((await runLogged('sh', ['-c', 'command -v debootstrap'], logFile)) !== 0) {
    log('installing debootstrap (apt-get)');
    await aptInstall(['debootstrap'], logFile);
  }
  log(`building ${LOCAL_BASE} (tools/container/base-image.sh, log ${logFile})`);
  const script = path.join(root, 'tools', 'container', 'base-image.sh');
  const code = await runLogged(script, [LOCAL_BASE], logFile, engine.env);
  if (code !== 0) throw new Error(`tools/container/base-image.sh failed (exit ${code}):\n${tail(logFile)}`);
  for (const line of tail(logFile, 6).split('\n')) if (line.startsWith('base-image:')) log(line);
  return { image: LOCAL_BASE, how: 'local equivalent, built now', seconds: (Date.now() - t0) / 1000 };
}

/** The host's extra CA certificates (PEM), for a build behind a TLS-inspecting proxy; '' when there are none. */
export function hostExtraCaCerts(dir = HOST_CA_DIR): string {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.crt'));
  } catch {
    return '';
  }
  return names
    .sort()
    .map((n) => readFileSync(path.join(dir, n), 'utf8').trim())
    .filter(Boolean)
    .join('\n');
}

export interface Build {
  seconds: number;
  /** The CA text passed as EXTRA_CA_CERTS ('' when none). */
  extraCa: string;
  logFile: string;
}

/** Builds the project's Dockerfile as a user would: legacy builder, the base and the proxy's CA as build args. */
export async function buildImage(engine: Engine, root: string, baseImage: string): Promise<Build> {
  const logFile = path.join(STATE_DIR, 'build.log');
  const extraCa = hostExtraCaCerts();
  const args = ['build', '--network', 'host', '--tag', TEST_IMAGE, '--build-arg', `NODE_IMAGE=${baseImage}`];
  if (extraCa) args.push('--build-arg', `EXTRA_CA_CERTS=${extraCa}`);
  // Docker's predefined proxy arguments, from this environment (NAME alone: the value comes from the env).
  for (const name of [...PROXY_VARS, ...PROXY_VARS.map((v) => v.toLowerCase())]) {
    if (process.env[name]) args.push('--build-arg', name);
  }
  args.push(root);
  const t0 = Date.now();
  writeFileSync(logFile, '');
  const code = await runLogged('docker', args, logFile, { ...engine.env, DOCKER_BUILDKIT: '0' });
  if (code !== 0) throw new Error(`docker build failed (exit ${code}):\n${tail(logFile, 40)}`);
  return { seconds: (Date.now() - t0) / 1000, extraCa, logFile };
}

/** Dangling images of earlier builds older than a day: the cache stays warm, the disk does not fill. */
export async function pruneOldImages(engine: Engine): Promise<void> {
  await docker(engine, ['image', 'prune', '--force', '--filter', 'until=24h']);
}
