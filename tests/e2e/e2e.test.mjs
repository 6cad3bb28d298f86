// firegate end to end: the real binary against the Firestore emulator (with the repository's
// firestore.rules) and the Firebase Auth emulator, driven by the Firebase JS SDK and by a
// headless Chromium, with every custom token checked against the service account's key.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { signInWithCustomToken } from 'firebase/auth';
import { collection, doc, getDoc, getDocs, setDoc } from 'firebase/firestore';
import { SignJWT, decodeJwt, jwtVerify } from 'jose';
import { chromium } from 'playwright-core';

import {
  CUSTOM_TOKEN_AUDIENCE,
  assertDenied,
  firebaseClient,
  firegateLogin,
  postJson,
  verifyCustomToken,
} from './lib/clients.mjs';
import { ownerClient } from './lib/firestore-admin.mjs';
import { REPO_ROOT } from './lib/firegate.mjs';
import { cli, startEnvironment, stopEnvironment } from './lib/harness.mjs';
import { stopAll } from './lib/processes.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ARTIFACTS = join(HERE, 'artifacts');

const TEACHER = { login: 'e2e@example.com', password: 'correct horse battery staple' };
const STUDENT = { login: 'student@example.com', password: 'another long passphrase' };

/** Bounds for each group of tests and for each hook (hooks have no default timeout). */
const SUITE_TIMEOUT = { timeout: 120_000 };
const HOOK_TIMEOUT = { timeout: 60_000 };

/** firegate's one answer to every failed sign-in. */
const INVALID_CREDENTIALS = {
  error: 'invalid_credentials',
  message: 'Invalid login or password.',
};

let env;

before(
  async () => {
    env = await startEnvironment();
  },
  // Without FIREGATE_BIN the start includes `cargo build`, which may compile from scratch.
  { timeout: process.env.FIREGATE_BIN ? 240_000 : 1_200_000 },
);

after(
  async () => {
    await stopEnvironment(env, { logsTo: join(ARTIFACTS, 'logs') });
    // Whatever a start-up cut short by its timeout may still have left running.
    await stopAll();
  },
  { timeout: 30_000 },
);

/** Creates an account with the admin CLI (password on stdin) and returns its uid. */
async function createAccount({ login, password }, extraArgs = []) {
  const stdout = await cli(env, ['accounts', 'create', '--login', login, ...extraArgs], {
    input: `${password}\n`,
  });
  const uid = stdout.trim();
  assert.match(uid, /^\S{1,128}$/, `accounts create printed ${JSON.stringify(stdout)}`);
  return uid;
}

/** A Firebase client signed in with `token`, checked to be that uid. */
async function signedInClient(name, { uid, token }) {
  const client = firebaseClient(env, name);
  const credential = await signInWithCustomToken(client.auth, token);
  assert.equal(credential.user.uid, uid);
  assert.equal(client.auth.currentUser?.uid, uid, 'auth.currentUser.uid is the firegate uid');
  return client;
}

describe('an account created with `firegate accounts create`', SUITE_TIMEOUT, () => {
  const teacher = { ...TEACHER, claims: { role: 'teacher' } };
  const student = { ...STUDENT };
  const sessions = new Map();

  /** `account` signed in through firegate and Firebase Auth, once per account. */
  function session(account) {
    if (!sessions.has(account)) {
      sessions.set(
        account,
        (async () => {
          const login = await firegateLogin(env, {
            email: account.login,
            password: account.password,
          });
          assert.equal(login.uid, account.uid, 'firegate signs in the uid the CLI printed');
          return { login, client: await signedInClient(account.login, login) };
        })(),
      );
    }
    return sessions.get(account);
  }

  before(async () => {
    teacher.uid = await createAccount(teacher, ['--claims', JSON.stringify(teacher.claims)]);
    student.uid = await createAccount(student);
  }, HOOK_TIMEOUT);

  after(async () => {
    const opened = await Promise.allSettled(sessions.values());
    await Promise.all(opened.filter((s) => s.value).map((s) => s.value.client.close()));
  }, HOOK_TIMEOUT);

  test('signs in through firegate, then Firebase Auth, with its claims in the ID token', async () => {
    const { login, client } = await session(teacher);
    assert.deepEqual(login.payload.claims, { role: 'teacher' });
    const idToken = await client.auth.currentUser.getIdTokenResult();
    assert.equal(idToken.claims.role, 'teacher', 'custom claims reach the Firebase ID token');
    assert.equal(idToken.claims.user_id, teacher.uid);
    assert.equal(idToken.signInProvider, 'custom');

    const other = await session(student);
    assert.equal(other.login.payload.claims, undefined, 'no claims object without claims');
    const studentToken = await other.client.auth.currentUser.getIdTokenResult();
    assert.equal(studentToken.claims.role, undefined);
  });

  test('a wrong password gets 400 and no token', async () => {
    const { status, json } = await postJson(env.firegate.url, '/login/', {
      email: TEACHER.login,
      password: `${TEACHER.password}!`,
    });
    assert.equal(status, 400);
    assert.deepEqual(json, INVALID_CREDENTIALS);
  });

  test('reads and writes its own users/{uid} document', async () => {
    const [{ client: t }, { client: s }] = [await session(teacher), await session(student)];
    const mine = doc(t.db, 'users', teacher.uid);
    await setDoc(mine, { displayName: 'Ms Kim', timetable: ['maths', 'music'] });
    const snapshot = await getDoc(mine);
    assert.deepEqual(snapshot.data(), { displayName: 'Ms Kim', timetable: ['maths', 'music'] });
    await setDoc(doc(s.db, 'users', student.uid), { displayName: 'Student' });
  });

  test("cannot read or write another user's document", async () => {
    const [{ client: t }, { client: s }] = [await session(teacher), await session(student)];
    await setDoc(doc(s.db, 'users', student.uid), { displayName: 'Student' });
    await assertDenied(
      getDoc(doc(s.db, 'users', teacher.uid)),
      "the student reading the teacher's users doc",
    );
    await assertDenied(
      setDoc(doc(t.db, 'users', student.uid), { displayName: 'hijacked' }),
      "the teacher writing the student's users doc",
    );
    const owner = ownerClient(env.firestore.url, env.projectId);
    const studentDoc = await owner.get(`users/${student.uid}`);
    assert.equal(
      studentDoc.fields.displayName.stringValue,
      'Student',
      'the denied write left no trace',
    );
  });

  test("cannot read, list or write firegate's credential documents", async () => {
    // The documents exist, so a denial is the rules' doing and not a missing document.
    const owner = ownerClient(env.firestore.url, env.projectId);
    const account = await owner.get(`firegate_accounts/${teacher.uid}`);
    assert.ok(account?.fields?.password_hash, 'firegate stored the account with its hash');
    assert.ok(
      await owner.get(`firegate_logins/${TEACHER.login}`),
      'firegate stored the login index',
    );

    const { db } = (await session(teacher)).client;
    await assertDenied(
      getDoc(doc(db, 'firegate_accounts', teacher.uid)),
      'reading its own account document',
    );
    await assertDenied(
      getDoc(doc(db, 'firegate_accounts', student.uid)),
      "reading another's account document",
    );
    await assertDenied(
      getDoc(doc(db, 'firegate_logins', TEACHER.login)),
      'reading the login index',
    );
    await assertDenied(getDocs(collection(db, 'firegate_accounts')), 'listing the accounts');
    await assertDenied(getDocs(collection(db, 'firegate_logins')), 'listing the logins');
    await assertDenied(getDocs(collection(db, 'firegate_lockouts')), 'listing the lockouts');
    await assertDenied(getDoc(doc(db, 'firegate_keys', 'state')), 'reading the key state');
    await assertDenied(
      setDoc(
        doc(db, 'firegate_accounts', teacher.uid),
        { claims: '{"role":"admin"}' },
        { merge: true },
      ),
      'granting itself claims',
    );
    await assertDenied(
      setDoc(doc(db, 'firegate_logins', 'admin@example.com'), { uid: teacher.uid }),
      'claiming a login',
    );
  });

  test('a claim decides access: teachers read schools, others do not', async () => {
    const [{ client: t }, { client: s }] = [await session(teacher), await session(student)];
    const owner = ownerClient(env.firestore.url, env.projectId);
    await owner.create('schools', 'seoul-1', { name: 'Seoul First' });
    const snapshot = await getDoc(doc(t.db, 'schools', 'seoul-1'));
    assert.equal(snapshot.data()?.name, 'Seoul First');
    await assertDenied(getDoc(doc(s.db, 'schools', 'seoul-1')), 'a student reading a school');
    await assertDenied(
      setDoc(doc(t.db, 'schools', 'seoul-1'), { name: 'renamed' }),
      'a teacher writing a school',
    );
  });
});

describe('an account registered with POST /register/', SUITE_TIMEOUT, () => {
  const NEWCOMER = { email: 'newcomer@example.com', password: 'a brand new passphrase' };
  let client;

  after(async () => {
    await client?.close();
  }, HOOK_TIMEOUT);

  test('registers, signs in and owns its users/{uid} document; a second registration is 409', async () => {
    const registered = await postJson(env.firegate.url, '/register/', NEWCOMER);
    assert.equal(
      registered.status,
      201,
      `POST /register/ answered ${registered.status}: ${JSON.stringify(registered.json)}`,
    );
    const { uid } = registered.json;
    assert.match(uid, /^\S{1,128}$/);

    const login = await firegateLogin(env, NEWCOMER);
    assert.equal(login.uid, uid, 'the registered account signs in as the uid /register/ returned');
    client = await signedInClient('newcomer', login);
    await setDoc(doc(client.db, 'users', uid), { displayName: 'Newcomer' });
    await assertDenied(
      getDoc(doc(client.db, 'firegate_accounts', uid)),
      'reading its own account document',
    );

    const again = await postJson(env.firegate.url, '/register/', {
      email: NEWCOMER.email.toUpperCase(),
      password: 'something else entirely',
    });
    assert.equal(
      again.status,
      409,
      `a second registration answered ${again.status}: ${JSON.stringify(again.json)}`,
    );
  });
});

describe('a legacy account with a Werkzeug hash', SUITE_TIMEOUT, () => {
  const LEGACY = { uid: '1042', username: 'kim' };
  let fixture;
  let client;

  before(async () => {
    // The hash Werkzeug 2.2's generate_password_hash wrote by default: PBKDF2-SHA256 at
    // 260,000 rounds, more than Firebase Auth's user import accepts.
    fixture = readFileSync(join(REPO_ROOT, 'tests', 'fixtures', 'legacy-hashes.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line))
      .find(
        (h) => h.source.startsWith('werkzeug 2.') && h.hash.startsWith('pbkdf2:sha256:260000$'),
      );
    assert.ok(
      fixture,
      'tests/fixtures/legacy-hashes.jsonl lacks a werkzeug pbkdf2:sha256:260000 hash',
    );
    // The two documents an import leaves, written with owner rights as firegate's store would.
    const owner = ownerClient(env.firestore.url, env.projectId);
    const now = new Date();
    await owner.create('firegate_accounts', LEGACY.uid, {
      uid: LEGACY.uid,
      username: LEGACY.username,
      logins: [LEGACY.username],
      password_hash: fixture.hash,
      hash_dialect: 'werkzeug',
      hash_scheme: 'werkzeug-pbkdf2-sha256',
      created_at: now,
      updated_at: now,
      disabled: false,
    });
    await owner.create('firegate_logins', LEGACY.username, { uid: LEGACY.uid });
    const shown = JSON.parse(await cli(env, ['accounts', 'show', LEGACY.username]));
    assert.equal(shown.uid, LEGACY.uid, 'firegate reads the legacy account documents');
    assert.equal(shown.hash_dialect, 'werkzeug');
    assert.equal(shown.hash_scheme, 'werkzeug-pbkdf2-sha256');
  }, HOOK_TIMEOUT);

  after(async () => {
    await client?.close();
  }, HOOK_TIMEOUT);

  test('signs in with a bare username, keeping its legacy uid', async () => {
    const wrong = await postJson(env.firegate.url, '/login/', {
      username: LEGACY.username,
      password: fixture.wrong,
    });
    assert.equal(wrong.status, 400);
    assert.deepEqual(wrong.json, INVALID_CREDENTIALS);

    const login = await firegateLogin(env, {
      username: LEGACY.username,
      password: fixture.password,
    });
    assert.equal(login.uid, LEGACY.uid);
    client = await signedInClient('legacy', login);
    await setDoc(doc(client.db, 'users', LEGACY.uid), { displayName: 'Kim' });
  });

  test('is upgraded to argon2id after signing in, and still signs in', async () => {
    const owner = ownerClient(env.firestore.url, env.projectId);
    const deadline = Date.now() + 10_000;
    let stored;
    do {
      stored = await owner.get(`firegate_accounts/${LEGACY.uid}`);
      if (stored.fields.password_hash.stringValue.startsWith('$argon2id$')) break;
      await new Promise((r) => setTimeout(r, 100));
    } while (Date.now() < deadline);
    assert.match(
      stored.fields.password_hash.stringValue,
      /^\$argon2id\$/,
      'the Werkzeug hash was replaced',
    );
    const login = await firegateLogin(env, { email: LEGACY.username, password: fixture.password });
    assert.equal(login.uid, LEGACY.uid);
  });
});

describe('custom-token signatures, checked independently of firegate', SUITE_TIMEOUT, () => {
  test("verify against the service account's public key and no other", async () => {
    const { token } = await firegateLogin(env, {
      email: TEACHER.login,
      password: TEACHER.password,
    });
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    await assert.rejects(
      jwtVerify(token, stranger, { algorithms: ['RS256'] }),
      { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' },
      'a token must not verify against an unrelated key',
    );

    const [header, , signature] = token.split('.');
    const forged = Buffer.from(
      JSON.stringify({ ...decodeJwt(token), uid: 'someone-else' }),
    ).toString('base64url');
    await assert.rejects(
      verifyCustomToken(`${header}.${forged}.${signature}`, env.key),
      { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' },
      'a token whose payload was edited must not verify',
    );
  });
});

describe('what the Firebase Auth emulator checks in a custom token', SUITE_TIMEOUT, () => {
  // The emulator decodes custom tokens without verifying them, so these tokens are re-signed
  // with the real key and differ from firegate's in exactly one respect.
  let genuine;

  before(async () => {
    genuine = decodeJwt(
      (await firegateLogin(env, { email: TEACHER.login, password: TEACHER.password })).token,
    );
  }, HOOK_TIMEOUT);

  function sign(payload, privateKey = env.key.privateKey) {
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: env.key.kid })
      .sign(privateKey);
  }

  /** The emulator's REST answer to accounts:signInWithCustomToken. */
  async function exchange(token) {
    const response = await fetch(
      `${env.auth.url}/identitytoolkit.googleapis.com/v1/accounts:signInWithCustomToken?key=fake-api-key`,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ token, returnSecureToken: true }),
      },
    );
    return { status: response.status, body: await response.json() };
  }

  async function assertRejected(token, message) {
    const { status, body } = await exchange(token);
    assert.equal(status, 400, `expected a rejection, got ${status}: ${JSON.stringify(body)}`);
    assert.match(body.error.message, message);
  }

  test("rejects a token for another project's audience", async () => {
    // What a Firebase ID token of another project carries, mistaken for a custom token.
    const token = await sign({ ...genuine, aud: 'demo-some-other-project' });
    await assertRejected(token, /^INVALID_CUSTOM_TOKEN/);
    const client = firebaseClient(env, 'wrong-audience');
    try {
      await assert.rejects(signInWithCustomToken(client.auth, token), {
        code: 'auth/invalid-custom-token',
      });
    } finally {
      await client.close();
    }
  });

  test('rejects a token without a uid', async () => {
    const { uid: _uid, ...payload } = genuine;
    await assertRejected(await sign(payload), /^MISSING_IDENTIFIER/);
  });

  test('rejects reserved claim names', async () => {
    const reserved = [
      'acr',
      'amr',
      'at_hash',
      'aud',
      'auth_time',
      'azp',
      'cnf',
      'c_hash',
      'exp',
      'firebase',
      'iat',
      'iss',
      'jti',
      'nbf',
      'nonce',
      'sub',
    ];
    for (const name of reserved) {
      const token = await sign({ ...genuine, claims: { role: 'teacher', [name]: 'x' } });
      await assertRejected(token, new RegExp(`^FORBIDDEN_CLAIM : ${name}$`));
    }
  });

  test('accepts what it does not verify, which is why the tokens are checked above', async () => {
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const [header, , signature] = (await sign(genuine)).split('.');
    const tampered = Buffer.from(JSON.stringify({ ...genuine, uid: 'tampered-uid' })).toString(
      'base64url',
    );
    const now = Math.floor(Date.now() / 1000);
    const unchecked = {
      'a payload edited after signing': `${header}.${tampered}.${signature}`,
      'a signature by an unknown key': await sign(genuine, stranger),
      "another project's issuer": await sign({
        ...genuine,
        iss: 'x@demo-other.iam.gserviceaccount.com',
      }),
      'an expired token': await sign({ ...genuine, iat: now - 7200, exp: now - 3600 }),
      'a lifetime over one hour': await sign({ ...genuine, exp: now + 86_400 }),
      'a uid over 128 characters': await sign({ ...genuine, uid: 'u'.repeat(129) }),
    };
    for (const [what, token] of Object.entries(unchecked)) {
      const { status, body } = await exchange(token);
      assert.equal(
        status,
        200,
        `the emulator now rejects ${what} (${JSON.stringify(body)}): assert that above instead`,
      );
    }
  });
});

describe('the sign-in page in a browser', SUITE_TIMEOUT, () => {
  let browser;
  let page;
  const consoleErrors = [];

  before(async () => {
    const executablePath = [
      process.env.CHROMIUM_PATH,
      '/usr/bin/chromium',
      '/usr/bin/chromium-browser',
    ].find((p) => p && existsSync(p));
    assert.ok(
      executablePath,
      'Chromium is missing: `apt-get install chromium` (see .ci/run) or set CHROMIUM_PATH',
    );
    browser = await chromium.launch({
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
    page = await browser.newPage();
    // A Content-Security-Policy violation or a script error shows up here.
    page.on('console', (message) => {
      // Chromium asks for /favicon.ico on its own; firegate rightly answers 404.
      if (message.type() === 'error' && !message.location().url?.endsWith('/favicon.ico')) {
        consoleErrors.push(message.text());
      }
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    mkdirSync(ARTIFACTS, { recursive: true });
  }, HOOK_TIMEOUT);

  after(async () => {
    await browser?.close();
  }, HOOK_TIMEOUT);

  test('signs in and shows the uid and the decoded claims', async () => {
    await page.goto(`${env.firegate.url}/login/`);
    await page.fill('#login', TEACHER.login);
    await page.fill('#password', TEACHER.password);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/login/') && r.request().method() === 'POST'),
      page.click('button[type=submit]'),
    ]);
    const body = await response.json();
    assert.equal(response.status(), 200);
    await verifyCustomToken(body.token, env.key);

    await page.waitForSelector('#success');
    await page.screenshot({ path: join(ARTIFACTS, 'login-success.png'), fullPage: true });
    assert.equal(await page.textContent('#success'), `Signed in as uid ${body.uid}`);
    const shown = JSON.parse(await page.textContent('#claims'));
    assert.equal(shown.uid, body.uid);
    assert.deepEqual(shown.claims, { role: 'teacher' });
    assert.equal(shown.aud, CUSTOM_TOKEN_AUDIENCE);
    assert.deepEqual(consoleErrors, [], 'the page logged errors');
  });

  test('a wrong password shows the error', async () => {
    await page.goto(`${env.firegate.url}/login/`);
    await page.fill('#login', TEACHER.login);
    await page.fill('#password', 'not the password');
    await page.click('button[type=submit]');
    await page.waitForSelector('#error');
    await page.screenshot({ path: join(ARTIFACTS, 'login-error.png'), fullPage: true });
    assert.equal(await page.textContent('#error'), 'Invalid login or password.');
    assert.equal(await page.$('#success'), null);
    // The only error is the browser's own note of the 400 response.
    assert.deepEqual(
      consoleErrors.filter((e) => !e.includes('status of 400')),
      [],
      'the page logged errors',
    );
  });
});
