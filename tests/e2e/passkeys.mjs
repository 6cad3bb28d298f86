// Passkeys end to end, against a `firegate serve` of its own (relying party `localhost`, the
// demo page on, the Auth emulator's ID tokens taken): a user signed in with the custom token
// through the Firebase JS SDK hands its ID token to the demo page, which registers a passkey
// with Chromium's virtual authenticator (DevTools protocol: CTAP2, internal transport,
// resident keys, user verification); the page then signs in with the passkey alone, and its
// custom token signs in to the Auth emulator. Registered by e2e.test.mjs on its environment.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { signInWithCustomToken, signOut } from 'firebase/auth';

import { collectConsoleErrors } from './lib/browser.mjs';
import { firebaseClient, postJson, verifyCustomToken } from './lib/clients.mjs';
import { runFiregate, startFiregate } from './lib/firegate.mjs';
import { freePort } from './lib/processes.mjs';

const SUITE_TIMEOUT = { timeout: 120_000 };
const HOOK_TIMEOUT = { timeout: 60_000 };

export function passkeySuite(getEnv, browser) {
  describe('a passkey, in Chromium with a virtual authenticator', SUITE_TIMEOUT, () => {
    const account = { login: 'passkey@example.com', password: 'passkey demo passphrase' };
    let env;
    let server;
    let client;
    let context;
    let origin;

    before(async () => {
      env = getEnv();
      const port = await freePort();
      // Browsers take `localhost` as a relying party; an IP address is none.
      origin = `http://localhost:${port}`;
      server = await startFiregate({
        bin: env.bin,
        runDir: env.runDir,
        settings: env.settings,
        serveArgs: [
          '--x509-base-url', env.x509.url,
          '--demo-page',
          '--webauthn-rp-id', 'localhost',
          '--webauthn-origin', origin,
        ],
        env: { FIREBASE_AUTH_EMULATOR_HOST: new URL(env.auth.url).host },
        logName: 'firegate-passkeys.log',
        port,
      });
      const created = await runFiregate(env.bin, ['accounts', 'create', '--login', account.login], {
        input: `${account.password}\n`,
        settings: env.settings,
      });
      assert.equal(created.code, 0, `accounts create exited ${created.code}:\n${created.stderr}`);
      account.uid = created.stdout.trim();
      client = firebaseClient(env, 'passkeys');
      context = await (await browser()).newContext();
    }, HOOK_TIMEOUT);

    after(async () => {
      await context?.close();
      await client?.close();
      await server?.proc.stop();
    }, HOOK_TIMEOUT);

    test('the demo page registers a passkey, then signs in with it alone', async () => {
      const first = await postJson(server.url, '/login/', {
        email: account.login,
        password: account.password,
      });
      assert.equal(first.status, 200, JSON.stringify(first.json));
      const { user } = await signInWithCustomToken(client.auth, first.json.token);
      const idToken = await user.getIdToken();
      await signOut(client.auth);

      const page = await context.newPage();
      const consoleErrors = collectConsoleErrors(page);
      const cdp = await context.newCDPSession(page);
      await cdp.send('WebAuthn.enable');
      const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: {
          protocol: 'ctap2',
          transport: 'internal',
          hasResidentKey: true,
          hasUserVerification: true,
          isUserVerified: true,
        },
      });
      const response = await page.goto(`${origin}/passkeys/demo/`);
      assert.equal(response.status(), 200);

      await page.fill('#id-token', idToken);
      await page.fill('#passkey-name', 'Virtual authenticator');
      await page.click('#register');
      await page.waitForSelector('#success, #error');
      assert.equal(await page.locator('#error').count(), 0, await page.locator('#result').innerText());
      assert.match(await page.locator('#success').innerText(), /Virtual authenticator/);
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      assert.equal(credentials.length, 1);
      assert.equal(credentials[0].isResidentCredential, true, 'a discoverable credential');
      assert.equal(credentials[0].rpId, 'localhost');

      // No login typed: the authenticator offers its discoverable credential.
      await page.click('#passkey-sign-in');
      await page.waitForSelector('#success:has-text("Signed in"), #error');
      assert.equal(await page.locator('#error').count(), 0, await page.locator('#result').innerText());
      const token = (await page.locator('#detail').innerText()).trim();
      const payload = await verifyCustomToken(token, env.key);
      assert.equal(payload.uid, account.uid);
      const signedIn = await signInWithCustomToken(client.auth, token);
      assert.equal(signedIn.user.uid, account.uid);
      await signOut(client.auth);
      const { credentials: after } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      assert.ok(after[0].signCount >= 1, 'the assertion moved the counter');
      assert.deepEqual(consoleErrors, [], 'the demo page logged errors');
      await page.close();
    });
  });
}
