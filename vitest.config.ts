import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests start real servers and child processes; keep them honest about time.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // The CLI's cache goes to a temporary directory, not the home directory (test/helpers/cache-dir.ts).
    globalSetup: ['test/helpers/cache-dir.ts'],
  },
});
