import { defineConfig } from 'vitest/config';

// Two tiers (house rule R10): "unit" is pure and runs anywhere; "root" needs root, real namespaces,
// real etcd and the built plugin, and refuses to run (loudly) without them.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'pkg/**/*.test.ts',
            'flannel-compat/**/*.test.ts',
            'cmd/**/*.test.ts',
            'bundle/**/*.test.ts',
            'scripts/**/*.test.ts',
            'deploy/**/*.test.ts',
          ],
          exclude: ['bundle/**/*.root.test.ts'],
          setupFiles: ['test/helpers/seed.ts'],
        },
      },
      {
        test: {
          name: 'root',
          include: ['test/**/*.test.ts'],
          globalSetup: ['test/helpers/global-setup.ts'],
          setupFiles: ['test/helpers/seed.ts'],
          pool: 'forks',
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
