// firegate under test: the binary (FIREGATE_BIN, or built from the working tree), the
// `serve` process, and the admin CLI with the same configuration.

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { answers200, freePort, run, startService } from './processes.mjs';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

/**
 * The firegate binary: $FIREGATE_BIN (the Rust wrapper passes the one cargo just built), else
 * `cargo build --bin firegate` in the repository so the binary matches the sources. The build
 * is retried, because sources being edited may briefly not compile.
 */
export async function firegateBinary() {
  if (process.env.FIREGATE_BIN) {
    if (!existsSync(process.env.FIREGATE_BIN)) {
      throw new Error(`FIREGATE_BIN=${process.env.FIREGATE_BIN} does not exist`);
    }
    return process.env.FIREGATE_BIN;
  }
  const targetDir = process.env.CARGO_TARGET_DIR
    ? resolve(REPO_ROOT, process.env.CARGO_TARGET_DIR)
    : join(REPO_ROOT, 'target');
  let last;
  for (let attempt = 1; attempt <= 3; attempt++) {
    last = await run('cargo', ['build', '--quiet', '--bin', 'firegate'], {
      cwd: REPO_ROOT,
      timeoutMs: 15 * 60_000,
    });
    if (last.code === 0) return join(targetDir, 'debug', 'firegate');
    await new Promise((r) => setTimeout(r, 5_000 * attempt));
  }
  throw new Error(`cargo build --bin firegate failed three times:\n${last.stderr.slice(-4000)}`);
}

/**
 * Settings shared by `serve` and the admin CLI, as environment variables (each command reads
 * those it has a flag for): the keys directory, the project, the emulator, and argon2
 * parameters cheap enough for tests.
 */
export function settingsEnv({ keysDir, projectId, firestoreHost }) {
  return {
    FIREGATE_KEYS_DIR: keysDir,
    FIREGATE_PROJECT_ID: projectId,
    FIRESTORE_EMULATOR_HOST: firestoreHost,
    FIREGATE_ARGON2_MEMORY_KIB: '1024',
    FIREGATE_ARGON2_ITERATIONS: '1',
    FIREGATE_LOG_FORMAT: 'text',
    // Every request of the suite comes from one address, more than the per-client limit
    // allows in a minute; the limit itself is tested in tests/it (rate_limit).
    FIREGATE_RATE_LIMIT_PER_MINUTE: '0',
  };
}

/** An environment without firegate settings inherited from the developer's shell. */
function cleanEnv() {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (name.startsWith('FIREGATE_') || name === 'FIRESTORE_EMULATOR_HOST' || name === 'PORT') {
      delete env[name];
    }
  }
  return env;
}

/**
 * Starts `firegate serve` on a free port and waits for GET /healthz. `env` adds settings
 * (secrets such as the admin password hash go there rather than on the command line, where
 * `ps` shows them); `serveArgs` are flags of `serve` alone; the log goes to `logName` in
 * `runDir`; `port` is a free port of the caller's, or one picked here.
 */
export async function startFiregate({
  bin,
  runDir,
  settings,
  serveArgs = [],
  env = {},
  logName = 'firegate.log',
  port,
}) {
  port ??= await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = await startService(
    {
      name: 'firegate serve',
      command: bin,
      args: ['serve', '--listen', `127.0.0.1:${port}`, ...serveArgs],
      env: { ...cleanEnv(), ...settings, ...env },
      logFile: join(runDir, logName),
    },
    { ready: () => answers200(`${url}/healthz`), timeoutMs: 30_000 },
  );
  return { url, proc };
}

/** Runs `firegate <args>` to completion; resolves { code, stdout, stderr }, whatever the code. */
export function runFiregate(bin, args, { input = '', settings = {} } = {}) {
  return run(bin, args, { input, env: { ...cleanEnv(), ...settings } });
}

/** Runs `firegate <args>` to completion; rejects with its stderr unless it exits 0. */
export async function firegateCli(bin, args, { input = '', settings = {} } = {}) {
  const result = await runFiregate(bin, args, { input, settings });
  if (result.code !== 0) {
    throw new Error(`firegate ${args.join(' ')} exited with ${result.code}:\n${result.stderr}`);
  }
  return result.stdout;
}
