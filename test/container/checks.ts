/**
 * What the container test asserts about the built image, run on a real engine against synthetic camera shares:
 * each check is one way a NAS user runs the image. Outputs are bind mounts of host folders, so ownership, partial
 * files, the lock and the status file are read from the host, as a user would see them.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { mp4StructureProblem } from '../../lib/media/probe.js';
import type { StatusFile } from '../../lib/ops/status.js';
import type { PassSummary } from '../../lib/pipeline/summary.js';
import { writeSyntheticShare, type GroundTruth, type SyntheticCamera } from '../../tools/synthetic/share-writer.js';
import { doneEntries, isCompleteJpeg, listOutputTree } from '../helpers/output-tree.js';
import { docker, type Engine, type RunResult } from './engine.js';
import type { Assert, Check } from './report.js';

const ROOT = path.resolve(fileURLToPath(import.meta.url), '../../..');
/** Every container this test creates carries this label, so a later run can remove what a killed run left. */
export const LABEL = 'hiksync-container-test';
/** The image's `node` user, which hiksync runs as when started as root without PUID/PGID. */
const NODE_ID = 1000;
const OTHER_UID = 2000;
const OTHER_GID = 3000;
/** Generous deadlines for events polled through `docker inspect` (a loaded CI machine is slow). */
const HEALTH_DEADLINE_MS = 120_000;
const PASS_DEADLINE_MS = 120_000;
const STOP_TIMEOUT_S = 30;

export interface Share {
  dir: string;
  truth: GroundTruth;
}

export interface Shares {
  /** Two small cameras (NAS layout with 2 datadirs, SD-card layout): quick passes. */
  small: Share;
  /** One camera with large frames and 22 recordings: a pass of several seconds, to stop in the middle. */
  big: Share;
}

export interface Context {
  engine: Engine;
  image: string;
  /** Host folder for shares and outputs (mode 0755 so the container users can reach their mounts). */
  work: string;
  shares: Shares;
  /** The CA text passed as EXTRA_CA_CERTS to the build ('' when none). */
  extraCa: string;
}

const SMALL_CAMERAS: SyntheticCamera[] = [
  { name: 'Camera-Tuin', codec: 'h265', audio: 'aac', datadirs: 2, infoBin: true, events: 8, pictures: 3 },
  { name: 'Camera-Oprit', codec: 'h264', audio: 'aac', sdLayout: true, events: 5, pictures: 2 },
];
const TRANSLATION = 'Camera-Tuin:garden,Camera-Oprit:driveway';
const BIG_CAMERA: SyntheticCamera = {
  name: 'cam1',
  codec: 'h264',
  audio: 'aac',
  events: 60,
  pictures: 4,
  fixture: 'large',
  avFiles: 8,
  fileSize: 16 * 1024 * 1024,
};

async function writeShare(dir: string, seed: number, cameras: SyntheticCamera[]): Promise<Share> {
  const truth = await writeSyntheticShare({ root: dir, seed, cameras });
  await fs.chmod(dir, 0o755);
  return { dir, truth };
}

export async function writeShares(work: string): Promise<Shares> {
  const [small, big] = await Promise.all([
    writeShare(path.join(work, 'share-small'), 11, SMALL_CAMERAS),
    writeShare(path.join(work, 'share-big'), 7, [BIG_CAMERA]),
  ]);
  return { small, big };
}

// ---- helpers --------------------------------------------------------------------------------------------------

interface Mount {
  host: string;
  container: string;
  readOnly?: boolean;
}

interface RunSpec {
  env?: Record<string, string>;
  mounts: Mount[];
  /** `docker run --user`. */
  user?: string;
  /** Arguments after the image name (they go to `hiksync run`). */
  args?: string[];
  entrypoint?: string;
  /** Extra `docker run` options. */
  options?: string[];
}

function runArgs(ctx: Context, spec: RunSpec): string[] {
  const args = ['--network', 'none', '--label', LABEL];
  for (const [k, v] of Object.entries({ RETENTION_DAYS: '0', WORKERS: '2', ...spec.env })) args.push('-e', `${k}=${v}`);
  for (const m of spec.mounts) args.push('-v', `${m.host}:${m.container}${m.readOnly === false ? '' : ':ro'}`);
  if (spec.user !== undefined) args.push('--user', spec.user);
  if (spec.entrypoint !== undefined) args.push('--entrypoint', spec.entrypoint);
  args.push(...(spec.options ?? []), ctx.image, ...(spec.args ?? []));
  return args;
}

/** `docker run --rm` in the foreground: the container's exit code and its stdout/stderr. */
async function runOnce(ctx: Context, spec: RunSpec): Promise<RunResult> {
  return docker(ctx.engine, ['run', '--rm', ...runArgs(ctx, spec)], { timeoutMs: PASS_DEADLINE_MS });
}

/** `docker run -d`: the container's name. */
async function runDetached(ctx: Context, name: string, spec: RunSpec): Promise<string> {
  const r = await docker(ctx.engine, ['run', '-d', '--name', name, ...runArgs(ctx, spec)]);
  if (r.code !== 0) throw new Error(`docker run -d ${name} failed: ${r.stderr.trim()}`);
  return name;
}

async function remove(ctx: Context, name: string): Promise<void> {
  await docker(ctx.engine, ['rm', '--force', '--volumes', name]);
}

async function inspect<T>(ctx: Context, name: string, format: string): Promise<T> {
  const r = await docker(ctx.engine, ['inspect', '--format', `{{json ${format}}}`, name]);
  if (r.code !== 0) throw new Error(`docker inspect ${name}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as T;
}

/** Polls `until` every 200 ms until it returns a value, or fails after `ms` naming `what`. */
async function poll<T>(what: string, ms: number, until: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await until();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms / 1000} s`);
    await sleep(200);
  }
}

let outputs = 0;
/** A fresh output folder owned by uid:gid with `mode`. */
async function outputDir(ctx: Context, uid: number, gid: number, mode = 0o755): Promise<string> {
  const dir = path.join(ctx.work, `out-${++outputs}`);
  await fs.mkdir(dir);
  await fs.chown(dir, uid, gid);
  await fs.chmod(dir, mode);
  return dir;
}

const input = (share: Share): Mount => ({ host: share.dir, container: '/input' });
const output = (dir: string): Mount => ({ host: dir, container: '/output', readOnly: false });

function stderrLines(r: RunResult): string[] {
  return r.stderr.split('\n').filter((l) => l.trim() !== '');
}

/** The last stdout line parsed as `hiksync run --json`'s summary. */
function summaryOf(r: RunResult): PassSummary | undefined {
  const last = r.stdout.trim().split('\n').at(-1);
  try {
    return last ? (JSON.parse(last) as PassSummary) : undefined;
  } catch {
    return undefined;
  }
}

/** Output files per `<tag>/<video|images>` folder that a complete pass writes for these cameras. */
function expectedFolders(share: Share, tagOf: (camera: string) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of share.truth.cameras) {
    for (const r of c.recordings) {
      const key = `${tagOf(c.name)}/${r.kind === 'video' ? 'video' : 'images'}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
  }
  return counts;
}

function countFolders(files: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const f of files) {
    const key = f.split('/').slice(0, 2).join('/');
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

const NAME_RE =
  /^[^/]+\/(video\/\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d-[^/]+\.mp4|images\/\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d-[^/]+\.jpg)$/;

/**
 * The data-safety promise from the outside: only finished outputs under their final names (no partial or
 * temporary file), each MP4 a complete ISO-BMFF file, each JPEG whole, the manifests listing exactly the files.
 */
async function assertSoundTree(a: Assert, out: string): Promise<string[]> {
  const files = await listOutputTree(out);
  a.is(
    files.filter((f) => !NAME_RE.test(f)),
    [],
    'nothing but finished outputs under their final names',
  );
  for (const f of files) {
    const abs = path.join(out, f);
    if (f.endsWith('.jpg')) a.ok(await isCompleteJpeg(abs), `${f} is a whole JPEG`);
    else if (f.endsWith('.mp4')) a.is(await mp4StructureProblem(abs), null, `${f} is a complete MP4`);
  }
  const done = await doneEntries(out);
  a.is(done.map((e) => e.output).sort(), files, 'the manifests list exactly the files on disk');
  return files;
}

/** Every file and folder under `dir` (the state folder included) whose owner is not uid:gid. */
async function ownedOtherwise(dir: string, uid: number, gid: number): Promise<string[]> {
  const wrong: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const e of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      const st = await fs.lstat(path.join(dir, child));
      if (st.uid !== uid || st.gid !== gid) wrong.push(`${child} ${st.uid}:${st.gid}`);
      if (e.isDirectory()) await walk(child);
    }
  };
  await walk('');
  return wrong;
}

/** Files anywhere under `dir` (the state folder included) that a finished or stopped pass must not leave. */
async function leftovers(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const e of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (/\.(partial|tmp)$|\.partial\./.test(e.name)) found.push(path.relative(dir, path.join(e.parentPath, e.name)));
  }
  return found;
}

async function readStatusFile(out: string): Promise<StatusFile | undefined> {
  try {
    return JSON.parse(await fs.readFile(path.join(out, '.hiksync', 'status.json'), 'utf8')) as StatusFile;
  } catch {
    return undefined;
  }
}

const exists = (p: string) =>
  fs.access(p).then(
    () => true,
    () => false,
  );

// ---- the checks -----------------------------------------------------------------------------------------------

export function checks(ctx: Context): Check[] {
  const { small, big } = ctx.shares;
  const translated = (name: string) =>
    name === 'Camera-Tuin' ? 'garden' : name === 'Camera-Oprit' ? 'driveway' : name;

  return [
    {
      name: 'image: the runtime only (dist/ holds lib and workers; no tools, bench, tests or devDependencies)',
      async run(a) {
        const ls = async (dir: string) => {
          const r = await runOnce(ctx, { mounts: [], entrypoint: 'ls', args: ['-A', dir] });
          a.is(r.code, 0, `ls ${dir} exits 0`);
          return r.stdout.split('\n').filter(Boolean).sort();
        };
        a.is(await ls('/app/dist'), ['lib', 'workers'], 'ls /app/dist');
        a.is(await ls('/app'), ['dist', 'node_modules', 'package-lock.json', 'package.json'], 'ls /app');
        // Every package the lockfile marks dev-only (npm may leave an empty @scope folder: that holds no package).
        const lock = JSON.parse(await fs.readFile(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
          packages: Record<string, { dev?: boolean }>;
        };
        const devOnly = Object.keys(lock.packages).filter(
          (p) => p.startsWith('node_modules/') && lock.packages[p]!.dev,
        );
        const present = await runOnce(ctx, {
          mounts: [],
          entrypoint: 'sh',
          args: ['-c', 'cd /app && for p in "$@"; do [ ! -e "$p/package.json" ] || echo "$p"; done', 'sh', ...devOnly],
        });
        a.is(present.stdout.split('\n').filter(Boolean), [], `none of the ${devOnly.length} dev-only packages`);
        a.ok(devOnly.includes('node_modules/typescript'), 'the lockfile lists typescript as dev-only');
        // Every runtime dependency of package.json is installed (a scoped name lives in its @scope folder).
        const pkg = JSON.parse(await fs.readFile(path.join(ROOT, 'package.json'), 'utf8')) as {
          dependencies: Record<string, string>;
        };
        const deps = Object.keys(pkg.dependencies);
        a.ok(deps.includes('piscina') && deps.includes('clipanion'), 'package.json lists the runtime dependencies');
        const runtime = await ls('/app/node_modules');
        for (const dep of deps) {
          const [scope, name] = dep.startsWith('@') ? dep.split('/') : [undefined, dep];
          const installed = scope ? (await ls(`/app/node_modules/${scope}`)).includes(name) : runtime.includes(dep);
          a.ok(installed, `${dep} is installed`);
        }
      },
    },
    {
      name: 'image: the build arguments stay in the build (no extra CA or proxy in the files, env or history)',
      async run(a) {
        const env = await inspect<string[]>(ctx, ctx.image, '.Config.Env');
        a.is(
          env.filter((e) => /^(NODE_EXTRA_CA_CERTS|EXTRA_CA_CERTS|https?_proxy|HTTPS?_PROXY)=/.test(e)),
          [],
          'no CA or proxy variable in the image env',
        );
        const history = await docker(ctx.engine, ['history', '--no-trunc', '--format', '{{.CreatedBy}}', ctx.image]);
        a.is(history.code, 0, 'docker history exits 0');
        a.ok(!/EXTRA_CA_CERTS|BEGIN CERTIFICATE|_PROXY=/i.test(history.stdout), 'no build argument in the history');
        const caFile = await runOnce(ctx, {
          mounts: [],
          entrypoint: 'test',
          args: ['!', '-e', '/usr/local/share/build-extra-ca.pem'],
        });
        a.is(caFile.code, 0, 'no build CA file (/usr/local/share/build-extra-ca.pem)');
        if (ctx.extraCa) {
          // The base64 body of the proxy's first certificate: nowhere in the image's files.
          const body = ctx.extraCa.split('\n').find((l) => /^[A-Za-z0-9+/]{64}$/.test(l));
          if (body !== undefined) {
            const grep = await runOnce(ctx, {
              mounts: [],
              entrypoint: 'grep',
              args: ['-rlF', '--exclude-dir=proc', '--exclude-dir=sys', '--exclude-dir=dev', body, '/'],
            });
            a.is(grep.stdout.trim(), '', "no file in the image holds the proxy's CA");
          }
          a.note(`built with EXTRA_CA_CERTS from ${ctx.extraCa.split('BEGIN CERTIFICATE').length - 1} certificate(s)`);
        } else a.note('no extra CA on this host: built without EXTRA_CA_CERTS');
      },
    },
    {
      name: 'image: HEALTHCHECK runs `hiksync health`; entrypoint tini -> hiksync run; starts as root only to pick the user',
      async run(a) {
        const cfg = await inspect<{
          Healthcheck?: { Test?: string[] };
          Entrypoint?: string[];
          User?: string;
          Volumes?: Record<string, unknown>;
        }>(ctx, ctx.image, '.Config');
        a.is(cfg.Healthcheck?.Test, ['CMD', 'hiksync', 'health'], 'HEALTHCHECK');
        a.is(cfg.Entrypoint, ['/usr/bin/tini', '--', '/usr/local/bin/hiksync', 'run'], 'ENTRYPOINT');
        a.is(cfg.User ?? '', '', 'no USER (the entrypoint switches users)');
        a.is(Object.keys(cfg.Volumes ?? {}).sort(), ['/input', '/output'], 'VOLUMEs');
      },
    },
    {
      name: 'a bad setting: exit 78 and one line naming it, before anything is written',
      async run(a) {
        const out = await outputDir(ctx, NODE_ID, NODE_ID);
        const r = await runOnce(ctx, { env: { CRON_INTERVAL: '0' }, mounts: [input(small), output(out)] });
        a.is(r.code, 78, 'exit code');
        const lines = stderrLines(r);
        a.is(lines.length, 1, 'one line on stderr');
        a.ok(lines[0]?.includes('CRON_INTERVAL') ?? false, 'the line names CRON_INTERVAL', lines[0]);
        a.is(await fs.readdir(out), [], 'nothing written to the output');
        a.note(lines[0] ?? '');
      },
    },
    {
      name: 'once mode: every recording and picture as MP4/JPEG, exit 0; a second run writes nothing',
      async run(a) {
        const out = await outputDir(ctx, NODE_ID, NODE_ID);
        const spec: RunSpec = {
          env: { RUN_MODE: 'once', CAMERA_TRANSLATION: TRANSLATION },
          mounts: [input(small), output(out)],
          args: ['--json'],
        };
        const r = await runOnce(ctx, spec);
        a.is(r.code, 0, 'exit code');
        const expected = expectedFolders(small, translated);
        const total = Object.values(expected).reduce((s, n) => s + n, 0);
        a.is(summaryOf(r)?.totals.written, total, 'summary: written');
        const files = await assertSoundTree(a, out);
        a.is(countFolders(files), expected, 'files per folder');
        a.is(await ownedOtherwise(out, NODE_ID, NODE_ID), [], 'everything owned by node 1000:1000');
        const again = await runOnce(ctx, spec);
        a.is(again.code, 0, 'second run: exit code');
        a.is(summaryOf(again)?.totals.written, 0, 'second run: written');
        a.is(summaryOf(again)?.totals.already, total, 'second run: already there');
        if (r.code !== 0) a.note(r.stderr.slice(-2000));
      },
    },
    {
      name: 'a root-owned output: exit 77 and one line naming the folder',
      async run(a) {
        const out = await outputDir(ctx, 0, 0);
        const r = await runOnce(ctx, { env: { RUN_MODE: 'once' }, mounts: [input(small), output(out)] });
        a.is(r.code, 77, 'exit code');
        const lines = stderrLines(r).filter((l) => l.startsWith('hiksync:'));
        a.is(lines.length, 1, 'one "hiksync:" line');
        a.ok(lines[0]?.includes('/output') ?? false, 'the line names the output folder', lines[0]);
        a.ok(!/^\s+at /m.test(r.stderr), 'no stack trace', r.stderr);
        a.is(await fs.readdir(out), [], 'nothing written');
        a.note(lines[0] ?? r.stderr);
      },
    },
    {
      name: 'a root-owned output: the exit-77 line names the uid:gid hiksync runs as and the fixes (PUID/PGID, chown)',
      async run(a) {
        const out = await outputDir(ctx, 0, 0);
        const r = await runOnce(ctx, { env: { RUN_MODE: 'once' }, mounts: [input(small), output(out)] });
        a.is(r.code, 77, 'exit code');
        const line = stderrLines(r).find((l) => l.startsWith('hiksync:')) ?? '';
        a.ok(line.includes(`${NODE_ID}:${NODE_ID}`), 'names uid:gid 1000:1000', line);
        a.ok(line.includes('PUID') && line.includes('PGID'), 'names the PUID/PGID fix', line);
        a.ok(/chown/.test(line), 'names the chown fix', line);
      },
    },
    {
      name: 'PUID/PGID: hiksync switches to that uid:gid; everything it writes is theirs',
      async run(a) {
        const out = await outputDir(ctx, OTHER_UID, OTHER_GID, 0o770);
        const r = await runOnce(ctx, {
          env: { RUN_MODE: 'once', PUID: String(OTHER_UID), PGID: String(OTHER_GID) },
          mounts: [input(small), output(out)],
        });
        a.is(r.code, 0, 'exit code');
        const files = await listOutputTree(out);
        a.is(
          files.length,
          small.truth.cameras.reduce((n, c) => n + c.recordings.length, 0),
          'files written',
        );
        a.is(await ownedOtherwise(out, OTHER_UID, OTHER_GID), [], `everything owned by ${OTHER_UID}:${OTHER_GID}`);
        if (r.code !== 0) a.note(r.stderr.slice(-2000));
      },
    },
    {
      name: 'docker run --user UID:GID (no PUID/PGID): hiksync runs as that user',
      async run(a) {
        const out = await outputDir(ctx, OTHER_UID, OTHER_GID, 0o770);
        const r = await runOnce(ctx, {
          env: { RUN_MODE: 'once' },
          user: `${OTHER_UID}:${OTHER_GID}`,
          mounts: [input(small), output(out)],
        });
        a.is(r.code, 0, 'exit code');
        a.ok((await listOutputTree(out)).length > 0, 'files written');
        a.is(await ownedOtherwise(out, OTHER_UID, OTHER_GID), [], `everything owned by ${OTHER_UID}:${OTHER_GID}`);
      },
    },
    {
      name: 'PUID/PGID refused with exit 78 and one line: root (0), only one of them, not a number, or contradicting --user',
      async run(a) {
        const cases: Array<{ env: Record<string, string>; user?: string; names: string }> = [
          { env: { PUID: '0', PGID: '0' }, names: 'PUID=0' },
          { env: { PUID: '1026' }, names: 'PGID' },
          { env: { PUID: 'admin', PGID: '100' }, names: 'PUID=admin' },
          { env: { PUID: '1026', PGID: '100' }, user: `${OTHER_UID}:${OTHER_GID}`, names: '--user' },
        ];
        for (const c of cases) {
          const what = Object.entries(c.env)
            .map(([k, v]) => `${k}=${v}`)
            .concat(c.user ? [`--user ${c.user}`] : [])
            .join(' ');
          const out = await outputDir(ctx, NODE_ID, NODE_ID);
          const r = await runOnce(ctx, {
            env: { RUN_MODE: 'once', ...c.env },
            ...(c.user ? { user: c.user } : {}),
            mounts: [input(small), output(out)],
          });
          a.is(r.code, 78, `${what}: exit code`);
          const lines = stderrLines(r);
          a.is(lines.length, 1, `${what}: one line`);
          a.ok(lines[0]?.includes(c.names) ?? false, `${what}: the line names ${c.names}`, lines[0]);
          a.is(await fs.readdir(out), [], `${what}: nothing written`);
          a.note(lines[0] ?? '');
        }
      },
    },
    {
      name: 'per-camera mounts (/input/<tag>, each read-only) and one camera mounted as /input',
      async run(a) {
        const [tuin, oprit] = ['Camera-Tuin', 'Camera-Oprit'].map((n) => path.join(small.dir, n)) as [string, string];
        const out = await outputDir(ctx, NODE_ID, NODE_ID);
        const r = await runOnce(ctx, {
          env: { RUN_MODE: 'once' },
          mounts: [
            { host: tuin, container: '/input/garden' },
            { host: oprit, container: '/input/driveway' },
            output(out),
          ],
        });
        a.is(r.code, 0, 'per-camera mounts: exit code');
        a.is(
          countFolders(await assertSoundTree(a, out)),
          expectedFolders(small, translated),
          'per-camera mounts: files',
        );

        const one = await outputDir(ctx, NODE_ID, NODE_ID);
        const r1 = await runOnce(ctx, {
          env: { RUN_MODE: 'once', CAMERA_TRANSLATION: 'input:garden' },
          mounts: [{ host: tuin, container: '/input' }, output(one)],
        });
        a.is(r1.code, 0, 'one camera as /input: exit code');
        const tuinOnly: Share = { dir: small.dir, truth: { ...small.truth, cameras: [small.truth.cameras[0]!] } };
        a.is(
          countFolders(await assertSoundTree(a, one)),
          expectedFolders(tuinOnly, () => 'garden'),
          'one camera as /input (CAMERA_TRANSLATION=input:garden): files',
        );
      },
    },
    {
      name: 'HEALTHCHECK: healthy after a pass, unhealthy when the share is empty, healthy again when it is back',
      async run(a) {
        const share = await writeShare(path.join(ctx.work, 'share-health'), 3, [SMALL_CAMERAS[1]!]);
        const camera = path.join(share.dir, SMALL_CAMERAS[1]!.name);
        const away = path.join(ctx.work, 'share-health-away');
        const out = await outputDir(ctx, NODE_ID, NODE_ID);
        const name = await runDetached(ctx, 'hiksync-ct-health', {
          env: { CRON_INTERVAL: '1' },
          mounts: [input(share), output(out)],
          options: ['--health-interval=1s', '--health-timeout=30s', '--health-retries=2'],
        });
        try {
          const health = () =>
            inspect<{ Status: string; Log: Array<{ ExitCode: number; Output: string }> }>(ctx, name, '.State.Health');
          const waitFor = (status: string) =>
            poll(`health ${status}`, HEALTH_DEADLINE_MS, async () => {
              const h = await health();
              return h.Status === status ? h : undefined;
            });
          const healthy = await waitFor('healthy');
          a.note(`healthy: ${healthy.Log.at(-1)?.Output.trim()}`);
          a.is(
            (await docker(ctx.engine, ['exec', name, 'hiksync', 'health'])).code,
            0,
            'docker exec hiksync health: 0',
          );

          await fs.rename(camera, away); // the share "unmounted": /input is empty
          const unhealthy = await waitFor('unhealthy');
          const last = unhealthy.Log.at(-1);
          a.is(last?.ExitCode, 1, 'the failing check exits 1 (Docker knows 0 and 1 only)');
          a.ok(last?.Output.includes('empty') ?? false, 'its output says the input is empty', last?.Output);
          a.note(`unhealthy: ${last?.Output.trim()}`);
          const exec = await docker(ctx.engine, ['exec', name, 'hiksync', 'health']);
          a.is(exec.code, 1, 'docker exec hiksync health: 1');

          await fs.rename(away, camera);
          await waitFor('healthy');
          a.is(await inspect<boolean>(ctx, name, '.State.Running'), true, 'still running');
        } finally {
          await remove(ctx, name);
        }
      },
    },
    {
      name: `cron mode, docker stop during a pass: exit 0 within ${STOP_TIMEOUT_S} s, no partial file, lock released, the rest written next time`,
      async run(a) {
        const out = await outputDir(ctx, NODE_ID, NODE_ID);
        const total = big.truth.cameras[0]!.recordings.length;
        const name = await runDetached(ctx, 'hiksync-ct-cron', {
          env: { WORKERS: '1' },
          mounts: [input(big), output(out)],
        });
        try {
          // In the middle of the pass: the lock is held and the first files are written, not all of them.
          const lock = path.join(out, '.hiksync', 'lock');
          const seen = await poll('the pass writing its first files', PASS_DEADLINE_MS, async () => {
            const n = (await listOutputTree(out)).length;
            return n >= 1 && (await exists(lock)) ? n : undefined;
          });
          const t0 = Date.now();
          const stop = await docker(ctx.engine, ['stop', '--time', String(STOP_TIMEOUT_S), name]);
          const stopSeconds = (Date.now() - t0) / 1000;
          a.is(stop.code, 0, 'docker stop exits 0');
          const state = await inspect<{ ExitCode: number; OOMKilled: boolean; Running: boolean }>(ctx, name, '.State');
          a.is(state.Running, false, 'stopped');
          a.is(state.ExitCode, 0, 'exit code (137 would mean killed after the timeout)');
          a.ok(stopSeconds < STOP_TIMEOUT_S, `stopped within ${STOP_TIMEOUT_S} s`, `${stopSeconds.toFixed(1)} s`);
          const written = (await listOutputTree(out)).length;
          a.ok(written < total, 'the stop landed during the pass (not every file written)', `${written}/${total}`);
          a.is(await leftovers(out), [], 'no partial or temporary file');
          a.is(await exists(lock), false, 'the lock is released');
          const status = await readStatusFile(out);
          a.is(status?.lastPass?.result, 'interrupted', 'status.json: the last pass was interrupted');
          a.is(status?.passStartedAt, undefined, 'status.json: no pass running');
          await assertSoundTree(a, out);
          a.note(`stopped after ${seen} of ${total} files in ${stopSeconds.toFixed(1)} s; ${written} files then`);

          const rest = await runOnce(ctx, { env: { RUN_MODE: 'once' }, mounts: [input(big), output(out)] });
          a.is(rest.code, 0, 'the next (once) run: exit code');
          a.is((await assertSoundTree(a, out)).length, total, 'the next run writes the rest');
        } finally {
          await remove(ctx, name);
        }
      },
    },
  ];
}
