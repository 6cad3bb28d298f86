// Headless Chromium: Debian's package (downloading Playwright's own browsers does not work
// here), driven by playwright-core.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';

import { chromium } from 'playwright-core';

/** Launches headless Chromium from CHROMIUM_PATH or the distribution's usual paths. */
export async function launchChromium() {
  const executablePath = [
    process.env.CHROMIUM_PATH,
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
  ].find((p) => p && existsSync(p));
  assert.ok(
    executablePath,
    'Chromium is missing: `apt-get install chromium` (see .ci/run) or set CHROMIUM_PATH',
  );
  return chromium.launch({
    executablePath,
    headless: true,
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
  });
}

/**
 * Collects what `page` logs as errors (a Content-Security-Policy violation or a script error
 * shows up here) into the returned array, leaving out Chromium's own /favicon.ico request,
 * which firegate rightly answers with 404.
 */
export function collectConsoleErrors(page) {
  const errors = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.location().url?.endsWith('/favicon.ico')) {
      errors.push(message.text());
    }
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}
