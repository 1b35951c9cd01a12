// Type-aware lint for the whole project. The domain is pure: no Node built-ins,
// no drivers (STYLE.md §6). No import circles anywhere in src/ (import-x/no-cycle,
// type-only imports included: a circle of types is still a circle of modules).
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      '.cache/',
      'node_modules/',
      'data/',
      '.node24/',
      'bin/',
      'scripts/*.mjs',
      'src/**/*.mjs',
      'eslint.config.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: [
                'describe',
                'it',
                'test',
                'suite',
                'before',
                'after',
                'beforeEach',
                'afterEach',
              ],
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts', 'projections/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver-next': [createTypeScriptImportResolver()],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    files: ['src/domain/**/*.ts', 'projections/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'The domain is pure: no Node built-ins.' },
            {
              group: ['better-sqlite3', '@eventstore/*', 'fastify', 'fastify/*', '@fastify/*'],
              message: 'The domain imports no driver or framework.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts', 'projections/**/*.ts'],
    ignores: [
      'src/eventStore/sqlite/**',
      'src/readModels/sqlite/**',
      'src/composition.ts',
      '**/*.test.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'better-sqlite3', message: 'Only the SQLite adapter imports the driver.' },
          ],
        },
      ],
    },
  },
);
