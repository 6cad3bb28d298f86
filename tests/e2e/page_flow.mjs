// One step of a page flow in headless Chromium, for the Rust tests (tests/it/languages.rs),
// which hold the SMTP sink the mails go to. Prints what the page showed as one line of JSON.
//
//   node page_flow.mjs request <page URL> <email> <browser locale> [<time zone>]
//     opens the reset page, asks for a link for <email>, and reports the answer shown; with
//     <time zone>, the page's script is told the browser is in that zone (any name, even
//     one no time-zone database has);
//   node page_flow.mjs confirm <link> <new password> <browser locale>
//     opens a mailed link, tries two different passwords (caught by the page), then sets
//     <new password>, and reports the answers shown.
//
// The browser's locale sets its Accept-Language; its time zone is Asia/Seoul. Screenshots
// go to artifacts/ (a Korean page needs a CJK font such as Debian's fonts-noto-cjk).

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { collectConsoleErrors, launchChromium } from './lib/browser.mjs';

const ARTIFACTS = join(fileURLToPath(new URL('.', import.meta.url)), 'artifacts');
const [step, url, value, locale, reportedZone] = process.argv.slice(2);

const browser = await launchChromium();
try {
  const context = await browser.newContext({ locale, timezoneId: 'Asia/Seoul' });
  const page = await context.newPage();
  if (reportedZone) {
    await page.addInitScript((zone) => {
      const resolved = Intl.DateTimeFormat.prototype.resolvedOptions;
      Intl.DateTimeFormat.prototype.resolvedOptions = function () {
        return { ...resolved.call(this), timeZone: zone };
      };
    }, reportedZone);
  }
  const consoleErrors = collectConsoleErrors(page);
  await page.goto(url);
  const seen = {
    lang: await page.getAttribute('html', 'lang'),
    title: await page.title(),
    heading: await page.textContent('h1'),
  };
  mkdirSync(ARTIFACTS, { recursive: true });
  const shot = (name) =>
    page.screenshot({ path: join(ARTIFACTS, `${name}-${seen.lang}.png`), fullPage: true });
  if (step === 'request') {
    await page.fill('#email', value);
    await page.click('#request-form button[type=submit]');
    await page.waitForSelector('#success, #error');
    seen.result = await page.textContent('#result');
    await shot('reset-request');
  } else if (step === 'confirm') {
    await page.fill('#new-password', value);
    await page.fill('#repeat', `${value}!`);
    await page.click('#confirm-form button[type=submit]');
    seen.mismatch = await page.textContent('#error');
    await page.fill('#repeat', value);
    await page.click('#confirm-form button[type=submit]');
    // The answer: a message that is neither "pending" nor the mismatch above.
    await page.waitForFunction((mismatch) => {
      const shown = document.querySelector('#result p');
      return shown && shown.id !== 'pending' && shown.textContent !== mismatch;
    }, seen.mismatch);
    seen.result = await page.textContent('#result');
    await shot('reset-done');
  } else {
    throw new Error(`unknown step ${step}: request or confirm`);
  }
  // A zone the server does not know is answered 400 invalid_time_zone once, as expected, and
  // Chromium logs every 4xx answer.
  if (reportedZone) {
    const refused = consoleErrors.findIndex((e) => e.includes('status of 400'));
    if (refused >= 0) consoleErrors.splice(refused, 1);
  }
  seen.consoleErrors = consoleErrors;
  if (consoleErrors.length > 0) {
    throw new Error(`the page logged errors: ${JSON.stringify(consoleErrors)}`);
  }
  console.log(JSON.stringify(seen));
} finally {
  await browser.close();
}
