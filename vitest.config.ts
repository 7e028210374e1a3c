import os from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // one test file per core: the default (cores − 1) runs the suite one file at a time on a 2-core
    // machine, where most of an end-to-end test's time is a child process the worker only waits on
    // (measured on the 2-core development machine: 275 s → 194 s)
    maxWorkers: Math.max(2, os.availableParallelism()),
    env: { TZ: 'UTC' },
  },
});
