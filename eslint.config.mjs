// Lint rules: eslint's and typescript-eslint's recommended sets and a few of our own. Formatting
// is prettier's (.prettierrc.json); `npm run lint` checks both.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  {
    ignores: ['dist/', 'bench/.build/', 'bench/results/', 'node_modules/', 'src/rpc/proto-types/', '.tmp/', '.cache/'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      eqeqeq: ['error', 'always'],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // Logs go through pino; the process's own output only through main.ts.
    files: ['src/**/*.ts'],
    rules: { 'no-console': 'error' },
  },
);
