// The second factor end to end, against a `firegate serve` of its own that takes the Auth
// emulator's ID tokens (FIREBASE_AUTH_EMULATOR_HOST, a demo- project): sign in with the
// custom token through the Firebase JS SDK, enrol an authenticator with the user's ID token,
// sign out, sign in again through both steps, and use a recovery code once (and not twice).
// TOTP codes are computed here from the secret, as an authenticator app would. Registered by
// e2e.test.mjs on its environment.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { signInWithCustomToken, signOut } from 'firebase/auth';

import { collectConsoleErrors } from './lib/browser.mjs';
import { firebaseClient, postJson, verifyCustomToken } from './lib/clients.mjs';
import { runFiregate, startFiregate } from './lib/firegate.mjs';

const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), 'artifacts');
const SUITE_TIMEOUT = { timeout: 120_000 };
const HOOK_TIMEOUT = { timeout: 60_000 };

/** RFC 4648 base32, as authenticator apps read the secret. */
function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text.replace(/=+$/, '').toUpperCase()) {
    value = ((value << 5) | alphabet.indexOf(c)) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The RFC 6238 code (SHA-1, 6 digits, 30 s) of `secret` at `ms` since the epoch. */
function totp(secret, ms) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(ms / 1000 / 30)));
  const mac = createHmac('sha1', base32(secret)).update(counter).digest();
  const offset = mac[19] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/**
 * `errors` without the browser's own notes of answers the test asked for (`statuses`: a wrong
 * code's 400, a first step's 403, a lookup's 404).
 */
function unexpected(errors, statuses) {
  const expected = new RegExp(
    `^Failed to load resource: the server responded with a status of (${statuses.join('|')}) `,
  );
  return errors.filter((e) => !expected.test(e));
}

/** A self-service request with the user's ID token. */
async function authed(url, path, idToken, body) {
  const response = await fetch(`${url}${path}`, {
    method: body ? 'POST' : 'GET',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${idToken}` },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, json: await response.json() };
}

/**
 * `getEnv` gives the run's environment; `browser` the run's headless Chromium.
 */
export function mfaSuite(getEnv, browser) {
  describe('a second factor, through the Firebase JS SDK', SUITE_TIMEOUT, () => {
    const account = { login: 'mfa@example.com', password: 'second factor passphrase' };
    let env;
    let server;
    let client;

    before(async () => {
      env = getEnv();
      server = await startFiregate({
        bin: env.bin,
        runDir: env.runDir,
        settings: env.settings,
        serveArgs: ['--x509-base-url', env.x509.url, '--demo-page'],
        env: {
          FIREBASE_AUTH_EMULATOR_HOST: new URL(env.auth.url).host,
          FIREGATE_ADMIN_USER: env.admin.user,
          FIREGATE_ADMIN_PASSWORD_HASH: env.admin.hash,
        },
        logName: 'firegate-mfa.log',
      });
      const created = await runFiregate(env.bin, ['accounts', 'create', '--login', account.login], {
        input: `${account.password}\n`,
        settings: env.settings,
      });
      assert.equal(created.code, 0, `accounts create exited ${created.code}:\n${created.stderr}`);
      account.uid = created.stdout.trim();
      client = firebaseClient(env, 'mfa');
    }, HOOK_TIMEOUT);

    after(async () => {
      await client?.close();
      await server?.proc.stop();
    }, HOOK_TIMEOUT);

    const login = () =>
      postJson(server.url, '/login/', { email: account.login, password: account.password });

    test('enrols with the ID token, then signs in through both steps', async () => {
      const first = await login();
      assert.equal(first.status, 200, JSON.stringify(first.json));
      const { user } = await signInWithCustomToken(client.auth, first.json.token);
      const idToken = await user.getIdToken();

      const enrolled = await authed(server.url, '/mfa/totp/enroll/', idToken, {});
      assert.equal(enrolled.status, 200, JSON.stringify(enrolled.json));
      assert.match(enrolled.json.uri, /^otpauth:\/\/totp\//);
      assert.match(enrolled.json.qr_svg, /<svg/);
      const secret = enrolled.json.secret;
      const confirmed = await authed(server.url, '/mfa/totp/confirm/', idToken, {
        code: totp(secret, Date.now()),
      });
      assert.equal(confirmed.status, 200, JSON.stringify(confirmed.json));
      assert.equal(confirmed.json.recovery_codes.length, 10);
      account.secret = secret;
      account.recovery = confirmed.json.recovery_codes;
      await signOut(client.auth);

      const challenged = await login();
      assert.equal(challenged.status, 403, JSON.stringify(challenged.json));
      assert.equal(challenged.json.error, 'second_factor_required');
      assert.deepEqual(challenged.json.factors, ['totp', 'recovery_code']);
      assert.equal(challenged.json.token, undefined, 'no token before the second step');
      // The next step's code: the current one was spent by the confirmation.
      const second = await postJson(server.url, '/login/second-factor/', {
        mfa_token: challenged.json.mfa_token,
        code: totp(secret, Date.now() + 30_000),
      });
      assert.equal(second.status, 200, JSON.stringify(second.json));
      const payload = await verifyCustomToken(second.json.token, env.key);
      assert.equal(payload.uid, account.uid);
      const signedIn = await signInWithCustomToken(client.auth, second.json.token);
      assert.equal(signedIn.user.uid, account.uid);
      const listed = await authed(server.url, '/mfa/', await signedIn.user.getIdToken());
      assert.equal(listed.status, 200, JSON.stringify(listed.json));
      assert.equal(listed.json.factors[0].kind, 'totp');
      await signOut(client.auth);
    });

    test('a recovery code signs in once, and not twice', async () => {
      assert.ok(account.recovery, 'the enrolment test ran first');
      const code = account.recovery[0];
      const first = await login();
      assert.equal(first.status, 403);
      const used = await postJson(server.url, '/login/second-factor/', {
        mfa_token: first.json.mfa_token,
        code,
      });
      assert.equal(used.status, 200, JSON.stringify(used.json));
      const { user } = await signInWithCustomToken(client.auth, used.json.token);
      assert.equal(user.uid, account.uid);
      await signOut(client.auth);

      const again = await login();
      assert.equal(again.status, 403);
      const reused = await postJson(server.url, '/login/second-factor/', {
        mfa_token: again.json.mfa_token,
        code,
      });
      assert.equal(reused.status, 400);
      assert.equal(reused.json.error, 'invalid_credentials');
    });

    test('the demo sign-in page asks for the code after the password', async () => {
      assert.ok(account.recovery, 'the enrolment test ran first');
      const tab = await (await browser()).newPage();
      try {
        const errors = collectConsoleErrors(tab);
        assert.equal((await tab.goto(`${server.url}/login/`)).status(), 200);
        await tab.fill('#login', account.login);
        await tab.fill('#password', account.password);
        await tab.click('#login-form button');
        await tab.waitForSelector('#code-form', { state: 'visible' });
        assert.ok(await tab.isHidden('#login-form'), 'the password form gives way to the code');
        assert.match(await tab.textContent('#code-form p'), /authenticator app/);

        await tab.fill('#code', '000000');
        await tab.click('#code-form button');
        await tab.waitForSelector('#error');
        assert.equal(await tab.textContent('#error'), 'The code does not match.');
        assert.ok(await tab.isVisible('#code-form'), 'a wrong code leaves the code step open');

        await tab.fill('#code', account.recovery[1]);
        const [response] = await Promise.all([
          tab.waitForResponse((r) => r.url().endsWith('/login/second-factor/')),
          tab.click('#code-form button'),
        ]);
        assert.equal(response.status(), 200);
        await tab.waitForSelector('#success');
        assert.equal(
          (await tab.textContent('#success')).replace(/[\u2068\u2069]/g, ''),
          `Signed in as uid ${account.uid}`,
        );
        assert.equal(JSON.parse(await tab.textContent('#claims')).uid, account.uid);
        assert.ok(await tab.isHidden('#code-form'), 'signed in: the code step is closed');
        mkdirSync(ARTIFACTS, { recursive: true });
        await tab.screenshot({ path: join(ARTIFACTS, 'login-second-factor.png'), fullPage: true });
        assert.deepEqual(unexpected(errors, [400, 403]), []);
      } finally {
        await tab.close();
      }

      // In Korean for a Korean browser.
      const korean = await (await browser()).newContext({ locale: 'ko-KR' });
      try {
        const tab = await korean.newPage();
        await tab.goto(`${server.url}/login/`);
        await tab.fill('#login', account.login);
        await tab.fill('#password', account.password);
        await tab.click('#login-form button');
        await tab.waitForSelector('#code-form', { state: 'visible' });
        assert.match(await tab.textContent('#code-form p'), /2단계 인증/);
        assert.equal(await tab.textContent('#code-form button'), '확인');
      } finally {
        await korean.close();
      }
    });

    test('the demo enrolment page shows the QR code, confirms a code and shows the recovery codes once', async () => {
      const other = { login: 'setup@example.com', password: 'enrolment page passphrase' };
      const created = await runFiregate(env.bin, ['accounts', 'create', '--login', other.login], {
        input: `${other.password}\n`,
        settings: env.settings,
      });
      assert.equal(created.code, 0, created.stderr);
      const tab = await (await browser()).newPage();
      try {
        const errors = collectConsoleErrors(tab);
        assert.equal((await tab.goto(`${server.url}/mfa/setup/`)).status(), 200);
        await tab.fill('#login', other.login);
        await tab.fill('#password', other.password);
        await tab.click('#sign-in-form button');
        await tab.waitForSelector('#scan', { state: 'visible' });
        const secret = await tab.textContent('#secret');
        assert.match(secret, /^[A-Z2-7]{16,}$/);
        // The QR code is the enrolment's SVG, drawn.
        const src = await tab.getAttribute('#qr', 'src');
        assert.match(Buffer.from(src.split(',')[1], 'base64').toString(), /<svg/);
        assert.ok(await tab.evaluate(() => document.getElementById('qr').naturalWidth > 0), 'the QR code is drawn');

        await tab.fill('#code', '000000');
        await tab.click('#confirm-form button');
        await tab.waitForSelector('#error');
        assert.equal(await tab.textContent('#error'), 'The code does not match.');
        await tab.fill('#code', totp(secret, Date.now()));
        await tab.click('#confirm-form button');
        await tab.waitForSelector('#done', { state: 'visible' });
        const codes = await tab.$$eval('#recovery-codes li', (items) => items.map((li) => li.textContent));
        assert.equal(codes.length, 10);
        assert.ok(codes.every((c) => /^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/.test(c)), codes.join(' '));
        assert.ok(await tab.isHidden('#scan'), 'the key is gone from the page');
        assert.equal(await tab.textContent('#secret'), '');
        mkdirSync(ARTIFACTS, { recursive: true });
        await tab.screenshot({ path: join(ARTIFACTS, 'mfa-setup-done.png'), fullPage: true });
        assert.deepEqual(unexpected(errors, [400]), []);

        // The factor is on: the password now leads to the second step, which a recovery code
        // shown by the page finishes.
        const first = await postJson(server.url, '/login/', { email: other.login, password: other.password });
        assert.equal(first.status, 403, JSON.stringify(first.json));
        const second = await postJson(server.url, '/login/second-factor/', {
          mfa_token: first.json.mfa_token,
          code: codes[0],
        });
        assert.equal(second.status, 200, JSON.stringify(second.json));
      } finally {
        await tab.close();
      }
    });

    test("an admin resets the factors with the account page's button", async () => {
      assert.ok(account.recovery, 'the enrolment test ran first');
      const context = await (await browser()).newContext({
        httpCredentials: {
          username: env.admin.user,
          password: env.admin.password,
          origin: server.url,
        },
      });
      try {
        const tab = await context.newPage();
        const errors = collectConsoleErrors(tab);
        const said = (text) =>
          tab.waitForFunction((t) => document.getElementById('message').textContent === t, text, {
            timeout: 10_000,
          });
        const field = (name) => tab.textContent(`#account-fields dd[data-field="${name}"]`);
        assert.equal((await tab.goto(`${server.url}/admin/`)).status(), 200);
        await tab.fill('#search-query', account.login);
        await tab.click('#search button');
        await said(`Found ${account.login}.`);
        assert.match(await field('Second factor'), /^authenticator app since .*, 8 recovery codes left$/);
        assert.ok(await tab.isVisible('#reset-mfa'), 'the reset button is offered');

        // Asked first; declining changes nothing.
        const questions = [];
        tab.once('dialog', (dialog) => {
          questions.push(dialog.message());
          dialog.dismiss();
        });
        await tab.click('#reset-mfa');
        assert.match(questions[0] ?? '', /Remove every second factor of/);
        assert.equal((await login()).status, 403, 'declined: the factor stays');

        tab.once('dialog', (dialog) => dialog.accept());
        await tab.click('#reset-mfa');
        await said(`The second factors of ${account.uid} are removed.`);
        assert.equal(await field('Second factor'), 'none');
        assert.ok(!(await tab.isVisible('#reset-mfa')), 'nothing left to reset');
        assert.deepEqual(unexpected(errors, [404]), []);
      } finally {
        await context.close();
      }

      // The password alone signs in again, and the audit trail names the admin.
      const plain = await login();
      assert.equal(plain.status, 200, JSON.stringify(plain.json));
      const audit = await fetch(`${server.url}/admin/api/audit`, {
        headers: {
          Authorization: `Basic ${Buffer.from(`${env.admin.user}:${env.admin.password}`).toString('base64')}`,
        },
      });
      const entries = await audit.json();
      const reset = entries.find((e) => e.action === 'reset-mfa' && e.uid === account.uid);
      assert.ok(reset, `no reset-mfa entry in ${JSON.stringify(entries)}`);
      assert.equal(reset.admin, env.admin.user);
    });
  });
}
