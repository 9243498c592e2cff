/** ESM + TypeScript: @actions/* are ESM-only, so jest runs with --experimental-vm-modules. */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  resolver: 'ts-jest-resolver',
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true }]
  },
  testMatch: ['**/__tests__/**/*.test.ts'],
  testTimeout: 60000
}
