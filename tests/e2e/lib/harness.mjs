// Everything one run needs, started in parallel and stopped together: the Auth and Firestore
// emulators (with the repository's firestore.rules), a signing key, and `firegate serve`.

import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadRules, startAuthEmulator, startFirestoreEmulator } from './emulators.mjs';
import { REPO_ROOT, firegateBinary, firegateCli, globalArgs, startFiregate } from './firegate.mjs';
import { serviceAccountKey, writeKeysDir } from './keys.mjs';

export const RULES_FILE = join(REPO_ROOT, 'firestore.rules');

/**
 * Starts the run. The project id is a `demo-` id (the emulators then never reach Google)
 * unique to the run, so it can share a Firestore emulator and a machine with other runs.
 * On failure, whatever did start is stopped before the error propagates.
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
    started: [],
    async stop() {
      await Promise.allSettled(env.started.map((proc) => proc.stop()));
    },
  };
  const track = (service) => {
    if (service.proc) env.started.push(service.proc);
    return service;
  };

  try {
    const results = await Promise.allSettled([
      startAuthEmulator({ runDir, projectId }).then(track),
      startFirestoreEmulator({ runDir }).then(track),
      firegateBinary(),
    ]);
    const failures = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
    if (failures.length > 0) {
      throw new AggregateError(failures, failures.map((e) => e.message).join('\n\n'));
    }
    [env.auth, env.firestore, env.bin] = results.map((r) => r.value);
    await loadRules(env.firestore.url, projectId, RULES_FILE);
    env.args = globalArgs({ keysDir: env.keysDir, projectId, firestoreHost: env.firestore.host });
    env.firegate = track(await startFiregate({ bin: env.bin, runDir, args: env.args }));
  } catch (error) {
    await env.stop();
    error.message += `\n(the run's logs are in ${runDir})`;
    throw error;
  }
  return env;
}

/** Runs the admin CLI against the run's project: `firegate <global flags> <args>`. */
export function cli(env, args, options) {
  return firegateCli(env.bin, [...env.args, ...args], options);
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
