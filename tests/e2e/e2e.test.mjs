// firegate end to end: the real binary against the Firestore emulator (with the repository's
// firestore.rules) and the Firebase Auth emulator, driven by the Firebase JS SDK and by a
// headless Chromium (sign-in and admin pages), with every custom token checked against the
// service account's key.

import assert from 'node:assert/strict';
import { X509Certificate, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { deleteApp, initializeApp } from 'firebase/app';
import { connectAuthEmulator, getAuth, signInWithCustomToken } from 'firebase/auth';
import { collection, doc, getDoc, getDocs, setDoc } from 'firebase/firestore';
import { SignJWT, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';

import { bridgeSuite } from './bridge.mjs';
import { mfaSuite } from './mfa.mjs';
import { passkeySuite } from './passkeys.mjs';
import { resetSuite } from './reset.mjs';
import { collectConsoleErrors, launchChromium } from './lib/browser.mjs';
import {
  CUSTOM_TOKEN_AUDIENCE,
  assertDenied,
  firebaseClient,
  firegateLogin,
  postJson,
  verifyCustomToken,
} from './lib/clients.mjs';
import { ownerClient } from './lib/firestore-admin.mjs';
import { REPO_ROOT, startFiregate } from './lib/firegate.mjs';
import { cli, cliResult, startEnvironment, stopEnvironment } from './lib/harness.mjs';
import { eventually, stopAll } from './lib/processes.mjs';

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
let chromium;

/** The run's one headless Chromium, launched on first use and closed with the run. */
function browser() {
  chromium ??= launchChromium();
  return chromium;
}

before(
  async () => {
    env = await startEnvironment();
  },
  // Without FIREGATE_BIN the start includes `cargo build`, which may compile from scratch.
  { timeout: process.env.FIREGATE_BIN ? 240_000 : 1_200_000 },
);

after(
  async () => {
    await chromium?.then((b) => b.close()).catch(() => {});
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
    // The server records its signing key on its first key refresh, right after it starts.
    const ring = await eventually(
      () => owner.get('firegate_keys/ring'),
      'firegate never recorded its key state in firegate_keys/ring',
    );
    assert.equal(
      ring.fields?.active?.stringValue,
      env.key.kid,
      'firegate_keys/ring records the signing key as active',
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
    await assertDenied(getDoc(doc(db, 'firegate_keys', 'ring')), 'reading the key state');
    await assertDenied(getDocs(collection(db, 'firegate_keys')), 'listing the key state');
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

describe('a legacy account imported with a Werkzeug hash', SUITE_TIMEOUT, () => {
  const LEGACY = { uid: '1042', username: 'kim', email: 'kim@school.example' };
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
    // A Flask app's user table as `psql \copy … csv header` exports it, imported the way the
    // book's importing page says, with the server's own project and emulator settings.
    const csv = join(env.runDir, 'legacy-users.csv');
    const rows = [
      ['id', 'username', 'email', 'password'],
      [LEGACY.uid, LEGACY.username, LEGACY.email, fixture.hash],
    ];
    writeFileSync(csv, rows.map((row) => `${row.join(',')}\n`).join(''));
    const report = join(env.runDir, 'legacy-refused.jsonl');
    const imported = await cliResult(env, [
      'import',
      csv,
      '--dialect',
      'werkzeug',
      '--report',
      report,
    ]);
    const output = `stdout:\n${imported.stdout}\nstderr:\n${imported.stderr}`;
    assert.equal(imported.code, 0, `firegate import exited with ${imported.code}\n${output}`);
    assert.match(imported.stdout, /^read: 1$/m, output);
    assert.match(imported.stdout, /^imported: 1$/m, output);
    assert.match(imported.stdout, /^rejected: 0$/m, output);
    assert.equal(readFileSync(report, 'utf8'), '', 'the import refused no row');
    assert.ok(!imported.stdout.includes(fixture.hash), 'the summary shows no hash');

    const shown = JSON.parse(await cli(env, ['accounts', 'show', '--login', LEGACY.username]));
    assert.equal(shown.uid, LEGACY.uid, 'the account keeps its legacy id as its uid');
    assert.equal(shown.hash_dialect, 'werkzeug');
    assert.equal(shown.hash_scheme, 'werkzeug-pbkdf2-sha256');
    const owner = ownerClient(env.firestore.url, env.projectId);
    const stored = await owner.get(`firegate_accounts/${LEGACY.uid}`);
    assert.equal(
      stored.fields.password_hash.stringValue,
      fixture.hash,
      'the import stored the hash exactly as Werkzeug wrote it',
    );
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

describe(
  'a token signed through IAM Credentials (`--signer iam`, no key file)',
  {
    ...SUITE_TIMEOUT,
    // `cargo test` starts the stand-in of the metadata server and IAM Credentials
    // (tests/it/google_standin.rs) and passes it here; `npm test` alone has none.
    skip: !process.env.E2E_GOOGLE_STANDIN && 'needs the Google stand-in that `cargo test` starts',
  },
  () => {
    const ACCOUNT = { login: 'keyless@example.com', password: 'signed without a key file' };
    let keyless;
    before(async () => {
      const host = process.env.E2E_GOOGLE_STANDIN;
      const dir = join(env.runDir, 'iam');
      mkdirSync(join(dir, 'no-keys'), { recursive: true });
      keyless = await startFiregate({
        bin: env.bin,
        runDir: dir,
        settings: { ...env.settings, FIREGATE_KEYS_DIR: join(dir, 'no-keys') },
        env: {
          FIREGATE_SIGNER: 'iam',
          GCE_METADATA_HOST: host,
          FIREGATE_IAM_CREDENTIALS_URL: `http://${host}`,
          // No gcloud credentials file: Application Default Credentials use the metadata server.
          HOME: dir,
        },
      });
      env.started.push(keyless.proc);
      await createAccount(ACCOUNT);
    }, HOOK_TIMEOUT);

    test('is accepted by the Auth emulator and verifies with the key IAM signed with', async () => {
      const { status, json } = await postJson(keyless.url, '/login/', {
        email: ACCOUNT.login,
        password: ACCOUNT.password,
      });
      assert.equal(status, 200, JSON.stringify(json));
      assert.deepEqual(decodeProtectedHeader(json.token), { alg: 'RS256', typ: 'JWT' });
      const email = 'runtime@signer-project.iam.gserviceaccount.com';
      const { payload } = await jwtVerify(
        json.token,
        createPublicKey(process.env.E2E_GOOGLE_STANDIN_PUBLIC_PEM),
        { algorithms: ['RS256'], audience: CUSTOM_TOKEN_AUDIENCE, issuer: email, subject: email },
      );
      assert.equal(payload.uid, json.uid);
      await assert.rejects(
        jwtVerify(json.token, env.key.publicKey, { algorithms: ['RS256'] }),
        { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' },
        "the key file's key must not have signed",
      );
      await signedInClient('keyless', { uid: json.uid, token: json.token });
    });
  },
);

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

  test('signs in an app configured for another project id, silently, as its own project', async () => {
    // What the book's client page says: same project id, because nothing else tells.
    const { token } = await firegateLogin(env, { email: TEACHER.login, password: TEACHER.password });
    const other = 'demo-another-project';
    const app = initializeApp({ apiKey: 'demo-key', projectId: other }, `other-${randomBytes(4).toString('hex')}`);
    try {
      const auth = getAuth(app);
      connectAuthEmulator(auth, env.auth.url, { disableWarnings: true });
      const { user } = await signInWithCustomToken(auth, token);
      const { claims } = await user.getIdTokenResult();
      assert.equal(claims.aud, env.projectId, "the ID token is for the emulator's project");
      assert.equal(claims.iss, `https://securetoken.google.com/${env.projectId}`);
    } finally {
      await deleteApp(app);
    }
    const log = readFileSync(join(env.runDir, 'auth-emulator.log'), 'utf8');
    assert.ok(!log.includes(other), `the Auth emulator logged the other project id:\n${log}`);
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
  let page;
  let consoleErrors;

  before(async () => {
    page = await (await browser()).newPage();
    consoleErrors = collectConsoleErrors(page);
    mkdirSync(ARTIFACTS, { recursive: true });
  }, HOOK_TIMEOUT);

  after(async () => {
    await page?.close();
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
    // The uid is inserted within Unicode isolation marks (a right-to-left language stays
    // readable around it).
    assert.equal(
      (await page.textContent('#success')).replace(/[\u2068\u2069]/g, ''),
      `Signed in as uid ${body.uid}`,
    );
    assert.match(await page.textContent('#times'), /^Token issued .+, valid until .+/);
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

describe('the admin page in a browser', SUITE_TIMEOUT, () => {
  // A second key, generated and published the way the book's rotation runbook does it, so
  // the page offers to activate it.
  const NEXT_KEY_FILE = 'next-e2e';
  const next = {};
  let context;
  let page;
  let consoleErrors;

  /** The admin API with the run's Basic credential: resolves { status, json }. */
  async function adminApi(method, path, body) {
    const basic = Buffer.from(`${env.admin.user}:${env.admin.password}`).toString('base64');
    const response = await fetch(`${env.firegate.url}${path}`, {
      method,
      headers: {
        Authorization: `Basic ${basic}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: await response.json() };
  }

  /** The state cell of the key list's row for `kid`. */
  const stateOf = (kid) => page.textContent(`#keys tr[data-kid="${kid}"] td[class^="state-"]`);

  before(async () => {
    // The server records its only key as active first; a second key file comes after that.
    const owner = ownerClient(env.firestore.url, env.projectId);
    await eventually(
      () => owner.get('firegate_keys/ring'),
      'firegate never recorded its key state in firegate_keys/ring',
    );
    await cli(env, [
      'keys',
      'generate',
      '--client-email',
      env.key.clientEmail,
      '--name',
      NEXT_KEY_FILE,
    ]);
    // What `gcloud iam service-accounts keys upload` would print as the key id.
    next.kid = randomBytes(20).toString('hex');
    await cli(env, ['keys', 'import-id', NEXT_KEY_FILE, next.kid]);
    const pem = readFileSync(join(env.keysDir, `${NEXT_KEY_FILE}.crt`), 'utf8');
    next.publicKey = new X509Certificate(pem).publicKey;
    env.x509.publish(env.key.clientEmail, next.kid, pem);

    const chromiumBrowser = await browser();
    context = await chromiumBrowser.newContext({
      httpCredentials: {
        username: env.admin.user,
        password: env.admin.password,
        origin: env.firegate.url,
      },
    });
    page = await context.newPage();
    consoleErrors = collectConsoleErrors(page);
    mkdirSync(ARTIFACTS, { recursive: true });
  }, HOOK_TIMEOUT);

  after(async () => {
    await context?.close();
  }, HOOK_TIMEOUT);

  test('answers 401 with a Basic challenge without credentials', async () => {
    const plain = await fetch(`${env.firegate.url}/admin/`);
    assert.equal(plain.status, 401);
    assert.match(plain.headers.get('www-authenticate') ?? '', /^Basic realm="firegate admin"/);
    assert.equal((await plain.json()).error, 'unauthorized');

    // A browser without credentials is challenged and, having nothing to answer with, ends
    // the navigation on the 401 (Chromium's net::ERR_INVALID_AUTH_CREDENTIALS, then its own
    // error page): the admin page is never shown.
    const anonymous = await (await browser()).newContext();
    try {
      const tab = await anonymous.newPage();
      const url = `${env.firegate.url}/admin/`;
      const [response, navigation] = await Promise.all([
        tab.waitForResponse((r) => r.url() === url),
        tab.goto(url).catch((error) => error),
      ]);
      assert.equal(response.status(), 401, 'a browser without credentials gets 401');
      assert.match(response.headers()['www-authenticate'] ?? '', /^Basic /);
      assert.ok(
        navigation instanceof Error
          ? /ERR_INVALID_AUTH_CREDENTIALS/.test(navigation.message)
          : navigation.status() === 401,
        `the navigation ended in ${navigation}`,
      );
    } finally {
      await anonymous.close();
    }
  });

  test('lists the keys and the migration, and activates the next key with its button', async () => {
    const loaded = await page.goto(`${env.firegate.url}/admin/`);
    assert.equal(loaded.status(), 200);
    assert.equal(await page.textContent('p strong'), env.admin.user, 'the signed-in admin');

    assert.equal(await stateOf(env.key.kid), 'active', 'the signing key is listed as active');
    assert.equal(
      await page.$(`#keys tr[data-kid="${env.key.kid}"] button`),
      null,
      'the active key offers no action',
    );
    assert.equal(await stateOf(next.kid), 'next');

    // The progress bar agrees with the API's figures.
    const stats = await adminApi('GET', '/admin/api/stats');
    assert.equal(stats.status, 200, JSON.stringify(stats.json));
    assert.ok(stats.json.total >= 1, `stats count no account: ${JSON.stringify(stats.json)}`);
    const progress = await page.$('progress#migration');
    assert.ok(progress, 'the migration progress bar is on the page');
    assert.equal(await progress.getAttribute('max'), String(stats.json.total));
    assert.equal(await progress.getAttribute('value'), String(stats.json.argon2id));
    assert.equal(await page.textContent('#total'), String(stats.json.total));
    assert.match(await page.textContent('#schemes'), /argon2id/);
    await page.screenshot({ path: join(ARTIFACTS, 'admin-keys.png'), fullPage: true });

    const dialogs = [];
    page.once('dialog', (dialog) => {
      dialogs.push(dialog.message());
      dialog.accept();
    });
    const [activated] = await Promise.all([
      page.waitForResponse(
        (r) =>
          r.url().endsWith(`/admin/api/keys/${next.kid}/activate`) &&
          r.request().method() === 'POST',
      ),
      page.click(`#keys button[data-action="activate"][data-kid="${next.kid}"]`),
    ]);
    assert.deepEqual(
      dialogs,
      [`Activate key ${next.kid}? It signs every new token from now on.`],
      'the page asks first',
    );
    // On success the page reloads at once, taking the response body with it.
    if (activated.status() !== 200) {
      assert.fail(`activation answered ${activated.status()}: ${await activated.text()}`);
    }
    await page.waitForSelector(`#keys tr[data-kid="${next.kid}"] td.state-active`);
    await page.waitForLoadState('load');
    assert.equal(await stateOf(env.key.kid), 'next', 'the previous key is next now');
    assert.equal(await page.textContent('#message'), '', 'no error shown');
    await page.screenshot({ path: join(ARTIFACTS, 'admin-activated.png'), fullPage: true });
    assert.deepEqual(consoleErrors, [], 'the admin page logged errors');

    // firegate checked the certificate endpoint before activating.
    assert.ok(
      env.x509.requests.some((path) => decodeURIComponent(path) === `/${env.key.clientEmail}`),
      `the certificate endpoint was not asked: ${JSON.stringify(env.x509.requests)}`,
    );
    // The API, the recorded key state and the tokens all follow.
    const listed = await adminApi('GET', '/admin/api/keys');
    assert.equal(listed.status, 200);
    const states = Object.fromEntries(listed.json.map((k) => [k.kid, k.state]));
    assert.deepEqual(states, { [env.key.kid]: 'next', [next.kid]: 'active' });
    const owner = ownerClient(env.firestore.url, env.projectId);
    const ring = await owner.get('firegate_keys/ring');
    assert.equal(ring.fields.active.stringValue, next.kid);
    assert.equal(ring.fields.changed_by.stringValue, `admin:${env.admin.user}`);

    const { status, json } = await postJson(env.firegate.url, '/login/', {
      email: TEACHER.login,
      password: TEACHER.password,
    });
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal(decodeProtectedHeader(json.token).kid, next.kid, 'tokens name the new key');
    await verifyCustomToken(json.token, {
      kid: next.kid,
      publicKey: next.publicKey,
      clientEmail: env.key.clientEmail,
    });
    await assert.rejects(
      jwtVerify(json.token, env.key.publicKey, { algorithms: ['RS256'] }),
      { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' },
      'the new key signs, not the previous one',
    );
    const client = firebaseClient(env, 'after-rotation');
    try {
      const credential = await signInWithCustomToken(client.auth, json.token);
      assert.equal(credential.user.uid, json.uid);
    } finally {
      await client.close();
    }

    // Back to the run's own key (Google publishes no certificate for it here, hence force),
    // so anything after this test signs as before.
    const restored = await adminApi('POST', `/admin/api/keys/${env.key.kid}/activate`, {
      force: true,
    });
    assert.equal(restored.status, 200, JSON.stringify(restored.json));
    assert.equal(restored.json.state, 'active');
    await firegateLogin(env, { email: TEACHER.login, password: TEACHER.password });

    const log = readFileSync(env.firegate.proc.logFile, 'utf8');
    assert.ok(!log.includes(env.admin.password), "the server's log shows the admin password");
    assert.ok(!log.includes(env.admin.hash), "the server's log shows the admin password hash");
  });

  test('works when opened as http://user:password@host/admin/, its fields and buttons in line', async () => {
    // No saved credential: only the ones in the address, as a newcomer types them.
    const address = new URL(`${env.firegate.url}/admin/`);
    address.username = env.admin.user;
    address.password = env.admin.password;
    const desktop = await (await browser()).newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const tab = await desktop.newPage();
      const errors = collectConsoleErrors(tab);
      assert.equal((await tab.goto(address.href)).status(), 200);
      // The page's own requests go through: the audit trail loads, and the list fills.
      await tab.waitForFunction(
        () =>
          document.getElementById('audit').tBodies[0].rows.length > 0 ||
          !document.getElementById('audit-empty').hidden,
        null,
        { timeout: 10_000 },
      );
      await tab.click('#browse button');
      await tab
        .waitForFunction(() => / accounts shown\.$/.test(document.getElementById('message').textContent), null, {
          timeout: 10_000,
        })
        .catch(async () => assert.fail(`the page said ${JSON.stringify(await tab.textContent('#message'))}`));
      assert.ok(await tab.isVisible('#accounts tbody tr'), 'the list shows accounts');
      assert.deepEqual(errors, [], 'the page logged errors');

      // A select is as tall as a text field and a button, and a button sits beside its field.
      const box = (selector) => tab.locator(selector).boundingBox();
      const [query, find, state, scheme, list] = await Promise.all(
        ['#search-query', '#search button', '#filter-disabled', '#filter-scheme', '#browse button'].map(box),
      );
      for (const [name, b] of Object.entries({ find, state, scheme, list })) {
        assert.ok(Math.abs(b.height - query.height) <= 2, `${name} is ${b.height} px tall, the field ${query.height} px`);
      }
      const gap = find.x - (query.x + query.width);
      assert.ok(gap >= 0 && gap <= 16, `"Find" is ${gap} px from its field`);
      assert.ok(Math.abs(find.y - query.y) <= 2, '"Find" is on its field\'s line');
      await tab.screenshot({ path: join(ARTIFACTS, 'admin-desktop.png'), fullPage: true });
    } finally {
      await desktop.close();
    }
  });

  test('shows when keys were created, their files and problems, and warns that retiring is final', async () => {
    await page.goto(`${env.firegate.url}/admin/`);
    const row = `#keys tr[data-kid="${next.kid}"]`;
    assert.equal(await page.textContent(`${row} td.file`), `${NEXT_KEY_FILE}.json`);
    assert.match(await page.textContent(`${row} td.created`), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(await page.textContent(`${row} td.problem`), 'none');
    // Dismissed: the run's keys stay as they are.
    const dialogs = [];
    page.once('dialog', (dialog) => {
      dialogs.push(dialog.message());
      dialog.dismiss();
    });
    await page.click(`${row} button[data-action="retire"]`);
    assert.deepEqual(dialogs, [
      `Retire key ${next.kid}? This cannot be undone: a retired key never signs again.`,
    ]);
    assert.equal(await stateOf(next.kid), 'next', 'a dismissed retirement changes nothing');
    const listed = await adminApi('GET', '/admin/api/keys');
    assert.equal(listed.json.find((k) => k.kid === next.kid).state, 'next');
  });

  test('finds, changes and deletes an account on a 390-pixel phone, and keeps an audit trail', async () => {
    const account = {
      login: 'admin-page-e2e@example.com',
      password: 'first passphrase of the admin test',
    };
    account.uid = await createAccount(account);
    // Two failed sign-ins, from a network this account never signed in from.
    for (let i = 0; i < 2; i += 1) {
      const refused = await postJson(env.firegate.url, '/login/', {
        email: account.login,
        password: 'not the password at all',
      });
      assert.equal(refused.status, 400);
    }
    const phone = await (await browser()).newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      httpCredentials: {
        username: env.admin.user,
        password: env.admin.password,
        origin: env.firegate.url,
      },
    });
    try {
      const tab = await phone.newPage();
      const errors = collectConsoleErrors(tab);
      const say = () => tab.textContent('#message');
      const field = (name) => tab.textContent(`#account-fields dd[data-field="${name}"]`);
      /** Clicks (or submits) and waits for the page's message to be `expected` (a string or a
       * RegExp). */
      async function act(what, expected) {
        await what();
        const wanted =
          expected instanceof RegExp
            ? { source: expected.source, flags: expected.flags }
            : { text: expected };
        await tab
          .waitForFunction(
            ({ text, source, flags }) => {
              const said = document.getElementById('message').textContent;
              return text === undefined ? new RegExp(source, flags).test(said) : said === text;
            },
            wanted,
            { timeout: 10_000 },
          )
          .catch(async () =>
            assert.fail(`the page said ${JSON.stringify(await say())}, not ${expected}`),
          );
      }

      assert.equal((await tab.goto(`${env.firegate.url}/admin/`)).status(), 200);
      const noSideways = () =>
        tab.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
      assert.ok(await noSideways(), 'the page scrolls sideways on a phone');

      // The stats say when they were counted, and the API agrees.
      const stats = await adminApi('GET', '/admin/api/stats');
      const counted = await tab.getAttribute('#stats-computed', 'datetime');
      assert.ok(
        Math.abs(Date.parse(counted) - Date.parse(stats.json.computed_at)) <= 1000,
        `page ${counted}, API ${stats.json.computed_at}`,
      );

      // Found by login, then by uid: the same account, with its lockout state.
      await tab.fill('#search-query', account.login);
      await act(() => tab.click('#search button'), `Found ${account.login}.`);
      assert.equal(await tab.textContent('#account-uid'), account.uid);
      assert.equal(await field('Failed sign-ins counted'), '2');
      assert.equal(await field('State'), 'enabled');
      assert.match(await field('Hash scheme'), /^argon2id /);
      assert.equal(await field('Logins'), account.login);
      await tab.fill('#search-query', account.uid);
      await act(() => tab.press('#search-query', 'Enter'), `Found ${account.uid}.`);
      assert.equal(await tab.textContent('#account-uid'), account.uid);
      assert.ok(await noSideways(), 'the account detail scrolls sideways on a phone');

      await tab.screenshot({ path: join(ARTIFACTS, 'admin-account-phone.png'), fullPage: true });

      // Listed with the others, and opened from the list.
      const firstPage = await adminApi('GET', '/admin/api/accounts?limit=25');
      assert.ok(firstPage.json.some((a) => a.uid === account.uid), 'the account is on the first page');
      await act(() => tab.click('#browse button'), `${firstPage.json.length} accounts shown.`);
      await act(() => tab.click(`#accounts tr[data-uid="${account.uid}"]`), '');
      assert.equal(await tab.textContent('#account-uid'), account.uid);

      await act(() => tab.click('#unlock'), `${account.uid} is unlocked.`);
      assert.equal(await field('Failed sign-ins counted'), '0');
      assert.equal((await adminApi('GET', `/admin/api/accounts/${account.uid}`)).json.lockout.failures, 0);
      await act(() => tab.click('#unlock'), `Nothing to unlock: no failed sign-in is counted for ${account.uid}.`);

      await act(() => tab.click('#toggle-disabled'), `${account.uid} is disabled.`);
      assert.equal(await field('State'), 'disabled');
      const whileDisabled = await postJson(env.firegate.url, '/login/', {
        email: account.login,
        password: account.password,
      });
      assert.equal(whileDisabled.status, 400, 'a disabled account cannot sign in');
      await act(() => tab.click('#toggle-disabled'), `${account.uid} is enabled.`);
      assert.equal(await field('State'), 'enabled');

      const newPassword = 'second passphrase set on the admin page';
      await tab.fill('#new-password', 'short');
      await act(
        () => tab.click('#set-password button'),
        /^Setting the password of .+: the password must be at least \d+ characters long$/,
      );
      assert.equal(await tab.getAttribute('#message', 'class'), 'error');
      await tab.fill('#new-password', newPassword);
      await act(() => tab.click('#set-password button'), `The password of ${account.uid} is changed.`);
      assert.equal((await postJson(env.firegate.url, '/login/', { email: account.login, password: account.password })).status, 400, 'the old password is refused');

      await tab.fill('#claims-input', '{"role": ');
      await tab.click('#edit-claims button');
      assert.match(await say(), /^The claims are not valid JSON: /);
      await tab.fill('#claims-input', '{"role": "editor", "school": 42}');
      await act(() => tab.click('#edit-claims button'), `The claims of ${account.uid} are saved.`);
      assert.deepEqual(JSON.parse(await tab.textContent('#account-claims')), { role: 'editor', school: 42 });
      const signedIn = await postJson(env.firegate.url, '/login/', { email: account.login, password: newPassword });
      assert.equal(signedIn.status, 200, JSON.stringify(signedIn.json));
      assert.deepEqual(decodeJwt(signedIn.json.token).claims, { role: 'editor', school: 42 });

      // Deleting takes the uid typed in full.
      assert.ok(await tab.isDisabled('#delete-button'), 'delete is offered before the uid is typed');
      await tab.fill('#delete-confirm', account.uid.slice(0, -1));
      assert.ok(await tab.isDisabled('#delete-button'), 'a partial uid enables delete');
      await tab.fill('#delete-confirm', account.uid);
      assert.ok(await tab.isEnabled('#delete-button'));
      await act(() => tab.click('#delete-button'), `${account.uid} is deleted; its logins are free again.`);
      assert.ok(await tab.isHidden('#account'));
      assert.equal((await adminApi('GET', `/admin/api/accounts/${account.uid}`)).status, 404);

      // A username equal to another account's uid (registered before that uid existed): the
      // search shows both, and each row opens its own account.
      const decoy = await postJson(env.firegate.url, '/register/', {
        email: 'page-decoy@example.com',
        username: 'page-42',
        password: 'the decoy passphrase',
      });
      assert.equal(decoy.status, 201, JSON.stringify(decoy.json));
      await createAccount(
        { login: 'page-victim@example.com', password: 'the victim passphrase' },
        ['--uid', 'page-42'],
      );
      await tab.fill('#search-query', 'page-42');
      await act(
        () => tab.click('#search button'),
        `page-42 names two accounts: ${decoy.json.uid} holds it as a login, page-42 is a uid. Choose one.`,
      );
      await act(() => tab.click('#accounts tr[data-uid="page-42"]'), '');
      assert.equal(await tab.textContent('#account-uid'), 'page-42');
      assert.equal(await field('Logins'), 'page-victim@example.com');
      await tab.click(`#accounts tr[data-uid="${decoy.json.uid}"]`);
      await tab.waitForFunction(
        (uid) => document.getElementById('account-uid').textContent === uid,
        decoy.json.uid,
        { timeout: 10_000 },
      );
      assert.equal(await field('Username'), 'page-42');

      // Every action above is in the audit trail, newest first, on the page and in Firestore.
      await tab.waitForSelector('#audit tbody tr');
      const audit = await tab.$$eval('#audit tbody tr', (rows) =>
        rows.map((r) => [...r.cells].map((c) => c.textContent)),
      );
      const mine = audit.filter((cells) => cells[3] === `account ${account.uid}`).map((c) => `${c[2]} ${c[4]}`);
      assert.deepEqual(
        mine,
        [
          'delete-account ok',
          'set-claims ok',
          'set-password ok',
          'enable-account ok',
          'disable-account ok',
          'unlock-account ok',
          'unlock-account ok',
        ],
        JSON.stringify(audit),
      );
      assert.ok(
        audit.some((c) => c[2] === 'set-password' && c[4] === 'refused (weak_password)'),
        `the refused password is not in the trail: ${JSON.stringify(audit)}`,
      );
      assert.ok(audit.every((c) => c[1] === env.admin.user));
      const stored = await ownerClient(env.firestore.url, env.projectId).list('firegate_audit');
      const storedText = JSON.stringify(stored);
      assert.ok(
        stored.some((d) => d.fields.action.stringValue === 'delete-account' && d.fields.uid?.stringValue === account.uid),
        storedText,
      );
      for (const secret of [account.password, newPassword, 'short', env.admin.password]) {
        assert.ok(!storedText.includes(secret), 'the audit trail holds a password');
      }
      assert.ok(await noSideways(), 'the audit table scrolls sideways on a phone');
      await tab.screenshot({ path: join(ARTIFACTS, 'admin-audit-phone.png'), fullPage: true });
      // Chromium logs every failed request: the uid half of the search by login (no account
      // has that uid) and the refused short password are the only ones.
      assert.deepEqual(
        errors,
        [
          'Failed to load resource: the server responded with a status of 404 (Not Found)',
          'Failed to load resource: the server responded with a status of 400 (Bad Request)',
        ],
        'the admin page logged errors',
      );
    } finally {
      await phone.close();
    }
  });
});

resetSuite(() => env, browser);
mfaSuite(() => env, browser);
passkeySuite(() => env, browser);

// Last: the bridge writes to the Auth emulator's users, which the groups above sign in as.
bridgeSuite(() => env);
