// The two Firebase emulators the suite runs against: Auth (firebase-tools, Node) and
// Firestore (Google's jar, started by `firegate emulator`), each on free ports, with
// firestore.rules loaded.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';

import { answers200, freePort, startService } from './processes.mjs';

const require = createRequire(import.meta.url);

/**
 * Starts the Firebase Auth emulator for `projectId`. firebase-tools also opens a hub and a
 * logging port; all three are free ports written into a firebase.json inside `runDir`, so
 * runs never collide with each other or with a developer's own emulators.
 */
export async function startAuthEmulator({ runDir, projectId }) {
  const [auth, hub, logging] = [await freePort(), await freePort(), await freePort()];
  const host = '127.0.0.1';
  const config = join(runDir, 'firebase.json');
  writeFileSync(
    config,
    JSON.stringify(
      {
        emulators: {
          auth: { host, port: auth },
          hub: { host, port: hub },
          logging: { host, port: logging },
          ui: { enabled: false },
          singleProjectMode: true,
        },
      },
      null,
      2,
    ),
  );
  const cli = require.resolve('firebase-tools/lib/bin/firebase.js');
  const proc = await startService(
    {
      name: 'the Firebase Auth emulator',
      command: process.execPath,
      args: [cli, 'emulators:start', '--only', 'auth', '--project', projectId, '--config', config],
      cwd: runDir,
      // The hub's locator file goes to $TMPDIR: keep it inside this run.
      env: { ...process.env, TMPDIR: runDir, CI: 'true', NO_UPDATE_NOTIFIER: '1' },
      logFile: join(runDir, 'auth-emulator.log'),
    },
    { ready: () => answers200(`http://${host}:${auth}/`), timeoutMs: 120_000 },
  );
  return { host: `${host}:${auth}`, url: `http://${host}:${auth}`, proc };
}

/**
 * Starts a Firestore emulator with firegate's own launcher (`firegate emulator`, the one the
 * Rust tests and the benchmarks use), or uses the one FIRESTORE_EMULATOR_HOST names (the
 * suite then stays apart from other users by its own project id).
 */
export async function startFirestoreEmulator({ runDir, bin }) {
  const existing = process.env.FIRESTORE_EMULATOR_HOST;
  if (existing) {
    return { host: existing, url: `http://${existing}`, proc: null };
  }
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = await startService(
    {
      name: 'the Firestore emulator',
      command: bin,
      args: ['emulator', '--port', String(port)],
      logFile: join(runDir, 'firestore-emulator.log'),
    },
    { ready: () => answers200(`${url}/`), timeoutMs: 90_000 },
  );
  return { host: `127.0.0.1:${port}`, url, proc };
}

/**
 * Loads a rules file for one project through the emulator's REST endpoint; a rules file that
 * does not compile fails here with the emulator's message.
 */
export async function loadRules(firestoreUrl, projectId, rulesFile) {
  const content = readFileSync(rulesFile, 'utf8');
  const response = await fetch(`${firestoreUrl}/emulator/v1/projects/${projectId}:securityRules`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ rules: { files: [{ name: 'firestore.rules', content }] } }),
  });
  const body = await response.text();
  if (!response.ok) {
    throw new Error(`the Firestore emulator refused ${rulesFile} (${response.status}): ${body}`);
  }
}
