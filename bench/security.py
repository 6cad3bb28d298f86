#!/usr/bin/env python3
"""Measures firegate's security and reliability figures and writes bench/SECURITY.md.

Starts its own Firestore emulator and release `firegate serve` processes, then measures:
failures until lockout, the response-time difference between an unknown login and a wrong
password, RSS at idle and under a 500-request flood, the time a login takes to fail while
Firestore is down, and the time until logins succeed again after it returns; and
the most CPU one unauthenticated sign-in can force with the default cost ceilings, admin
guesses per second under 32 concurrent clients, checks per account under a held-back burst,
what an attacker guessing once a second does to the account's owner, and whether /healthz
answers while --max-connections idle connections are open; and the memory that 1,000
connections sending unfinished request heads take.

Usage: python3 bench/security.py [--only NAME,...]   (from the repository root;
builds --release). NAMES: lockout timing memory outage cost admin burst victim idle heads.
"""
import argparse
import asyncio
import base64
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
    # firegate's own launcher, the one the tests and benchmarks use.
    proc = subprocess.Popen(
        [BIN, "emulator", "--port", str(port)],
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
    def __init__(self, keys, emulator_port, *flags, serve=()):
        self.port = free_port()
        self.base = ["--keys-dir", keys, "--firestore-emulator-host", f"127.0.0.1:{emulator_port}"]
        self.log = tempfile.NamedTemporaryFile("w+", suffix=".log")
        self.proc = subprocess.Popen(
            [BIN, "serve", *self.base, *flags, "--listen", f"127.0.0.1:{self.port}", "--rate-limit-per-minute", "0", *serve],
            stdout=subprocess.DEVNULL, stderr=self.log,
            env={**os.environ, "FIREGATE_LOG_FORMAT": "json", "RUST_LOG": "info"})
        wait_http(f"http://127.0.0.1:{self.port}/healthz")

    def log_entries(self):
        self.log.flush()
        with open(self.log.name) as f:
            for line in f:
                try:
                    yield json.loads(line)
                except ValueError:
                    pass

    def count_logs(self, **fields):
        return sum(1 for e in self.log_entries() if all(e.get(k) == v for k, v in fields.items()))

    def cpu_seconds(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            parts = f.read().rsplit(")", 1)[1].split()
        return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")

    def request(self, method, path, body=None, headers=None, timeout=30):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json", **(headers or {})})
        try:
            return urllib.request.urlopen(request, timeout=timeout).status
        except urllib.error.HTTPError as e:
            return e.code

    def command(self, *args, stdin=None):
        # Flags follow the command: `accounts create … --keys-dir …`.
        return subprocess.run([BIN, *args, *self.base], input=stdin, capture_output=True, text=True)

    def login(self, email, password, client=None):
        body = json.dumps({"email": email, "password": password}).encode()
        headers = {"Content-Type": "application/json"}
        if client:
            headers["X-Forwarded-For"] = client
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/login/", data=body, headers=headers)
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
        self.log.close()


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



def parse_time(text):
    """Seconds since the epoch of an RFC 3339 log time (fractions kept)."""
    from datetime import datetime
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def b64(data):
    return base64.b64encode(data).decode().rstrip("=")


def costliest_hashes():
    """The costliest stored hash of each family the default ceilings admit (see
    `cargo bench --bench hashes -- ceilings`), as (label, dialect, hash)."""
    zeros = lambda n: "00" * n
    return [
        ("argon2id m=131072 KiB t=4", "phc", f"$argon2id$v=19$m=131072,t=4,p=1${b64(bytes(16))}${b64(bytes(32))}"),
        ("argon2id m=8192 KiB t=64", "phc", f"$argon2id$v=19$m=8192,t=64,p=1${b64(bytes(16))}${b64(bytes(32))}"),
        ("bcrypt cost 14", "phc", "$2b$14$" + "." * 22 + "." * 31),
        ("wordpress $wp$ bcrypt cost 14", "php", "$wp$2y$14$" + "." * 22 + "." * 31),
        ("sha512-crypt rounds=2000000", "phc", "$6$rounds=2000000$saltsaltsaltsalt$" + "." * 86),
        ("sha256-crypt rounds=2000000", "phc", "$5$rounds=2000000$saltsaltsaltsalt$" + "." * 43),
        ("phpass $P$ count=2^21", "php", "$P$J" + "saltsalt" + "." * 22),
        ("drupal $S$ count=2^20", "drupal", "$S$I" + "saltsalt" + "." * 43),
        ("md5-crypt", "phc", "$1$saltsalt$" + "." * 22),
        ("scrypt N=2^20 r=1 p=1 (128 MiB)", "werkzeug", f"scrypt:1048576:1:1$saltsalt${zeros(64)}"),
        ("pbkdf2-sha256 rounds=6000000", "werkzeug", f"pbkdf2:sha256:6000000$saltsalt${zeros(32)}"),
        ("pbkdf2-sha3_512 rounds=428571", "werkzeug", f"pbkdf2:sha3_512:428571$saltsalt${zeros(64)}"),
        ("pbkdf2-blake2b rounds=857142", "werkzeug", f"pbkdf2:blake2b:857142$saltsalt${zeros(64)}"),
        ("pbkdf2-sha512 rounds=1000000", "werkzeug", f"pbkdf2:sha512:1000000$saltsalt${zeros(64)}"),
    ]


# A check's work can grow with the password: each hash is tried with a short wrong password,
# one of the length every admitted hash must be checked for, a longer one, and the longest
# accepted (which the length-dependent schemes refuse unchecked).
PASSWORD_LENGTHS = (8, 128, 256, 4096)


def measure_cost(keys, emulator_port, rows):
    """Wrong-password sign-ins against an account holding each costliest hash, with each
    password length: the server's CPU time for the costliest (the floor is waiting, not CPU)
    and the peak RSS afterwards."""
    server = Server(keys, emulator_port, "--lockout-threshold", "0")
    worst = (0.0, "")
    with tempfile.TemporaryDirectory() as files:
        for i, (label, dialect, hash_) in enumerate(costliest_hashes()):
            path = os.path.join(files, f"{i}.jsonl")
            with open(path, "w") as f:
                f.write(json.dumps({"id": f"cost{i}", "username": f"cost{i}", "password": hash_}) + "\n")
            imported = server.command("import", path, "--format", "jsonl", "--dialect", dialect)
            if imported.returncode != 0:
                raise RuntimeError(f"{label}: import refused it: {imported.stdout}{imported.stderr}")
    server.login("nobody@nowhere.invalid", "x")  # warm the connection path
    for i, (label, _, _) in enumerate(costliest_hashes()):
        costs = []
        for length in PASSWORD_LENGTHS:
            before = server.cpu_seconds()
            body = json.dumps({"username": f"cost{i}", "password": "w" * length}).encode()
            request = urllib.request.Request(f"http://127.0.0.1:{server.port}/login/", data=body,
                                             headers={"Content-Type": "application/json"})
            try:
                urllib.request.urlopen(request, timeout=120)
            except urllib.error.HTTPError:
                pass
            cpu = server.cpu_seconds() - before
            costs.append(f"{length} B {cpu:.2f}")
            worst = max(worst, (cpu, f"{label}, {length}-byte password"))
        print(f"  {label}: CPU-s by password length: {', '.join(costs)}")
    peak = server.memory_kb("VmHWM")
    server.stop()
    rows.append(("worst CPU one unauthenticated sign-in can force (default ceilings; every family × "
                 "passwords of 8, 128, 256 and 4,096 bytes)",
                 f"{worst[0]:.2f} CPU-s ({worst[1]}); peak RSS {peak/1024:.0f} MB", "≤ 1.5 CPU-s, fits 256 MiB"))


def admin_hash(server_keys, emulator_port):
    out = subprocess.run([BIN, "admin", "hash-password"], input="admin secret\n",
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


async def admin_guessers(port, clients, seconds, hang_up_after=None):
    """`clients` concurrent clients sending wrong admin credentials for `seconds`."""
    auth = "Basic " + base64.b64encode(b"admin:wrong guess").decode()
    request = (b"GET /admin/api/keys HTTP/1.1\r\nHost: x\r\nAuthorization: " + auth.encode() +
               b"\r\nConnection: close\r\n\r\n")
    deadline = time.monotonic() + seconds
    statuses = []

    async def client():
        while time.monotonic() < deadline:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            await writer.drain()
            try:
                data = await asyncio.wait_for(reader.read(), hang_up_after or 30)
                statuses.append(int(data.split(b" ")[1]))
            except asyncio.TimeoutError:
                statuses.append(0)
            writer.close()
    await asyncio.gather(*[client() for _ in range(clients)])
    return statuses


def measure_admin(keys, emulator_port, rows):
    """Admin guesses checked per second under 32 concurrent clients, counted from the
    server's log (one `admin authentication failed` line per checked guess)."""
    hash_ = admin_hash(keys, emulator_port)
    seconds = 10
    for label, flags, hang_up in [
        ("32 clients", ["--lockout-threshold", "0"], None),
        ("32 clients hanging up after 80 ms", ["--lockout-threshold", "0"], 0.08),
        ("32 clients, default lockout", [], None),
    ]:
        server = Server(keys, emulator_port, "--admin-password-hash", hash_, *flags)
        statuses = asyncio.run(admin_guessers(server.port, 32, seconds, hang_up))
        time.sleep(2.5)  # requests still waiting for the check when the clients stopped
        times = sorted(parse_time(e["time"]) for e in server.log_entries()
                       if e.get("action") == "admin-login" and e.get("outcome") == "failure")
        # Checks per second between the first and the last: the rate, whatever the window.
        rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
        rows.append((f"admin guesses checked per second, {label} (floor 500 ms)",
                     f"{rate:.2f}/s ({len(times)} checked; {statuses.count(401)} answered 401, "
                     f"{statuses.count(503)} 503, {statuses.count(429)} 429 locked)", "≤ 2/s (1 per floor)"))
        server.stop()


async def held_back_burst(port, n, login, password):
    body = json.dumps({"email": login, "password": password}).encode()
    head = (b"POST /login/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body))
    streams = []
    for _ in range(n):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head + body[:-1])
        await writer.drain()
        streams.append((reader, writer))
    return streams, body[-1:]


async def release_burst(streams, last):
    for _, writer in streams:
        writer.write(last)
    async def answer(reader, writer):
        data = await reader.read()
        writer.close()
        return int(data.split(b" ")[1])
    return await asyncio.gather(*[answer(r, w) for r, w in streams])


def measure_burst(keys, emulator_port, rows):
    """64 wrong guesses held back by one byte and released together: on a fresh account,
    and again when its lock expires. Checked guesses are counted from the sign-in log."""
    step = 5
    server = Server(keys, emulator_port, "--lockout-step-secs", str(step))
    server.command("accounts", "create", "--login", "burst@example.com", stdin="right password\n")
    checked = lambda: server.count_logs(message="sign-in", outcome="failure", reason="wrong_password")
    loop = asyncio.new_event_loop()
    streams, last = loop.run_until_complete(held_back_burst(server.port, 64, "burst@example.com", "wrong"))
    statuses = loop.run_until_complete(release_burst(streams, last))
    time.sleep(0.5)
    first = checked()
    streams, last = loop.run_until_complete(held_back_burst(server.port, 64, "burst@example.com", "wrong"))
    time.sleep(step + 0.5)
    statuses += loop.run_until_complete(release_burst(streams, last))
    time.sleep(0.5)
    second = checked() - first
    loop.close()
    server.stop()
    rows.append(("guesses checked per lock window, 64 held-back wrong guesses released together "
                 "(fresh account / when the lock expires; threshold 5)",
                 f"{first} / {second} ({statuses.count(400)} of {len(statuses)} answered 400)", "≤ 5 / 1"))


def measure_victim(keys, emulator_port, rows):
    """An attacker guessing about once a second for 60 s from one network; meanwhile the
    account's owner signs in every 1.5 s from the network they signed in from before, and a
    new device of the owner's tries from a network never seen."""
    server = Server(keys, emulator_port, serve=("--trusted-proxy-hops", "1"))
    server.command("accounts", "create", "--login", "victim@example.com", stdin="right password\n")
    home, phone, attacker = "198.51.100.7", "192.0.2.44", "203.0.113.66"
    assert server.login("victim@example.com", "right password", home)[0] == 200
    results = {"home": [], "phone": []}
    stop = time.monotonic() + 60

    def attack():
        while time.monotonic() < stop:
            server.login("victim@example.com", "guess", attacker)
            time.sleep(1.0)

    import threading
    thread = threading.Thread(target=attack)
    thread.start()
    time.sleep(6)  # the lock is in place
    while time.monotonic() < stop:
        results["home"].append(server.login("victim@example.com", "right password", home)[0])
        results["phone"].append(server.login("victim@example.com", "right password", phone)[0])
        time.sleep(1.5)
    thread.join()
    server.stop()
    ok = lambda where: f"{results[where].count(200)}/{len(results[where])}"
    rows.append(("owner's correct sign-ins that succeed while an attacker guesses ~1/s for 60 s: "
                 "from a familiar network / from a new one", f"{ok('home')} / {ok('phone')}",
                 "familiar: all"))


def measure_idle(keys, emulator_port, rows):
    """`--max-connections` idle connections that send nothing: does /healthz still answer,
    and when does the server close them?"""
    limit, header_timeout = 50, 10
    server = Server(keys, emulator_port, serve=("--max-connections", str(limit),
                                                "--header-timeout-secs", str(header_timeout)))
    idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(limit)]
    opened = time.monotonic()
    started = time.monotonic()
    try:
        status = urllib.request.urlopen(f"http://127.0.0.1:{server.port}/healthz", timeout=20).status
        healthz = f"{status} after {time.monotonic() - started:.1f} s"
    except Exception:
        healthz = f"no answer within {time.monotonic() - started:.0f} s"
    closed = []
    for s in idle:
        s.settimeout(max(0.1, opened + 40 - time.monotonic()))
        try:
            s.recv(1)
            closed.append(time.monotonic() - opened)
        except (socket.timeout, OSError):
            pass
        s.close()
    server.stop()
    held = f"{max(closed):.1f} s" if len(closed) == limit else f"{limit - len(closed)} still open after 40 s"
    rows.append((f"{limit} idle connections (= --max-connections): /healthz; longest an idle connection is held",
                 f"{healthz}; {held}", f"answers; ≤ {header_timeout} s (header timeout)"))


async def unfinished_heads(port, connections, size, rss):
    """`connections` clients at once, each sending `size` bytes of header lines and never the
    blank line that ends a head. Returns how each ended (`431`, `closed`: reset or closed
    unanswered, `open`: still open once everything was sent) and the RSS samples taken
    meanwhile by `rss()`."""
    line = b"X-Filler: " + b"a" * 8000 + b"\r\n"
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + line * (size // len(line))
    samples = []
    written = asyncio.Event()
    sent = asyncio.Event()
    pending = [connections]

    async def sample():
        while not sent.is_set():
            samples.append(rss())
            await asyncio.sleep(0.1)

    async def client():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            reader = writer = None
        if writer:
            try:
                writer.write(head)
                await writer.drain()
            except OSError:
                pass
        pending[0] -= 1
        if pending[0] == 0:
            written.set()
        await sent.wait()
        if not writer:
            return "refused"
        try:
            data = await asyncio.wait_for(reader.read(64), 0.5)
            outcome = "431" if data.startswith(b"HTTP/1.1 431") else ("closed" if not data else "other")
        except asyncio.TimeoutError:
            outcome = "open"
        except OSError:
            outcome = "closed"
        writer.close()
        return outcome

    sampler = asyncio.ensure_future(sample())
    clients = [asyncio.ensure_future(client()) for _ in range(connections)]
    await written.wait()
    await asyncio.sleep(1)  # the server's last reads
    sent.set()
    outcomes = await asyncio.gather(*clients)
    await sampler
    return outcomes, samples


def measure_heads(keys, emulator_port, rows):
    """1,000 connections (the default --max-connections), each sending 400 KB of header lines
    without the blank line that would end the head: the server's peak RSS while they send,
    and its RSS once the header timeout (10 s by default) has passed."""
    connections, size, header_timeout = 1000, 400 * 1024, 10
    server = Server(keys, emulator_port)
    idle = server.memory_kb("VmRSS")
    started = time.monotonic()
    outcomes, samples = asyncio.run(unfinished_heads(server.port, connections, size,
                                                     lambda: server.memory_kb("VmRSS")))
    peak = server.memory_kb("VmHWM")
    time.sleep(max(0.0, started + header_timeout + 2 - time.monotonic()))
    after = server.memory_kb("VmRSS")
    healthz = server.request("GET", "/healthz")
    server.stop()
    counts = ", ".join(f"{outcomes.count(o)} {o}" for o in ("431", "closed", "open", "refused", "other")
                       if outcomes.count(o))
    print(f"  RSS samples (MB): {[round(kb / 1024) for kb in samples]}")
    rows.append((f"{connections} connections each sending {size // 1024} KB of header lines without the "
                 "blank line (defaults): peak RSS; RSS after the header timeout",
                 f"peak {peak/1024:.0f} MB (idle {idle/1024:.0f} MB); {after/1024:.0f} MB after "
                 f"{header_timeout} s; connections: {counts}; /healthz {healthz} afterwards",
                 "< 200 MB peak"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="", help="comma-separated figures to measure")
    only = set(filter(None, parser.parse_args().only.split(",")))
    wanted = lambda name: not only or name in only
    subprocess.run(["cargo", "build", "--release", "--bin", "firegate"], cwd=ROOT, check=True)
    emulator_port = free_port()
    emulator = start_emulator(emulator_port)
    rows = []
    try:
        with tempfile.TemporaryDirectory() as keys:
            make_key(keys)

            if wanted("lockout"):
                # Lockout with the default policy.
                server = Server(keys, emulator_port)
                assert server.command("accounts", "create", "--login", "lock@example.com", stdin="right password\n").returncode == 0
                failures = 0
                while server.login("lock@example.com", "right password")[0] == 200 and failures < 50:
                    server.command("accounts", "unlock", "--login", "lock@example.com")
                    failures += 1
                    for _ in range(failures):
                        server.login("lock@example.com", "wrong")
                rows.append(("failures until the right password is refused (default policy)", f"{failures}", "5 configured"))
                server.stop()

            if wanted("timing"):
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

            if wanted("memory") or wanted("outage"):
                # Memory at idle and under a flood.
                server = Server(keys, emulator_port, "--lockout-threshold", "0")
                idle = server.memory_kb("VmRSS")
                statuses = asyncio.run(flood(server.port, 500))
                peak = server.memory_kb("VmHWM")
                shed = statuses.count(503)
                rows.append(("RSS idle", f"{idle/1024:.1f} MB", "< 20 MB"))
                rows.append(("RSS peak under 500 concurrent logins", f"{peak/1024:.1f} MB ({shed} shed with 503, {statuses.count(400)} answered)", "< 100 MB"))

                # Firestore down and back (the memory server again).
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

            for name, measure in [("cost", measure_cost), ("admin", measure_admin), ("burst", measure_burst),
                                  ("victim", measure_victim), ("idle", measure_idle),
                                  ("heads", measure_heads)]:
                if wanted(name):
                    print(f"measuring {name} ...", flush=True)
                    measure(keys, emulator_port, rows)
    finally:
        try:
            os.killpg(emulator.pid, 15)
        except ProcessLookupError:
            pass

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    lines = ["# Security and reliability figures", "",
             f"Measured by `python3 bench/security.py` on {time.strftime('%Y-%m-%d')}, commit `{commit}`,",
             f"{os.cpu_count()} × {cpu}, {platform.system()} {platform.release()}, release build, local emulator.", "",
             "| figure | measured | target |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    if only:
        print("\n".join(lines[5:]))
        return
    os.makedirs(os.path.join(ROOT, "bench"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "SECURITY.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
