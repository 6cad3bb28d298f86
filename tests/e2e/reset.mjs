// Password reset in headless Chromium against a `firegate serve` of its own, whose mail goes to
// a Firestore collection in the Trigger Email extension's format: the page and its headers,
// the request, the mailed link to the server's own page, the new password, the link's single
// use. Registered by e2e.test.mjs on its environment.

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { collectConsoleErrors } from './lib/browser.mjs';
import { postJson, verifyCustomToken } from './lib/clients.mjs';
import { runFiregate, startFiregate } from './lib/firegate.mjs';
import { eventually, freePort } from './lib/processes.mjs';

const ARTIFACTS = join(fileURLToPath(new URL('.', import.meta.url)), 'artifacts');
const SUITE_TIMEOUT = { timeout: 120_000 };
const HOOK_TIMEOUT = { timeout: 60_000 };

const MAIL_COLLECTION = 'firegate_e2e_mail';
const LOG_NAME = 'firegate-reset.log';
const REQUEST_PATH = '/password-reset/';
const CONFIRM_PATH = '/password-reset/confirm/';

/** The page's answer to every request, whether or not the account exists. */
const REQUESTED = 'If an account has this address, a link to choose a new password is on its way.';
const DONE = 'Your password is changed. Sign in with the new one.';
const INVALID_TOKEN = 'This link is invalid, used or expired; ask for a new one.';

/**
 * The documents of `collection` on the emulator, as { to, from, subject, text, html }: a list
 * call with the owner token, which security rules do not apply to.
 */
async function mailDocuments(env, collection) {
  const url =
    `${env.firestore.url}/v1/projects/${env.projectId}/databases/(default)/documents/` +
    `${collection}?pageSize=300`;
  const response = await fetch(url, { headers: { Authorization: 'Bearer owner' } });
  const body = await response.json();
  assert.ok(
    response.ok,
    `listing ${collection} answered ${response.status}: ${JSON.stringify(body)}`,
  );
  return (body.documents ?? []).map(({ fields }) => {
    const message = fields.message?.mapValue?.fields ?? {};
    return {
      to: fields.to?.stringValue,
      from: fields.from?.stringValue,
      subject: message.subject?.stringValue,
      text: message.text?.stringValue,
      html: message.html?.stringValue,
    };
  });
}

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The password-reset tests, on the suite's environment (`getEnv()` after its `before`: the
 * Firestore emulator, the binary, the certificate endpoint) and the run's Chromium
 * (`browser()`, a Promise of the Browser).
 */
export function resetSuite(getEnv, browser) {
  describe('password reset in a browser', SUITE_TIMEOUT, () => {
    const account = { login: 'reset-me@example.com', password: 'the password I forgot' };
    const fresh = 'the password chosen by mail';
    let env;
    let server;
    let context;
    /** The link of the mail the request test read; the tests after it open it. */
    let link;
    let token;

    /** A fresh tab of the suite's context, with its console errors collected. */
    const tab = async () => {
      const page = await context.newPage();
      return { page, consoleErrors: collectConsoleErrors(page) };
    };
    /** Submits `form` with its button and resolves the response to the POST it sends. */
    const submit = async (page, form, path) => {
      const [response] = await Promise.all([
        page.waitForResponse(
          (r) => new URL(r.url()).pathname === path && r.request().method() === 'POST',
        ),
        page.click(`${form} button[type=submit]`),
      ]);
      return response;
    };
    const signIn = (password) =>
      postJson(server.url, '/login/', { email: account.login, password });

    before(async () => {
      env = getEnv();
      const port = await freePort();
      const settings = {
        ...env.settings,
        FIREGATE_MAIL_URL: `firestore:${MAIL_COLLECTION}`,
        FIREGATE_PUBLIC_URL: `http://127.0.0.1:${port}`,
      };
      // The port is chosen first: the reset link's base URL is the server's own address.
      server = await startFiregate({
        bin: env.bin,
        runDir: env.runDir,
        settings,
        serveArgs: ['--x509-base-url', env.x509.url],
        logName: LOG_NAME,
        port,
      });
      const created = await runFiregate(env.bin, ['accounts', 'create', '--login', account.login], {
        input: `${account.password}\n`,
        settings,
      });
      assert.equal(created.code, 0, `accounts create exited ${created.code}:\n${created.stderr}`);
      account.uid = created.stdout.trim();
      context = await (await browser()).newContext();
      mkdirSync(ARTIFACTS, { recursive: true });
    }, HOOK_TIMEOUT);

    after(async () => {
      await context?.close();
      await server?.proc.stop();
    }, HOOK_TIMEOUT);

    test('the page asks for the email, with no referrer, no caching and a nonce CSP', async () => {
      const { page, consoleErrors } = await tab();
      const response = await page.goto(`${server.url}${REQUEST_PATH}`);
      assert.equal(response.status(), 200);
      const headers = response.headers();
      assert.equal(headers['referrer-policy'], 'no-referrer');
      assert.equal(headers['cache-control'], 'no-store');
      assert.equal(headers['x-frame-options'], 'DENY');
      const csp = headers['content-security-policy'] ?? '';
      const nonce = csp.match(/script-src 'nonce-([A-Za-z0-9+/=]+)'/)?.[1];
      assert.ok(nonce, `no script nonce in the CSP: ${csp}`);
      assert.match(csp, new RegExp(`style-src 'nonce-${escapeRegExp(nonce)}'`));
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.match(csp, /default-src 'none'/);
      // The browser ran the script and applied the style because they carry this nonce.
      assert.deepEqual(
        await page.evaluate(() =>
          [...document.querySelectorAll('script, style')].map((e) => e.nonce),
        ),
        [nonce, nonce],
      );
      assert.equal(await page.evaluate(() => getComputedStyle(document.body).maxWidth), '544px');
      assert.ok(await page.isVisible('#request-form'), 'the script showed the request form');
      assert.ok(await page.isHidden('#confirm-form'));
      const again = await fetch(`${server.url}${REQUEST_PATH}`);
      assert.notEqual(
        again.headers.get('content-security-policy'),
        csp,
        'every response has a nonce of its own',
      );
      assert.deepEqual(consoleErrors, [], 'the page logged errors');
      await page.close();
    });

    test('one answer for any address, and a mail with a link to this server’s page', async () => {
      const { page, consoleErrors } = await tab();
      const ask = async (email) => {
        await page.goto(`${server.url}${REQUEST_PATH}`);
        await page.fill('#email', email);
        const response = await submit(page, '#request-form', REQUEST_PATH);
        assert.equal(response.status(), 202, `POST ${REQUEST_PATH} for ${email}`);
        assert.equal(response.headers()['referrer-policy'], 'no-referrer');
        await page.waitForSelector('#success');
        return page.textContent('#success');
      };
      // The unknown address first: by the time the account's mail is there, its own lookup
      // (which sends nothing) is long over.
      assert.equal(await ask('nobody-here@example.com'), REQUESTED);
      assert.equal(await ask(account.login), REQUESTED);
      await page.screenshot({ path: join(ARTIFACTS, 'reset-request.png'), fullPage: true });
      assert.deepEqual(consoleErrors, [], 'the page logged errors');
      await page.close();

      const mail = await eventually(
        async () => (await mailDocuments(env, MAIL_COLLECTION)).find((m) => m.to === account.login),
        `no mail to ${account.login} in ${MAIL_COLLECTION}`,
      );
      const all = await mailDocuments(env, MAIL_COLLECTION);
      assert.deepEqual(
        all.map((m) => m.to),
        [account.login],
        'one mail, and none to the unknown address',
      );
      assert.equal(mail.subject, 'Reset your firegate password');
      assert.equal(mail.from, 'firegate <no-reply@localhost>');
      const prefix = `${server.url}${REQUEST_PATH}?lang=en#token=`;
      const linkLine = new RegExp(`^${escapeRegExp(prefix)}([A-Za-z0-9_-]{43})$`, 'm');
      const found = mail.text.match(linkLine);
      assert.ok(found, `no link to ${prefix}… in the mail:\n${mail.text}`);
      [link, token] = found;
      assert.ok(mail.html.includes(token), 'the HTML part carries the same token');
    });

    test('the link opens the new-password form; the new password replaces the old', async () => {
      assert.ok(link, 'no link: the request test failed');
      const { page, consoleErrors } = await tab();
      const response = await page.goto(link);
      assert.equal(response.headers()['referrer-policy'], 'no-referrer');
      assert.equal(
        page.url(),
        `${server.url}${REQUEST_PATH}?lang=en`,
        'the token left the address bar, the language stayed',
      );
      assert.ok(await page.isVisible('#confirm-form'));
      assert.ok(await page.isHidden('#request-form'));

      await page.fill('#new-password', fresh);
      await page.fill('#repeat', fresh);
      await page.screenshot({ path: join(ARTIFACTS, 'reset-confirm.png'), fullPage: true });
      // Two different passwords are caught in the page, before anything is sent.
      await page.fill('#repeat', `${fresh}!`);
      await page.click('#confirm-form button[type=submit]');
      assert.equal(await page.textContent('#error'), 'The two passwords differ.');

      await page.fill('#repeat', fresh);
      const confirmed = await submit(page, '#confirm-form', CONFIRM_PATH);
      assert.equal(confirmed.status(), 204);
      assert.equal(confirmed.headers()['referrer-policy'], 'no-referrer');
      await page.waitForSelector('#success');
      assert.equal(await page.textContent('#success'), DONE);
      assert.ok(await page.isHidden('#confirm-form'), 'the form is gone once it has done its work');
      await page.screenshot({ path: join(ARTIFACTS, 'reset-done.png'), fullPage: true });
      assert.deepEqual(consoleErrors, [], 'the page logged errors');
      await page.close();

      const signed = await signIn(fresh);
      assert.equal(signed.status, 200, `the new password: ${JSON.stringify(signed.json)}`);
      assert.equal(signed.json.uid, account.uid);
      await verifyCustomToken(signed.json.token, env.key);
      const old = await signIn(account.password);
      assert.equal(old.status, 400, 'the old password still signs in');
      assert.equal(old.json.error, 'invalid_credentials');
    });

    test('the link works once: opened again, it shows the invalid-token error', async () => {
      assert.ok(link, 'no link: the request test failed');
      const { page, consoleErrors } = await tab();
      await page.goto(link);
      assert.ok(await page.isVisible('#confirm-form'));
      await page.fill('#new-password', 'a password set twice');
      await page.fill('#repeat', 'a password set twice');
      const refused = await submit(page, '#confirm-form', CONFIRM_PATH);
      assert.equal(refused.status(), 400);
      assert.equal((await refused.json()).error, 'invalid_token');
      await page.waitForSelector('#error');
      assert.equal(await page.textContent('#error'), INVALID_TOKEN);
      assert.equal(await page.$('#success'), null);
      // The only error is the browser's own note of the 400 response.
      assert.deepEqual(
        consoleErrors.filter((e) => !e.includes('status of 400')),
        [],
        'the page logged errors',
      );
      await page.close();

      assert.equal((await signIn('a password set twice')).status, 400, 'a used link set it');
      assert.equal((await signIn(fresh)).status, 200, 'the password of the first use stays');
    });

    test("the server's log holds neither the token nor a password", () => {
      assert.ok(token, 'no token: the request test failed');
      const log = readFileSync(join(env.runDir, LOG_NAME), 'utf8');
      assert.match(log, /password reset mail sent/, 'the log records the mail');
      for (const secret of [token, account.password, fresh]) {
        assert.ok(!log.includes(secret), `the log shows ${JSON.stringify(secret)}`);
      }
    });
  });
}
