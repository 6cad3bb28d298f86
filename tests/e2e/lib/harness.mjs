// Everything one run needs, started in parallel and stopped together: the Auth and Firestore
// emulators (with the repository's firestore.rules), a signing key, a stand-in for Google's
// certificate endpoint, and `firegate serve` with an admin credential.

import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadRules, startAuthEmulator, startFirestoreEmulator } from './emulators.mjs';
import {
  REPO_ROOT,
  firegateBinary,
  firegateCli,
  settingsEnv,
  runFiregate,
  startFiregate,
} from './firegate.mjs';
import { serviceAccountKey, writeKeysDir } from './keys.mjs';
import { startCertificateEndpoint } from './x509.mjs';

export const RULES_FILE = join(REPO_ROOT, 'firestore.rules');

/**
 * Starts the run. The project id is a `demo-` id (the emulators then never reach Google)
 * unique to the run, so it can share a Firestore emulator and a machine with other runs.
 * On failure, whatever did start is stopped before the error propagates.
 *
 * `env.admin` is the admin page's credential ({ user, password, hash }); the server gets only
 * the argon2id hash `firegate admin hash-password` made of it, through its environment.
 * `env.x509` is the certificate endpoint the server's key activation checks.
 */
export async function startEnvironment() {
  const runDir = mkdtempSync(join(tmpdir(), 'firegate-e2e-'));
  const projectId = `demo-firegate-e2e-${randomBytes(4).toString('hex')}`;
  const key = serviceAccountKey(projectId);
  const env = {
    runDir,
    projectId,
    key,
    keysDir: writeKeysDir(join(runDir, 'keys'), key),
    admin: { user: 'admin', password: `e2e admin ${randomBytes(12).toString('base64url')}` },
    started: [],
    async stop() {
      await Promise.allSettled([
        ...env.started.map((proc) => proc.stop()),
        env.x509?.close(),
      ]);
    },
  };
  const track = (service) => {
    if (service.proc) env.started.push(service.proc);
    return service;
  };

  try {
    const results = await Promise.allSettled([
      startAuthEmulator({ runDir, projectId }).then(track),
      firegateBinary().then((bin) =>
        startFirestoreEmulator({ runDir, bin })
          .then(track)
          .then((firestore) => [firestore, bin]),
      ),
    ]);
    const failures = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
    if (failures.length > 0) {
      throw new AggregateError(failures, failures.map((e) => e.message).join('\n\n'));
    }
    env.auth = results[0].value;
    [env.firestore, env.bin] = results[1].value;
    env.x509 = await startCertificateEndpoint();
    await loadRules(env.firestore.url, projectId, RULES_FILE);
    env.settings = settingsEnv({
      keysDir: env.keysDir,
      projectId,
      firestoreHost: env.firestore.host,
    });
    env.admin.hash = (
      await cli(env, ['admin', 'hash-password'], { input: `${env.admin.password}\n` })
    ).trim();
    if (!env.admin.hash.startsWith('$argon2id$')) {
      throw new Error(`firegate admin hash-password printed ${JSON.stringify(env.admin.hash)}`);
    }
    env.firegate = track(
      await startFiregate({
        bin: env.bin,
        runDir,
        settings: env.settings,
        // The demo sign-in page is off in `serve` unless asked for; the browser tests use it.
        serveArgs: ['--x509-base-url', env.x509.url, '--demo-page'],
        env: {
          FIREGATE_ADMIN_USER: env.admin.user,
          FIREGATE_ADMIN_PASSWORD_HASH: env.admin.hash,
        },
      }),
    );
  } catch (error) {
    await env.stop();
    error.message += `\n(the run's logs are in ${runDir})`;
    throw error;
  }
  return env;
}

/** Runs the admin CLI against the run's project: `firegate <args>` with the run's settings. */
export function cli(env, args, options = {}) {
  return firegateCli(env.bin, args, { ...options, settings: env.settings });
}

/** As `cli`, but resolves { code, stdout, stderr } whatever the exit code. */
export function cliResult(env, args, options = {}) {
  return runFiregate(env.bin, args, { ...options, settings: env.settings });
}

/**
 * Stops every process, copies the logs into `logsTo` (they outlive the run; the key does not)
 * and removes the run directory.
 */
export async function stopEnvironment(env, { logsTo }) {
  if (!env) return;
  await env.stop();
  mkdirSync(logsTo, { recursive: true });
  for (const file of readdirSync(env.runDir).filter((f) => f.endsWith('.log'))) {
    copyFileSync(join(env.runDir, file), join(logsTo, file));
  }
  rmSync(env.runDir, { recursive: true, force: true });
}
