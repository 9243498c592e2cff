// ESLint (flat config): @eslint/js and typescript-eslint recommended rules over the sources, the
// tests and the scripts. Formatting is Prettier's (.prettierrc.json); `npm run lint` runs both.
import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  // What GitHub runs is generated (ncc bundles); fixtures are inputs to the audit, broken on purpose.
  { ignores: ['dist/', 'cache/dist/', 'coverage/', 'node_modules/', '__tests__/fixtures/audit/', '__tests__/fixtures/sarif/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { ...globals.node } },
    rules: {
      // Unused names are an error, as tsconfig's noUnusedLocals/noUnusedParameters make them;
      // a leading underscore marks one kept on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }]
    }
  },
  {
    files: ['__tests__/**/*.ts'],
    languageOptions: { globals: { ...globals.jest } }
  }
)
