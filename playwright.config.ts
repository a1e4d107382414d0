import { defineConfig } from '@playwright/test';

/**
 * Browser tests of the web console (test/console/*.pw-spec.ts) against the whole running system,
 * in Debian's Chromium (scripts/install-browser.sh): Playwright never downloads a browser here.
 * Run them under the e2e lock, as every end-to-end test:
 *
 *   flock /tmp/airlock-e2e.lock npx playwright test
 */
export default defineConfig({
  testDir: 'test/console',
  testMatch: '**/*.pw-spec.ts',
  outputDir: '.local/test-results/console/artifacts',
  // One system for the file, started in beforeAll; its tests run in order.
  workers: 1,
  fullyParallel: false,
  forbidOnly: true,
  retries: 0,
  timeout: 120_000,
  expect: { timeout: 20_000 },
  reporter: [['list'], ['json', { outputFile: '.local/test-results/console/results.json' }]],
  use: {
    browserName: 'chromium',
    headless: true,
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.AIRLOCK_CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
});
