// Test tiers are selected by folder: unit and property need no Postgres; every other folder gets the run's Postgres.
import { defineConfig } from 'vitest/config';

const noPostgres = ['test/unit/**/*.test.ts', 'test/property/**/*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Vitest starts a project's global setup only when that project has files to run, so a unit-only run never
    // starts Postgres.
    projects: [
      { extends: true, test: { name: 'unit', include: noPostgres } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: [...noPostgres, '**/node_modules/**'],
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
    ],
  },
});
