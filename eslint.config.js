import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import lit from 'eslint-plugin-lit';
import wc from 'eslint-plugin-wc';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {ignores: ['dist/', 'node_modules/', 'bench/results/', 'custom-elements.json']},
  js.configs.recommended,
  ...tseslint.configs.recommended,
  wc.configs['flat/recommended'],
  lit.configs['flat/recommended'],
  {
    settings: {wc: {elementBaseClasses: ['LitElement', 'ReactiveElement', 'ElementBase']}},
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_'}],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['src/client/**/*.ts'],
    rules: {
      // The engine runs outside the browser too; its environment comes in through `Environment`.
      'no-restricted-globals': ['error', 'window', 'document', 'navigator', 'location', 'customElements'],
    },
  },
  {
    files: ['src/protocol/**/*.ts'],
    rules: {
      // The protocol is pure: the client and the server both run it, so it reaches for no platform at all.
      'no-restricted-globals': [
        'error',
        ...['window', 'document', 'navigator', 'location', 'customElements', 'process', 'Buffer', 'crypto'],
        ...['setTimeout', 'setInterval', 'clearTimeout', 'clearInterval', 'performance', 'Date'],
      ],
    },
  },
  {
    files: [
      '**/*.mjs',
      '**/*.cjs',
      '*.js',
      'scripts/**',
      'test/support/**/*.mjs',
      'demo/**/*.mjs',
      'bench/**/*.mjs',
      'soak/**/*.mjs',
    ],
    languageOptions: {globals: {...globals.node}},
  },
  {
    files: ['**/*.cjs'],
    languageOptions: {sourceType: 'commonjs'},
  },
  {
    files: ['examples/**/*.{js,jsx}'],
    languageOptions: {globals: {...globals.browser}, parserOptions: {ecmaFeatures: {jsx: true}}},
  },
  {
    files: ['test/**/*.ts', 'demo/**/*.js', 'bench/**/*.js', 'soak/**/*.js', 'test/**/*.js'],
    languageOptions: {globals: {...globals.browser, ...globals.mocha}},
  },
  prettier,
);
