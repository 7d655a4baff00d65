import { defineConfig } from 'vitest/config';

// Tests live under test/<concern>/. End-to-end tests against a real cluster have their own
// config (vitest.e2e.config.ts) and are not part of `npm test`.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
