// Runs one command in its own process group and ends the whole group when this process's
// stdin closes (the test process that spawned it died or let go), on SIGTERM/SIGINT, or when
// the command exits. A test process killed outright thus never leaves an emulator behind.
//
// usage: node reaper.mjs <command> [args...]

import { spawn } from 'node:child_process';

const [command, ...args] = process.argv.slice(2);
const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'], detached: true });

function signalGroup(signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  signalGroup('SIGTERM');
  setTimeout(() => {
    signalGroup('SIGKILL');
    process.exit(137);
  }, 5000).unref();
}

child.on('error', (error) => {
  console.error(`reaper: cannot run ${command}: ${error.message}`);
  process.exit(127);
});
child.on('exit', (code, signal) => {
  // Anything the command left in its group goes with it.
  signalGroup('SIGKILL');
  process.exit(code ?? (signal ? 128 : 1));
});

process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
