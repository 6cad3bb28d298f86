#!/usr/bin/env python3
"""Measures firegate's security and reliability figures and writes bench/SECURITY.md.

Starts its own Firestore emulator and release `firegate serve` processes, then measures:
failures until lockout, the response-time difference between an unknown login and a wrong
password, RSS at idle and under a 500-request flood, the time a login takes to fail while
Firestore is down, and the time until logins succeed again after it returns.

Usage: python3 scripts/security_figures.py   (from the repository root; builds --release)
"""
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "firegate")
JAR = os.environ.get(
    "FIREGATE_FIRESTORE_EMULATOR_JAR",
    "/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar",
)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except Exception:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer")


def start_emulator(port):
    proc = subprocess.Popen(
        ["java", "-cp", JAR, "com.google.cloud.datastore.emulator.firestore.CloudFirestore",
         "start", "--host=127.0.0.1", f"--port={port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    wait_http(f"http://127.0.0.1:{port}/")
    return proc


def make_key(directory):
    pem = subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
                         check=True, capture_output=True, text=True).stdout
    path = os.path.join(directory, "key.json")
    with open(path, "w") as f:
        json.dump({"type": "service_account", "project_id": "demo-figures", "private_key_id": "f" * 40,
                   "private_key": pem, "client_email": "figures@demo-figures.iam.gserviceaccount.com"}, f)
    os.chmod(path, 0o600)


class Server:
    def __init__(self, keys, emulator_port, *flags):
        self.port = free_port()
        self.base = ["--keys-dir", keys, "--firestore-emulator-host", f"127.0.0.1:{emulator_port}"]
        self.proc = subprocess.Popen(
            [BIN, *self.base, *flags, "serve", "--listen", f"127.0.0.1:{self.port}", "--rate-limit-per-minute", "0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "FIREGATE_LOG_FORMAT": "json"})
        wait_http(f"http://127.0.0.1:{self.port}/healthz")

    def command(self, *args, stdin=None):
        return subprocess.run([BIN, *self.base, *args], input=stdin, capture_output=True, text=True)

    def login(self, email, password):
        body = json.dumps({"email": email, "password": password}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/login/", data=body,
                                         headers={"Content-Type": "application/json"})
        started = time.perf_counter()
        try:
            status = urllib.request.urlopen(request, timeout=30).status
        except urllib.error.HTTPError as e:
            status = e.code
        return status, time.perf_counter() - started

    def memory_kb(self, field):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=15)


async def flood(port, n):
    async def one(i):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        body = json.dumps({"email": f"user{i}@example.com", "password": "guess"}).encode()
        writer.write(b"POST /login/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()
        data = await reader.read()
        writer.close()
        return int(data.split(b" ")[1])
    return await asyncio.gather(*[one(i) for i in range(n)])


def main():
    subprocess.run(["cargo", "build", "--release", "--bin", "firegate"], cwd=ROOT, check=True)
    emulator_port = free_port()
    emulator = start_emulator(emulator_port)
    rows = []
    try:
        with tempfile.TemporaryDirectory() as keys:
            make_key(keys)

            # Lockout with the default policy.
            server = Server(keys, emulator_port)
            assert server.command("accounts", "create", "--login", "lock@example.com", stdin="right password\n").returncode == 0
            failures = 0
            while server.login("lock@example.com", "right password")[0] == 200 and failures < 50:
                server.command("accounts", "unlock", "lock@example.com")
                failures += 1
                for _ in range(failures):
                    server.login("lock@example.com", "wrong")
            rows.append(("failures until the right password is refused (default policy)", f"{failures}", "5 configured"))
            server.stop()

            # Timing: unknown login vs wrong password, with and without the failure floor.
            for floor in ("500", "0"):
                server = Server(keys, emulator_port, "--lockout-threshold", "0", "--failure-floor-ms", floor)
                server.command("accounts", "create", "--login", "known@example.com", stdin="right password\n")
                unknown, wrong = [], []
                for _ in range(25):
                    wrong.append(server.login("known@example.com", "wrong password")[1])
                    unknown.append(server.login("nobody@example.com", "wrong password")[1])
                mu, mw = statistics.median(unknown), statistics.median(wrong)
                diff = abs(mu - mw) / mw * 100
                rows.append((f"median failed sign-in, floor {floor} ms: unknown login / wrong password",
                             f"{mu*1000:.1f} ms / {mw*1000:.1f} ms (difference {diff:.1f}%)", "< 5%"))
                server.stop()

            # Memory at idle and under a flood.
            server = Server(keys, emulator_port, "--lockout-threshold", "0")
            idle = server.memory_kb("VmRSS")
            statuses = asyncio.run(flood(server.port, 500))
            peak = server.memory_kb("VmHWM")
            shed = statuses.count(503)
            rows.append(("RSS idle", f"{idle/1024:.1f} MB", "< 20 MB"))
            rows.append(("RSS peak under 500 concurrent logins", f"{peak/1024:.1f} MB ({shed} shed with 503, {statuses.count(400)} answered)", "< 100 MB"))

            # Firestore down and back.
            server.command("accounts", "create", "--login", "up@example.com", stdin="right password\n")
            os.killpg(emulator.pid, 15)
            emulator.wait()
            status, took = server.login("up@example.com", "right password")
            rows.append(("a sign-in while Firestore is down", f"{status} after {took*1000:.0f} ms", "503, quickly"))
            emulator = start_emulator(emulator_port)
            started = time.perf_counter()
            server.command("accounts", "create", "--login", "up@example.com", stdin="right password\n")
            while server.login("up@example.com", "right password")[0] != 200:
                time.sleep(0.1)
            rows.append(("sign-ins succeed again after Firestore returns (no restart)",
                         f"{time.perf_counter() - started:.1f} s", "recovers"))
            server.stop()
    finally:
        try:
            os.killpg(emulator.pid, 15)
        except ProcessLookupError:
            pass

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    lines = ["# Security and reliability figures", "",
             f"Measured by `python3 scripts/security_figures.py` on {time.strftime('%Y-%m-%d')}, commit `{commit}`,",
             f"{os.cpu_count()} × {cpu}, {platform.system()} {platform.release()}, release build, local emulator.", "",
             "| figure | measured | target |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    os.makedirs(os.path.join(ROOT, "bench"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "SECURITY.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
