// Child processes of the suite: each runs under reaper.mjs with its output in a log file, is
// stopped by `stop()` (or with the test process, whatever ends it), and is waited for by
// polling a readiness check rather than by sleeping.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const REAPER = fileURLToPath(new URL('./reaper.mjs', import.meta.url));
const running = new Set();

// Last resort when the suite ends without calling stop(): the reapers' stdin closes with this
// process anyway, but a direct signal is quicker.
process.on('exit', () => {
  for (const child of running) {
    try {
      child.kill('SIGTERM');
    } catch {
      // already gone
    }
  }
});

const taken = new Set();

/** A TCP port on 127.0.0.1 that nothing listens on now and this suite has not handed out. */
export async function freePort() {
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const server = createServer();
      server.unref();
      server.on('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address();
        server.close(() => resolve(port));
      });
    });
    if (!taken.has(port)) {
      taken.add(port);
      return port;
    }
  }
}

/** The last `lines` lines of a text file, or a note that it cannot be read. */
export function tail(file, lines = 30) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch (error) {
    return `(cannot read ${file}: ${error.message})`;
  }
}

/**
 * Starts `command args` with stdout and stderr appended to `logFile`.
 * Returns { name, logFile, exited, exitCode(), stop() }.
 */
export function startProcess({ name, command, args = [], env = process.env, cwd, logFile }) {
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [REAPER, command, ...args], {
    cwd,
    env,
    stdio: ['pipe', fd, fd],
  });
  closeSync(fd);
  running.add(child);
  let exitCode = null;
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exitCode = code ?? signal;
      running.delete(child);
      resolve(exitCode);
    });
  });
  child.stopAndWait = async () => {
    if (exitCode !== null) return;
    child.stdin.end();
    child.kill('SIGTERM');
    await exited;
  };
  return {
    name,
    logFile,
    exited,
    /** The exit code (or signal) once the process has ended, else null. */
    exitCode: () => exitCode,
    /** Stops the process group and waits until it is gone (SIGKILL after 5 s). */
    stop: child.stopAndWait,
  };
}

/**
 * Starts a long-running service as `startProcess` does and waits until `ready()` resolves
 * true; if it never does, the process is stopped before the error propagates.
 */
export async function startService(options, { ready, timeoutMs }) {
  const proc = startProcess(options);
  try {
    await waitUntil(ready, { what: options.name, proc, timeoutMs });
  } catch (error) {
    await proc.stop();
    throw error;
  }
  return proc;
}

/** Stops every process this module started that is still running. */
export async function stopAll() {
  await Promise.allSettled([...running].map((child) => child.stopAndWait()));
}

/**
 * Polls `check` (an async function returning true when ready) every 100 ms until it succeeds,
 * `proc` exits, or `timeoutMs` passes; the error names `what` and shows `proc`'s log tail.
 */
export async function waitUntil(check, { what, proc, timeoutMs }) {
  const deadline = Date.now() + timeoutMs;
  let lastError = null;
  while (Date.now() < deadline) {
    if (proc && proc.exitCode() !== null) {
      throw new Error(
        `${what} exited with ${proc.exitCode()} before it was ready; ` +
          `last lines of ${proc.logFile}:\n${tail(proc.logFile)}`,
      );
    }
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const log = proc ? `; last lines of ${proc.logFile}:\n${tail(proc.logFile)}` : '';
  throw new Error(
    `${what} was not ready after ${timeoutMs / 1000} s` +
      (lastError ? ` (last error: ${lastError.message})` : '') +
      log,
  );
}

/** True when GET `url` answers 200 within a second. */
export async function answers200(url) {
  const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
  await response.arrayBuffer();
  return response.status === 200;
}

/**
 * Runs a command to completion; resolves { code, stdout, stderr }. `input` is written to
 * stdin. Rejects only when the command cannot be started or outlives `timeoutMs`.
 */
export function run(
  command,
  args,
  { input = '', env = process.env, cwd, timeoutMs = 60_000 } = {},
) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command}: ${error.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

/**
 * Polls `check` every 100 ms until it resolves a truthy value, which it returns; fails with
 * `message` after `timeoutMs`.
 */
export async function eventually(check, message, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    assert.ok(Date.now() < deadline, message);
    await new Promise((r) => setTimeout(r, 100));
  }
}
