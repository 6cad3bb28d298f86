// The second factor end to end, against a `firegate serve` of its own that takes the Auth
// emulator's ID tokens (FIREBASE_AUTH_EMULATOR_HOST, a demo- project): sign in with the
// custom token through the Firebase JS SDK, enrol an authenticator with the user's ID token,
// sign out, sign in again through both steps, and use a recovery code once (and not twice).
// TOTP codes are computed here from the secret, as an authenticator app would. Registered by
// e2e.test.mjs on its environment.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { signInWithCustomToken, signOut } from 'firebase/auth';

import { firebaseClient, postJson, verifyCustomToken } from './lib/clients.mjs';
import { runFiregate, startFiregate } from './lib/firegate.mjs';

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

/** A self-service request with the user's ID token. */
async function authed(url, path, idToken, body) {
  const response = await fetch(`${url}${path}`, {
    method: body ? 'POST' : 'GET',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${idToken}` },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, json: await response.json() };
}

export function mfaSuite(getEnv) {
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
        serveArgs: ['--x509-base-url', env.x509.url],
        env: { FIREBASE_AUTH_EMULATOR_HOST: new URL(env.auth.url).host },
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
  });
}
