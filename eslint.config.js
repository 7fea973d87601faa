import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'charts/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', fetch: 'readonly', setImmediate: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  // The layers of DESIGN.md's import table: what each folder may import. Only src/kube speaks to the API server.
  layer('src/model', 'model imports nothing outside itself', [], { node: false }),
  layer('src/api', 'the policy API imports only model', ['model'], { node: false }),
  layer('src/rules', 'rules are pure: model and api only', ['model', 'api'], { node: false }),
  layer('src/engine', 'the engine is pure: model, api and rules only', ['model', 'api', 'rules'], { node: false }),
  layer('src/kube', 'kube imports model and api only', ['model', 'api'], { node: true }),
  layer('src/controller', 'the controller reaches the API server through kube only', ['model', 'api', 'rules', 'engine', 'kube', 'log.ts'], { node: false }),
  {
    files: ['src/**/*.ts'],
    ignores: ['src/kube/**', '**/*.test.ts'],
    rules: {
      'no-restricted-syntax': ['error', {
        selector: "CallExpression[callee.property.name=/^(request|watch)$/]",
        message: 'API requests are made in src/kube only (add a function there).',
      }],
    },
  },
);

/** `folder`'s non-test files may import from the sibling folders (or files) in `may`, and Node's modules if `node`. */
function layer(folder, message, may, { node }) {
  const allowed = may.map((m) => (m.endsWith('.ts') ? `${m.replace('.', '\\.')}$` : `${m}/`)).join('|');
  const patterns = [{ regex: allowed ? `^\\.\\./(?!(${allowed}))` : '^\\.\\./', message }];
  if (!node) patterns.push({ regex: '^node:', message: `${message} (no Node modules: no I/O, no clocks)` });
  return { files: [`${folder}/**/*.ts`], ignores: ['**/*.test.ts'], rules: { 'no-restricted-imports': ['error', { patterns }] } };
}
