// Lint rules that hold the style the code follows (docs/architecture.md): type-aware typescript-eslint rules (no
// floating promises, no `any` leaking out of parsers) and the import directions between folders. Formatting is
// prettier's job (.prettierrc.json), not the linter's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Imports each folder may not make: see "Which folder may import which" in docs/architecture.md. In flat config a
 * later setting of a rule replaces an earlier one for the same file, so every file matches exactly one entry.
 */
const TOOLS = {
  group: ['**/tools/*', '**/tools/**', '**/bench/*', '**/test/*', '**/test/**', '**/workers/*'],
  message: 'the product never imports tools, benchmarks, tests or the worker entry',
};
const MEDIA_BYTES = {
  group: ['**/media/audio/*.js', '**/media/remux.js', '**/media/ps-demux.js', '**/media/access-units.js'],
  message: 'the main thread never touches media bytes: remuxing runs in workers/ (lib/media/probe.js is the exception)',
};
const rule = (...groups) => ({ 'no-restricted-imports': ['error', { patterns: groups }] });
const LAYERS = [
  {
    files: [
      'lib/errors.ts',
      'lib/files.ts',
      'lib/share-io.ts',
      'lib/time.ts',
      'lib/log.ts',
      'lib/log-types.ts',
      'lib/pause-points.ts',
    ],
    rules: rule(TOOLS, { group: ['./*/*'], message: 'the foundation modules import no lib folder' }),
  },
  {
    files: ['lib/hikvision/**', 'lib/media/**'],
    rules: rule(TOOLS, {
      group: ['../pipeline/*', '../ops/*', '../cli/*', '../config.js', '../hikvision/*', '../media/*'],
      message:
        'format readers (hikvision, media) import only the foundation modules: no pipeline, ops, cli, config or each other',
    }),
  },
  {
    files: ['lib/ops/**'],
    rules: rule(TOOLS, MEDIA_BYTES, {
      group: ['../pipeline/*', '../cli/*', '../hikvision/*', '../media/*'],
      message: 'ops (lock, schedule, signals, status, health) knows nothing of formats or the pipeline',
    }),
  },
  {
    files: ['lib/config.ts'],
    rules: rule(TOOLS, MEDIA_BYTES, {
      group: ['./pipeline/*', './cli/*', './hikvision/*', './media/*'],
      message: 'config knows settings, not the pipeline',
    }),
  },
  {
    files: ['lib/inspect/**'],
    rules: rule(TOOLS, MEDIA_BYTES, {
      group: ['../pipeline/*', '../ops/*', '../cli/*', '../config.js', '../media/*'],
      message: 'inspect (layout, bundle) reads the share through hikvision and the foundation only',
    }),
  },
  {
    files: ['lib/pipeline/**'],
    rules: rule(TOOLS, MEDIA_BYTES, { group: ['../cli/*'], message: 'the pipeline does not know the command line' }),
  },
  { files: ['lib/cli/**'], rules: rule(TOOLS, MEDIA_BYTES) },
  {
    files: ['workers/**'],
    rules: rule(TOOLS, {
      group: ['../lib/cli/*', '../lib/ops/*'],
      message: 'a worker does one task: no command line, no ops',
    }),
  },
  {
    files: ['tools/**'],
    rules: rule({
      group: ['**/test/*', '**/test/**', '**/bench/*', '**/workers/*'],
      message: 'tools are below tests and benchmarks',
    }),
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'demo/**', 'bench/data/**', 'bench/results/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: ['./tsconfig.test.json'], tsconfigRootDir: import.meta.dirname },
    },
  },
  ...LAYERS,
  { files: ['*.js'], ...tseslint.configs.disableTypeChecked },
);
