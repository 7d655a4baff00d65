import { defineConfig } from 'vitest/config';

// `npm run test:e2e`: the same scenarios against whatever cluster KUBECONFIG points at.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
