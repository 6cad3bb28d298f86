// The Firebase Auth bridge (`--firebase-auth mirror|graduate`) against the real Auth emulator
// with the Firebase JS SDK: what firegate writes to the Firebase user of an account's uid,
// when sessions end, graduation to signInWithEmailAndPassword, the authority rule after a
// password change made inside Firebase Auth, an unreachable Firebase Auth, and the bulk
// `firebase-auth sync` and `export` passes. Registered by e2e.test.mjs on its environment.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { reload, signInWithCustomToken, signInWithEmailAndPassword } from 'firebase/auth';

import { firebaseClient, postJson, verifyCustomToken } from './lib/clients.mjs';
import { ownerClient } from './lib/firestore-admin.mjs';
import { REPO_ROOT, runFiregate, startFiregate } from './lib/firegate.mjs';
import { eventually, freePort } from './lib/processes.mjs';

const SUITE_TIMEOUT = { timeout: 120_000 };
const HOOK_TIMEOUT = { timeout: 60_000 };

/** Firebase Auth's admin REST API on the emulator, as the Admin SDKs call it. */
function authAdmin(env) {
  const base = `${env.auth.url}/identitytoolkit.googleapis.com/v1/projects/${env.projectId}`;
  const call = async (method, body) => {
    const response = await fetch(`${base}/${method}`, {
      method: 'POST',
      headers: { Authorization: 'Bearer owner', 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = await response.json();
    assert.ok(response.ok, `${method} answered ${response.status}: ${JSON.stringify(json)}`);
    return json;
  };
  return {
    /** The Firebase user with `uid`, or undefined. */
    async user(uid) {
      const found = await call('accounts:lookup', { localId: [uid] });
      return found.users?.[0];
    },
    async update(body) {
      return call('accounts:update', body);
    },
  };
}

/**
 * `accounts:signInWithPassword` at the Auth emulator, as a client app's
 * `signInWithEmailAndPassword` calls it: `{ ok, localId }` or `{ ok: false, message }`
 * (`INVALID_PASSWORD`, `USER_DISABLED`, …).
 */
async function signInWithPassword(env, email, password) {
  const url = `${env.auth.url}/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=emulator-api-key`;
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password, returnSecureToken: true }),
  });
  const json = await response.json();
  return response.ok
    ? { ok: true, localId: json.localId }
    : { ok: false, message: json.error?.message ?? JSON.stringify(json) };
}

/**
 * A pass-through proxy in front of the Auth emulator that holds the requests `hold` matches
 * until `release()`: a Firebase write caught in flight, for a change made meanwhile.
 */
async function holdingProxy(target) {
  const held = [];
  let hold = () => false;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const forward = async () => {
        const headers = {};
        for (const name of ['authorization', 'content-type']) {
          if (req.headers[name]) headers[name] = req.headers[name];
        }
        const body = ['GET', 'HEAD'].includes(req.method) ? undefined : Buffer.concat(chunks);
        try {
          const answer = await fetch(`${target}${req.url}`, { method: req.method, headers, body });
          res.writeHead(answer.status, {
            'content-type': answer.headers.get('content-type') ?? 'application/json',
          });
          res.end(Buffer.from(await answer.arrayBuffer()));
        } catch (error) {
          res.writeHead(502).end(String(error));
        }
      };
      if (hold(req)) held.push(forward);
      else forward();
    });
  });
  const port = await freePort();
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${port}`,
    held,
    holdWhen(predicate) {
      hold = predicate;
    },
    release() {
      hold = () => false;
      for (const forward of held.splice(0)) forward();
    },
    close() {
      // firegate's client keeps its connections open: close them rather than wait for it.
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      return closed;
    },
  };
}

/** Resolves with the rejection's code, failing if `promise` resolves. */
async function errorCode(promise, what) {
  try {
    await promise;
  } catch (error) {
    return error.code;
  }
  return assert.fail(`${what} succeeded`);
}

/** The legacy hashes of tests/fixtures that satisfy `predicate` (the first one). */
function fixtureHash(predicate, what) {
  const found = readFileSync(join(REPO_ROOT, 'tests', 'fixtures', 'legacy-hashes.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line))
    .find(predicate);
  assert.ok(found, `tests/fixtures/legacy-hashes.jsonl lacks ${what}`);
  return found;
}

/**
 * The bridge tests, on the suite's environment (`getEnv()` once the suite's `before` ran):
 * the Auth and Firestore emulators, the binary, the key.
 */
export function bridgeSuite(getEnv) {
  let env;
  const started = [];
  const clients = [];

  /** Settings of a bridge in `mode`; with `prefix`, firegate's collections of its own. */
  const bridgeSettings = (mode, { authHost, prefix } = {}) => {
    const settings = {
      ...env.settings,
      FIREBASE_AUTH_EMULATOR_HOST: authHost ?? env.auth.host,
      FIREGATE_FIREBASE_AUTH: mode,
      // The emulator takes any web API key.
      FIREGATE_FIREBASE_API_KEY: 'emulator-api-key',
      FIREGATE_FIREBASE_AUTH_DEADLINE_SECS: '2',
    };
    if (prefix) {
      for (const [name, collection] of [
        ['ACCOUNTS', 'accounts'],
        ['LOGINS', 'logins'],
        ['LOCKOUTS', 'lockouts'],
        ['TOKENS', 'tokens'],
        ['FIREBASE_QUEUE', 'queue'],
      ]) {
        settings[`FIREGATE_${name}_COLLECTION`] = `${prefix}_${collection}`;
      }
    }
    return settings;
  };
  /** `firegate <args>` with `settings`, expected to succeed; resolves its stdout. */
  const cliWith = async (settings, args, input = '') => {
    const result = await runFiregate(env.bin, args, { input, settings });
    assert.equal(
      result.code,
      0,
      `firegate ${args.join(' ')} exited with ${result.code}:\n${result.stderr}`,
    );
    return result.stdout;
  };
  /** Creates an account with `settings`; resolves its uid. */
  const create = async (settings, account, extra = []) =>
    (
      await cliWith(
        settings,
        ['accounts', 'create', '--login', account.login, ...extra],
        `${account.password}\n`,
      )
    ).trim();
  const serve = async (name, settings) => {
    const server = await startFiregate({
      bin: env.bin,
      runDir: env.runDir,
      settings,
      serveArgs: ['--x509-base-url', env.x509.url],
      logName: `${name}.log`,
    });
    started.push(server.proc);
    return server;
  };
  const login = async (server, account) => {
    const body = { email: account.login, password: account.password };
    const { status, json } = await postJson(server.url, '/login/', body);
    assert.equal(status, 200, `POST /login/ answered ${status}: ${JSON.stringify(json)}`);
    await verifyCustomToken(json.token, env.key);
    return json;
  };
  const client = (name) => {
    const c = firebaseClient(env, name);
    clients.push(c);
    return c;
  };
  const logOf = (name) => readFileSync(join(env.runDir, `${name}.log`), 'utf8');

  describe('the Firebase Auth bridge', { timeout: 600_000 }, () => {
    before(() => {
      env = getEnv();
    });

    after(async () => {
      await Promise.allSettled(clients.map((c) => c.close()));
      await Promise.allSettled(started.map((p) => p.stop()));
    }, HOOK_TIMEOUT);

    describe('in mirror mode', SUITE_TIMEOUT, () => {
      let mirror;
      let settings;
      before(async () => {
        settings = bridgeSettings('mirror');
        mirror = await serve('firegate-mirror', settings);
      }, HOOK_TIMEOUT);

      test("a signed-in user's ID token carries the account's email and name", async () => {
        const account = { login: 'Mirror.Me@Example.com', password: 'mirror mirror on the wall' };
        const uid = await create(settings, account, ['--login', 'mirrorme']);
        const signed = await login(mirror, account);
        assert.equal(signed.uid, uid);
        const c = client('mirror-email');
        await signInWithCustomToken(c.auth, signed.token);
        const idToken = await c.auth.currentUser.getIdTokenResult();
        assert.equal(idToken.claims.email, 'mirror.me@example.com', 'the lowercased email');
        assert.equal(c.auth.currentUser.displayName, 'mirrorme', 'the username as display name');
        const user = await authAdmin(env).user(uid);
        assert.equal(user.email, 'mirror.me@example.com');
        assert.ok(!user.passwordHash, 'mirror mode sets no password');
      });

      test('disabling the account makes the next token refresh fail with auth/user-disabled', async () => {
        const account = { login: 'disable-me@example.com', password: 'soon to be disabled' };
        await create(settings, account);
        const c = client('mirror-disabled');
        await signInWithCustomToken(c.auth, (await login(mirror, account)).token);
        await cliWith(settings, ['accounts', 'disable', '--login', account.login]);
        const code = await errorCode(
          c.auth.currentUser.getIdToken(true),
          'a token refresh after disabling',
        );
        assert.equal(code, 'auth/user-disabled');
        await cliWith(settings, ['accounts', 'enable', '--login', account.login]);
        const again = await login(mirror, account);
        assert.equal((await authAdmin(env).user(again.uid)).disabled ?? false, false);
      });

      test('a password change ends the sessions the old password opened', async () => {
        const account = { login: 'change-me@example.com', password: 'the first password' };
        await create(settings, account);
        const c = client('mirror-revoked');
        const signed = await login(mirror, account);
        await signInWithCustomToken(c.auth, signed.token);
        await reload(c.auth.currentUser); // the session works
        // validSince counts seconds, and a token of that very second stays valid.
        await new Promise((r) => setTimeout(r, 1100));
        const changedAt = Math.floor(Date.now() / 1000);
        const changed = await postJson(mirror.url, '/password/', {
          email: account.login,
          password: account.password,
          new_password: 'the second password',
        });
        assert.equal(changed.status, 204, JSON.stringify(changed.json));
        const user = await authAdmin(env).user(signed.uid);
        assert.ok(Number(user.validSince) >= changedAt, `validSince ${user.validSince} < ${changedAt}`);
        // The emulator refuses the old ID token (real Firebase Auth refuses the refresh token too).
        const code = await errorCode(reload(c.auth.currentUser), 'the old session after the change');
        assert.equal(code, 'auth/user-token-expired');
      });

      test('deleting the account deletes the Firebase user', async () => {
        const account = { login: 'delete-me@example.com', password: 'gone tomorrow' };
        const uid = await create(settings, account);
        assert.ok(await authAdmin(env).user(uid), 'created with the account');
        await cliWith(settings, ['accounts', 'delete', '--login', account.login, '--yes']);
        assert.equal(await authAdmin(env).user(uid), undefined);
      });

      test('an unreachable Firebase Auth fails no sign-in, and the queued write is retried', async () => {
        const dead = `127.0.0.1:${await freePort()}`;
        const deadSettings = bridgeSettings('mirror', { authHost: dead, prefix: 'offline' });
        const liveSettings = bridgeSettings('mirror', { prefix: 'offline' });
        const cut = await serve('firegate-mirror-unreachable', deadSettings);
        const account = { login: 'offline@example.com', password: 'no firebase today' };
        // Created while Firebase Auth is unreachable: the account exists, the write is queued.
        const uid = await create(deadSettings, account);
        const signed = await login(cut, account);
        assert.equal(signed.uid, uid);
        const logText = logOf('firegate-mirror-unreachable');
        assert.match(logText, /cannot write the Firebase user/);
        assert.ok(!logText.includes(account.password), 'no password in the log');
        const owner = ownerClient(env.firestore.url, env.projectId);
        assert.ok(await owner.get(`offline_queue/${uid}`), 'the failed write is queued');
        assert.equal(await authAdmin(env).user(uid), undefined);
        // Firebase Auth back: the next pass brings the account in and empties the queue.
        const report = JSON.parse(await cliWith(liveSettings, ['firebase-auth', 'sync', '--json']));
        assert.ok(report.queue_done >= 1, JSON.stringify(report));
        assert.equal((await authAdmin(env).user(uid)).email, account.login);
        assert.equal(await owner.get(`offline_queue/${uid}`), null);
      });
    });

    describe('in graduate mode', SUITE_TIMEOUT, () => {
      let graduate;
      let settings;
      before(async () => {
        settings = bridgeSettings('graduate');
        graduate = await serve('firegate-graduate', settings);
      }, HOOK_TIMEOUT);

      test('after one firegate sign-in, signInWithEmailAndPassword signs in the same uid', async () => {
        const account = { login: 'graduate@example.com', password: 'ready to graduate' };
        // Created without the bridge: Firebase Auth knows nothing of it.
        const uid = await create(env.settings, account);
        const c = client('graduate-password');
        await assert.rejects(signInWithEmailAndPassword(c.auth, account.login, account.password));
        const signed = await login(graduate, account);
        assert.equal(signed.uid, uid);
        const credential = await signInWithEmailAndPassword(c.auth, account.login, account.password);
        assert.equal(credential.user.uid, uid, 'Firebase Auth signs in the firegate uid');
        const shown = JSON.parse(await cliWith(settings, ['accounts', 'show', '--login', account.login]));
        assert.ok(shown.graduated_at, `accounts show: ${JSON.stringify(shown)}`);
        const stats = JSON.parse(await cliWith(settings, ['accounts', 'stats', '--json']));
        const argon = stats.find((s) => s.scheme === 'argon2id');
        assert.ok(argon.graduated >= 1, JSON.stringify(stats));
      });

      test('after a password change inside Firebase Auth, POST /login/ takes the new password and refuses the old', async () => {
        const account = { login: 'moved-on@example.com', password: 'password before the move' };
        const uid = await create(env.settings, account);
        await login(graduate, account);
        // The user resets the password with Firebase's own flow.
        const fresh = { login: account.login, password: 'password chosen in firebase' };
        await authAdmin(env).update({ localId: uid, password: fresh.password });
        const old = await postJson(graduate.url, '/login/', {
          email: account.login,
          password: account.password,
        });
        assert.equal(old.status, 400, `the old password answered ${old.status}`);
        assert.equal((await login(graduate, fresh)).uid, uid);
        // firegate's own hash followed: the server without the bridge agrees.
        const plain = await postJson(env.firegate.url, '/login/', {
          email: fresh.login,
          password: fresh.password,
        });
        assert.equal(plain.status, 200, JSON.stringify(plain.json));
        const plainOld = await postJson(env.firegate.url, '/login/', {
          email: account.login,
          password: account.password,
        });
        assert.equal(plainOld.status, 400);
      });

      test('a password changed in firegate moves into Firebase Auth; the old one stops working there', async () => {
        const account = { login: 'changes-here@example.com', password: 'graduated password one' };
        await create(env.settings, account);
        await login(graduate, account);
        const changed = await postJson(graduate.url, '/password/', {
          email: account.login,
          password: account.password,
          new_password: 'graduated password two',
        });
        assert.equal(changed.status, 204, JSON.stringify(changed.json));
        const c = client('graduate-changed');
        const code = await errorCode(
          signInWithEmailAndPassword(c.auth, account.login, account.password),
          'the old password in Firebase Auth',
        );
        assert.ok(['auth/wrong-password', 'auth/invalid-credential'].includes(code), code);
        const credential = await signInWithEmailAndPassword(
          c.auth,
          account.login,
          'graduated password two',
        );
        assert.ok(credential.user.uid);
      });

      test('a legacy account graduates at its first sign-in, the one that upgrades its hash', async () => {
        const legacy = fixtureHash(
          (h) => h.source.startsWith('werkzeug') && h.hash.startsWith('pbkdf2:') && h.password.startsWith('correct horse'),
          'a werkzeug pbkdf2 hash of a plain password',
        );
        const account = { uid: 'legacy-graduate', login: 'legacy-graduate@example.com', password: legacy.password };
        // Imported without the bridge: a Werkzeug hash, no Firebase user.
        const csv = join(env.runDir, 'legacy-graduate.csv');
        writeFileSync(csv, `id,email,password\n${account.uid},${account.login},${legacy.hash}\n`);
        await cliWith(env.settings, ['import', csv, '--dialect', 'werkzeug']);
        assert.equal((await signInWithPassword(env, account.login, account.password)).message, 'EMAIL_NOT_FOUND');

        assert.equal((await login(graduate, account)).uid, account.uid);
        // The same password at Firebase Auth, with no second sign-in through firegate.
        let last;
        const signedIn = await eventually(async () => {
          last = await signInWithPassword(env, account.login, account.password);
          return last.ok && last;
        }, 'signInWithPassword never took the password of the first sign-in').catch((error) =>
          assert.fail(`${error.message}; it last answered ${last?.message}`),
        );
        assert.equal(signedIn.localId, account.uid);
        const shown = JSON.parse(await cliWith(settings, ['accounts', 'show', account.uid]));
        assert.equal(shown.hash_scheme, 'argon2id', 'the same sign-in upgraded the hash');
        assert.ok(shown.graduated_at, `graduated at that sign-in: ${JSON.stringify(shown)}`);
      });

      test('an account disabled while its sign-in writes Firebase stays disabled there', async () => {
        const proxy = await holdingProxy(env.auth.url);
        try {
          const plain = bridgeSettings('off', { prefix: 'racing' });
          const live = bridgeSettings('graduate', { prefix: 'racing' });
          const caught = {
            ...bridgeSettings('graduate', { authHost: proxy.host, prefix: 'racing' }),
            FIREGATE_FIREBASE_AUTH_DEADLINE_SECS: '30',
          };
          const server = await serve('firegate-graduate-racing', caught);
          const legacy = fixtureHash(
            (h) => h.source.startsWith('werkzeug') && h.hash.startsWith('pbkdf2:') && h.password.startsWith('correct horse'),
            'a werkzeug pbkdf2 hash of a plain password',
          );
          const account = { uid: 'legacy-racing', login: 'legacy-racing@example.com', password: legacy.password };
          const csv = join(env.runDir, 'legacy-racing.csv');
          writeFileSync(csv, `id,email,password\n${account.uid},${account.login},${legacy.hash}\n`);
          await cliWith(plain, ['import', csv, '--dialect', 'werkzeug']);

          // The sign-in's Firebase write (the user's creation with the password) is held
          // while an admin disables the account, then let through.
          proxy.holdWhen((req) => req.method === 'POST' && !req.url.includes(':lookup'));
          const signingIn = postJson(server.url, '/login/', { email: account.login, password: account.password });
          await eventually(() => proxy.held.length > 0, 'the sign-in never wrote to Firebase Auth');
          await cliWith(plain, ['accounts', 'disable', account.uid]);
          proxy.release();
          assert.equal((await signingIn).status, 200, 'checked before the disable');

          // The write landed on an account changed meanwhile: not recorded, queued, and the
          // password it set (which the change might have outdated) is taken back.
          const owner = ownerClient(env.firestore.url, env.projectId);
          assert.ok(await owner.get(`racing_queue/${account.uid}`), 'the write is queued');
          assert.match(logOf('firegate-graduate-racing'), /changed during the write/);
          const report = JSON.parse(await cliWith(live, ['firebase-auth', 'sync', '--json']));
          assert.ok(report.queue_done >= 1, JSON.stringify(report));
          const user = await authAdmin(env).user(account.uid);
          assert.equal(user.disabled, true);
          assert.ok(!user.passwordHash, 'the password the racing write set is removed');
          const refused = await signInWithPassword(env, account.login, account.password);
          assert.ok(!refused.ok, 'signInWithPassword after the disable');
          const shown = JSON.parse(await cliWith(plain, ['accounts', 'show', account.uid]));
          assert.equal(shown.disabled, true, 'the disable stands in firegate');
          assert.equal(shown.graduated_at, undefined, 'graduates again at its next sign-in');
        } finally {
          proxy.release();
          await proxy.close();
        }
      });

      test('a password Firebase Auth would refuse does not graduate, and says why', async () => {
        const account = { login: 'shorty@example.com', password: 'abc12' };
        await create({ ...env.settings, FIREGATE_MIN_PASSWORD_LENGTH: '4' }, account);
        const signed = await login(graduate, account);
        const user = await authAdmin(env).user(signed.uid);
        assert.equal(user.email, account.login, 'mirrored all the same');
        assert.ok(!user.passwordHash, 'no password set');
        assert.match(logOf('firegate-graduate'), /account not graduated.*6 characters/);
      });
    });

    describe('firebase-auth sync and export', SUITE_TIMEOUT, () => {
      test('sync: a dry run writes nothing, a run brings every account in, a rerun has nothing to do', async () => {
        const plain = bridgeSettings('off', { prefix: 'sync' });
        const mirror = bridgeSettings('mirror', { prefix: 'sync' });
        const uids = [];
        for (const name of ['sync-a', 'sync-b', 'sync-c']) {
          uids.push(await create(plain, { login: `${name}@example.com`, password: 'sync password' }));
        }
        const dry = JSON.parse(await cliWith(mirror, ['firebase-auth', 'sync', '--dry-run', '--json']));
        assert.deepEqual([dry.checked, dry.written, dry.in_step], [3, 3, 0]);
        for (const uid of uids) assert.equal(await authAdmin(env).user(uid), undefined);
        const run = JSON.parse(await cliWith(mirror, ['firebase-auth', 'sync', '--json']));
        assert.deepEqual([run.checked, run.written, run.failed], [3, 3, 0]);
        for (const uid of uids) {
          assert.match((await authAdmin(env).user(uid)).email, /^sync-.@example\.com$/);
        }
        const rerun = JSON.parse(await cliWith(mirror, ['firebase-auth', 'sync', '--json']));
        assert.deepEqual([rerun.written, rerun.in_step], [0, 3]);
      });

      test('export: the plan groups importable hashes, the run imports them with their hashes', async () => {
        const graduate = bridgeSettings('graduate', { prefix: 'export' });
        const bcrypt = fixtureHash((h) => h.hash.startsWith('$2b$'), 'a bcrypt hash');
        const scrypt = fixtureHash((h) => h.hash.startsWith('scrypt:'), 'a werkzeug scrypt hash');
        const pbkdf2 = fixtureHash(
          (h) => h.hash.startsWith('pbkdf2:sha256:260000$'),
          'a werkzeug 260000-round hash',
        );
        const importCsv = async (name, dialect, rows) => {
          const csv = join(env.runDir, `${name}.csv`);
          writeFileSync(csv, `${['id,email,password', ...rows.map((r) => r.join(','))].join('\n')}\n`);
          await cliWith(graduate, ['import', csv, '--dialect', dialect]);
        };
        await importCsv('export-phc', 'phc', [['exp-bcrypt', 'exp-bcrypt@example.com', bcrypt.hash]]);
        await importCsv('export-werkzeug', 'werkzeug', [
          ['exp-scrypt', 'exp-scrypt@example.com', scrypt.hash],
          ['exp-pbkdf2', 'exp-pbkdf2@example.com', pbkdf2.hash],
        ]);
        const plan = JSON.parse(
          await cliWith(graduate, ['firebase-auth', 'export', '--dry-run', '--json']),
        );
        assert.equal(plan.checked, 3);
        assert.equal(plan.imported, 2, JSON.stringify(plan));
        const algorithms = plan.groups.map((g) => g.algorithm.split(' ')[0]).sort();
        assert.deepEqual(algorithms, ['BCRYPT', 'STANDARD_SCRYPT']);
        assert.equal(plan.not_importable_total, 1);
        assert.match(plan.not_importable[0].reason, /120,?000/);
        assert.equal(await authAdmin(env).user('exp-bcrypt'), undefined, 'a dry run imports nothing');

        const run = JSON.parse(await cliWith(graduate, ['firebase-auth', 'export', '--json']));
        assert.equal(run.imported, 2, JSON.stringify(run));
        const imported = await authAdmin(env).user('exp-bcrypt');
        assert.equal(imported.email, 'exp-bcrypt@example.com');
        // The emulator keeps an imported hash as given (it cannot check it).
        assert.equal(Buffer.from(imported.passwordHash, 'base64url').toString(), bcrypt.hash);
        assert.ok(await authAdmin(env).user('exp-scrypt'));
        assert.equal(await authAdmin(env).user('exp-pbkdf2'), undefined, 'the 260000-round hash stays');
        const again = JSON.parse(await cliWith(graduate, ['firebase-auth', 'export', '--json']));
        assert.deepEqual([again.imported, again.already_graduated], [0, 2]);
      });
    });
  });
}
