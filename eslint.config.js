// Lint: typescript-eslint's type-checked recommendations plus the few rules that catch operator bugs
// (floating promises, throwing non-Errors). Import boundaries between programs are enforced by
// src/import-boundaries.test.ts, which can express "shared imports only node: modules".
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.cache/', 'charts/', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      'no-console': 'off',
    },
  },
  {
    // Size limits for product code, met by every function and set just above today's largest so they only ratchet
    // down: a new decision belongs in a small named step with its own table test, not in a bigger function.
    files: ['src/**/*.ts'],
    ignores: ['**/*.test.ts', '**/testing/**'],
    rules: {
      complexity: ['error', 30],
      'max-lines-per-function': ['error', { max: 130, skipBlankLines: true, skipComments: true }],
      'max-depth': ['error', 5],
    },
  },
  {
    // node:test's describe/it return promises that the runner awaits itself.
    files: ['**/*.test.ts'],
    rules: { '@typescript-eslint/no-floating-promises': 'off' },
  },
);
