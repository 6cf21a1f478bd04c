/**
 * docs/architecture.md, checked against the code: the import directions of its folder table (all of them, on every
 * source file: eslint's no-restricted-imports holds only some, and misses deeper relative paths such as
 * `lib/media/audio/` -> `../../pipeline/`), that the main thread never loads the remux code, that the runtime
 * dependencies are exactly what the product imports, and that the page names no folder or module that is gone.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(fileURLToPath(import.meta.url), '../..');

interface Import {
  from: string;
  /** A repository path (`lib/config.ts`) or a package name (`sql.js`, `node:fs`). */
  to: string;
  typeOnly: boolean;
  dynamic: boolean;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(ROOT, rel), { withFileTypes: true })) {
      const p = path.posix.join(rel, e.name);
      if (e.isDirectory()) {
        if (!['node_modules', 'data', 'results', 'fixtures'].includes(e.name)) walk(p);
      } else if (p.endsWith('.ts')) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

const IMPORT_RE =
  /^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;

function importsOf(file: string): Import[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const out: Import[] = [];
  for (const m of text.matchAll(IMPORT_RE)) {
    const spec = m[3] ?? m[4]!;
    const to = spec.startsWith('.')
      ? path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)).replace(/\.js$/, '.ts')
      : spec.startsWith('@')
        ? spec.split('/').slice(0, 2).join('/')
        : spec.split('/')[0]!;
    out.push({ from: file, to, typeOnly: m[2] !== undefined, dynamic: m[4] !== undefined });
  }
  return out;
}

const FOUNDATION = [
  'lib/files.ts',
  'lib/share-io.ts',
  'lib/time.ts',
  'lib/log.ts',
  'lib/log-types.ts',
  'lib/pause-points.ts',
];

/** The layer of a repository path, as the folder table of docs/architecture.md names them. */
function layerOf(p: string): string {
  if (p === 'lib/errors.ts') return 'errors';
  if (FOUNDATION.includes(p)) return 'foundation';
  if (p === 'lib/config.ts') return 'config';
  const m = /^lib\/([^/]+)\//.exec(p);
  if (m) return m[1]!;
  return p.split('/')[0]!;
}

/**
 * "may import" of the folder table: the layers (or exact modules) each layer may import besides itself and the
 * packages. `type:` entries may be imported for types only.
 */
const MAY_IMPORT: Record<string, string[]> = {
  errors: [],
  foundation: ['errors'],
  hikvision: ['foundation', 'errors'],
  media: ['foundation', 'errors'],
  ops: ['foundation', 'errors', 'type:config'],
  config: ['foundation', 'errors', 'lib/ops/shard.ts'],
  inspect: ['hikvision', 'foundation', 'errors'],
  pipeline: ['hikvision', 'lib/media/probe.ts', 'lib/media/jpeg.ts', 'ops', 'foundation', 'errors'],
  cli: ['errors', 'foundation', 'hikvision', 'media', 'ops', 'config', 'inspect', 'pipeline'],
  workers: ['errors', 'foundation', 'hikvision', 'media', 'config', 'inspect', 'pipeline'],
  tools: ['lib/hikvision/types.ts'],
  bench: ['errors', 'foundation', 'hikvision', 'media', 'ops', 'config', 'inspect', 'pipeline', 'cli', 'workers'],
};
// bench may import the tools too ("everything but test/").
MAY_IMPORT.bench!.push('tools');

function allowed(imp: Import): boolean {
  const from = layerOf(imp.from);
  const to = layerOf(imp.to);
  if (from === to) return true;
  const rules = MAY_IMPORT[from];
  if (!rules) return true; // test/: everything
  return rules.some(
    (r) => r === to || r === imp.to || (imp.typeOnly && (r === `type:${to}` || r === `type:${imp.to}`)),
  );
}

const PRODUCT = [...sourceFiles('lib'), ...sourceFiles('workers')];
const ALL = [...PRODUCT, ...sourceFiles('tools'), ...sourceFiles('bench')];
const IMPORTS = ALL.flatMap(importsOf);
const local = (i: Import) => i.to.startsWith('lib/') || /^(workers|tools|bench|test)\//.test(i.to);

test('every import follows the folder table of docs/architecture.md (lib, workers, tools, bench)', (t) => {
  const seen = IMPORTS.filter(local);
  t.true(seen.length > 300, `the imports were read (${seen.length})`);
  t.deepEqual(
    seen.filter((i) => !allowed(i)).map((i) => `${i.from} -> ${i.to}`),
    [],
  );
  t.deepEqual(
    seen.filter((i) => !fs.existsSync(path.join(ROOT, i.to))).map((i) => `${i.from} -> ${i.to}`),
    [],
    'every relative import names a file that exists (the resolution above is right)',
  );
});

test('the rule check itself: imports that break the table are found', (t) => {
  const bad = (from: string, to: string, typeOnly = false) => !allowed({ from, to, typeOnly, dynamic: false });
  t.true(bad('lib/media/audio/g711.ts', 'lib/pipeline/plan.ts'), 'a media module two folders deep -> pipeline');
  t.true(bad('lib/pipeline/run-pass.ts', 'lib/media/remux.ts'), 'pipeline -> remux');
  t.true(bad('lib/pipeline/plan.ts', 'lib/inspect/layout.ts'));
  t.true(bad('lib/ops/health.ts', 'lib/config.ts'), 'ops -> config for more than types');
  t.false(bad('lib/ops/health.ts', 'lib/config.ts', true), 'ops -> config types');
  t.true(bad('lib/config.ts', 'lib/ops/lock.ts'));
  t.true(bad('tools/synthetic/share-writer.ts', 'lib/hikvision/source.ts'), 'the writer shares only the types');
  t.true(bad('workers/extract.ts', 'lib/ops/lock.ts'));
  t.true(bad('bench/run.ts', 'test/helpers/cli.ts'));
  t.true(bad('lib/errors.ts', 'lib/files.ts'));
});

/** The static import closure of `entry` (dynamic imports are followed only when `dynamic`). */
function closure(entry: string, dynamic: boolean): Set<string> {
  const byFile = new Map<string, Import[]>();
  for (const i of IMPORTS) byFile.set(i.from, [...(byFile.get(i.from) ?? []), i]);
  const seen = new Set<string>();
  const visit = (p: string): void => {
    if (seen.has(p)) return;
    seen.add(p);
    for (const i of byFile.get(p) ?? []) if (!i.typeOnly && (dynamic || !i.dynamic)) visit(i.to);
  };
  visit(entry);
  return seen;
}

test('the main thread never loads the remux code: the CLI reaches no demuxer, remuxer, audio codec or muxer', (t) => {
  // Dynamic imports included: the pool module is loaded lazily, but it is still the main thread.
  const mainThread = closure('lib/cli/main.ts', true);
  t.true(mainThread.has('lib/pipeline/run-pass.ts') && mainThread.has('lib/media/probe.ts'), 'the closure was built');
  const media = [...mainThread].filter((p) => p.startsWith('lib/media/')).sort();
  t.deepEqual(media, ['lib/media/jpeg.ts', 'lib/media/probe.ts'], 'the media modules the main thread loads');
  t.false(mainThread.has('lib/media/audio/flac-encoder.ts'), 'no audio codec');
  const worker = closure('workers/extract.ts', false);
  t.true(
    worker.has('lib/media/remux.ts') && worker.has('lib/media/audio/flac-encoder.ts'),
    'the worker does load them',
  );
});

test('the runtime dependencies are exactly the packages lib/ and workers/ import', (t) => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const used = new Set(
    IMPORTS.filter((i) => PRODUCT.includes(i.from) && !local(i) && !i.to.startsWith('node:') && !i.typeOnly).map(
      (i) => i.to,
    ),
  );
  // A peer dependency of one of them is declared too (clipanion's typanion): npm would install it anyway.
  const peers = [...used].flatMap((dep) => {
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', dep, 'package.json'), 'utf8')) as {
      peerDependencies?: Record<string, string>;
    };
    return Object.keys(manifest.peerDependencies ?? {});
  });
  t.deepEqual(Object.keys(pkg.dependencies).sort(), [...new Set([...used, ...peers])].sort());
});

test('docs/architecture.md names only folders and modules that exist, and describes every folder of lib/', (t) => {
  const doc = fs.readFileSync(path.join(ROOT, 'docs', 'architecture.md'), 'utf8');
  const named = [...doc.matchAll(/`((?:lib|workers|tools|bench|test|docker)\/[\w./-]*)`/g)].map((m) => m[1]!);
  t.true(named.length > 20, `paths were read (${named.length})`);
  t.deepEqual(
    named.filter((p) => !fs.existsSync(path.join(ROOT, p))),
    [],
  );
  // Bare module names in the flow and the table (`probe.ts`, `mux-sink.ts`) must name a module of the repository.
  const modules = [...ALL, ...sourceFiles('test')].map((f) => path.posix.basename(f));
  const bare = [...doc.matchAll(/(?<![\w/.-])([\w-]+\.ts)\b/g)].map((m) => m[1]!);
  t.deepEqual([...new Set(bare.filter((b) => !modules.includes(b)))], []);
  const folders = fs
    .readdirSync(path.join(ROOT, 'lib'), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => `lib/${e.name}/`);
  for (const dir of folders) t.true(doc.includes(`\`${dir}\``), `${dir} has a row in the folder table`);
  const topModules = fs.readdirSync(path.join(ROOT, 'lib')).filter((n) => n.endsWith('.ts'));
  for (const m of topModules) t.true(doc.includes(`\`lib/${m}\``), `lib/${m} has a row in the folder table`);
});

test('one error vocabulary: error classes live in lib/errors.ts, except the parse-level ones next to their readers', (t) => {
  // Caught by the code that knows what they mean and re-thrown as a HiksyncError (lib/errors.ts says so), or, for
  // health's time limit, never leaving its module.
  const parseLevel = ['BitstreamError', 'ParameterSetError', 'DecoderConfigError', 'Mp4ConfigError', 'FsTimeoutError'];
  const found: string[] = [];
  for (const file of PRODUCT.filter((f) => f !== 'lib/errors.ts')) {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    for (const m of text.matchAll(/class (\w+) extends (\w*Error)\b/g)) found.push(m[1]!);
  }
  t.deepEqual(found.sort(), [...parseLevel].sort());
});

test('one exit-code table: no exit status is written as a number outside lib/errors.ts', (t) => {
  const stray: string[] = [];
  for (const file of PRODUCT.filter((f) => f !== 'lib/errors.ts')) {
    const lines = fs.readFileSync(path.join(ROOT, file), 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (/process\.exit\(\s*\d|exitCode\s*=\s*\d|return\s+(64|66|70|73|74|75|77|78|130)\s*;/.test(line))
        stray.push(`${file}:${i + 1}: ${line.trim()}`);
    });
  }
  t.deepEqual(stray, []);
});

test('no dead product code: every exported function of lib/ and workers/ is called by the product, not only by tests', (t) => {
  // Hooks that exist for tests, and say so where they are defined.
  const testHooks = ['clearIndexTableCache', 'sqlEngineLoaded'];
  const text = PRODUCT.map((f) => fs.readFileSync(path.join(ROOT, f), 'utf8')).join('\n');
  const unused: string[] = [];
  for (const file of PRODUCT) {
    const src = fs.readFileSync(path.join(ROOT, file), 'utf8');
    for (const m of src.matchAll(/^export (?:default )?(?:async )?function\*? (\w+)/gm)) {
      const name = m[1]!;
      const uses = text.match(new RegExp(`\\b${name}\\b`, 'g'))?.length ?? 0;
      if (uses < 2 && !testHooks.includes(name)) unused.push(`${file}: ${name}`);
    }
  }
  t.deepEqual(unused, []);
});

test('tests mirror the source: test/<path>.test.ts tests lib/<path>.ts (or tools/<path>.ts), bar the listed suites', (t) => {
  // Suites that drive the whole program or cross modules on purpose (docs/architecture.md, "test/").
  const suites = ['test/e2e/', 'test/faults/', 'test/container/', 'test/browser/'];
  const crossModule = [
    'test/architecture.test.ts', // this page against the code
    'test/hikvision/fuzz.test.ts', // the fuzz properties of every index reader of lib/hikvision
    'test/hikvision/synthetic-agreement.test.ts', // the scanner against the independently written synthetic camera
  ];
  const modules = [...ALL].map((f) => f.replace(/^lib\//, '').replace(/\.ts$/, ''));
  const stray = sourceFiles('test')
    .filter((f) => f.endsWith('.test.ts') && !suites.some((s) => f.startsWith(s)) && !crossModule.includes(f))
    .filter((f) => {
      // A module's tests may be split by concern: <module>.test.ts, <module>-<concern>.test.ts, <module>.fuzz.test.ts.
      const stem = f.replace(/^test\//, '').replace(/(\.fuzz)?\.test\.ts$/, '');
      return !modules.some((m) => stem === m || stem.startsWith(`${m}-`));
    });
  t.deepEqual(stray, [], 'name a test file after the module it tests, or list it above with the reason');
});
