// What a client app does: POST /login/ to firegate, check the custom token the way Google
// would (signature against the service account's public key, audience, issuer, lifetime),
// then sign in to the Auth emulator with the real Firebase JS SDK and use Firestore.

import assert from 'node:assert/strict';

import { deleteApp, initializeApp } from 'firebase/app';
import { connectAuthEmulator, getAuth, signOut } from 'firebase/auth';
import { connectFirestoreEmulator, getFirestore, setLogLevel, terminate } from 'firebase/firestore';
import { decodeProtectedHeader, jwtVerify } from 'jose';

export const CUSTOM_TOKEN_AUDIENCE =
  'https://identitytoolkit.googleapis.com/google.identity.identitytoolkit.v1.IdentityToolkit';

// Denied reads are expected here; the SDK would log each one as a warning.
setLogLevel('error');

/** POSTs `body` as JSON to firegate's `path`; resolves { status, json }. */
export async function postJson(firegateUrl, path, body) {
  const response = await fetch(`${firegateUrl}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = { unparsed: text };
  }
  return { status: response.status, json, headers: response.headers };
}

/**
 * Verifies a firegate custom token as Google does and returns its payload: RS256 signed by
 * `key` (header kid = its private_key_id), aud = the Identity Toolkit audience, iss = sub =
 * the service-account email, issued now, lifetime at most one hour.
 */
export async function verifyCustomToken(token, key) {
  const header = decodeProtectedHeader(token);
  assert.deepEqual(
    { alg: header.alg, typ: header.typ, kid: header.kid },
    { alg: 'RS256', typ: 'JWT', kid: key.kid },
    'custom-token header',
  );
  const { payload } = await jwtVerify(token, key.publicKey, {
    algorithms: ['RS256'],
    audience: CUSTOM_TOKEN_AUDIENCE,
    issuer: key.clientEmail,
    subject: key.clientEmail,
  });
  const now = Math.floor(Date.now() / 1000);
  assert.ok(Math.abs(payload.iat - now) <= 60, `iat ${payload.iat} is not now (${now})`);
  const lifetime = payload.exp - payload.iat;
  assert.ok(lifetime > 0 && lifetime <= 3600, `token lifetime ${lifetime} s is not in 1..3600`);
  assert.equal(typeof payload.uid, 'string');
  const uidLength = [...payload.uid].length;
  assert.ok(uidLength >= 1 && uidLength <= 128, `uid of ${uidLength} characters`);
  const allowed = ['aud', 'claims', 'exp', 'iat', 'iss', 'sub', 'tenant_id', 'uid'];
  const unexpected = Object.keys(payload).filter((k) => !allowed.includes(k));
  assert.deepEqual(unexpected, [], 'fields a Firebase custom token does not have');
  if ('claims' in payload) {
    assert.equal(typeof payload.claims, 'object');
    assert.ok(Object.keys(payload.claims).length > 0, 'an empty claims object is omitted');
  }
  return payload;
}

/**
 * Signs in through firegate with `body` and expects success: 200 {uid, token}, the token
 * verified by `verifyCustomToken` and carrying the same uid. Resolves { uid, token, payload }.
 */
export async function firegateLogin(env, body) {
  const { status, json } = await postJson(env.firegate.url, '/login/', body);
  assert.equal(status, 200, `POST /login/ answered ${status}: ${JSON.stringify(json)}`);
  assert.deepEqual(Object.keys(json).sort(), ['token', 'uid']);
  const payload = await verifyCustomToken(json.token, env.key);
  assert.equal(payload.uid, json.uid, 'the token is for the uid the response names');
  return { uid: json.uid, token: json.token, payload };
}

/**
 * A Firebase client app of its own (own Auth state, own Firestore connection), connected to
 * both emulators as an app under test would be.
 */
export function firebaseClient(env, name) {
  const app = initializeApp({ projectId: env.projectId, apiKey: 'fake-api-key' }, name);
  const auth = getAuth(app);
  connectAuthEmulator(auth, env.auth.url, { disableWarnings: true });
  const db = getFirestore(app);
  const [host, port] = env.firestore.host.split(':');
  connectFirestoreEmulator(db, host, Number(port));
  return {
    app,
    auth,
    db,
    async close() {
      await signOut(auth).catch(() => {});
      await terminate(db);
      await deleteApp(app);
    },
  };
}

/** Expects `promise` to reject with Firestore's permission-denied. */
export async function assertDenied(promise, what) {
  await assert.rejects(
    promise,
    (error) => {
      assert.equal(
        error.code,
        'permission-denied',
        `${what}: expected permission-denied, got ${error}`,
      );
      return true;
    },
    `${what} should be denied by firestore.rules`,
  );
}
