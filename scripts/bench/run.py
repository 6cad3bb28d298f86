#!/usr/bin/env python3
"""The firegate benchmark driver (standard library only), run by `scripts/bench.sh`.

Expects a built `target/release/firegate`, compiled bench targets, `wrk` and `openssl` on the
PATH and the Firestore emulator jar. It starts its own emulator, seeds accounts, measures cold
start, warm latency, throughput, signing, memory and size, and writes `bench/RESULTS.md`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import gzip
import hashlib
import http.client
import io
import json
import os
import platform
import re
import resource
import secrets
import shlex
import shutil
import signal
import socket
import statistics
import string
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN_DIR = ROOT / "target/release"  # replaced by --bin
BINARY = BIN_DIR / "firegate"
RESULTS = ROOT / "bench/RESULTS.md"
SIGNERS = ROOT / "bench/SIGNERS.md"
PATHS = ROOT / "bench/PATHS.md"
PROJECT = "demo-bench"
CLIENT_EMAIL = f"firegate-bench@{PROJECT}.iam.gserviceaccount.com"
ARGON2_LOGIN = "bench-argon2@example.com"
ARGON2_PASSWORD = "correct horse battery staple"
LEGACY_PASSWORD = "legacy-password-1"
WERKZEUG_ROUNDS = 260_000
TIMELINE_RUNS = 5
# Logins (3 reads each) sent before the cold starts so the emulator's JIT is warm.
EMULATOR_WARMUP_LOGINS = 600
# Fresh processes timing their first argon2id verify (`cargo bench --bench hashes -- first`).
FIRST_VERIFY_RUNS = 11
# The peers' own Werkzeug account (they never upgrade it) and their timed warm logins.
PEER_LOGIN = "peer-legacy"
PEER_WARM_LOGINS = 200
# Firestore documents a warm sign-in reads: the login index, then the account and its
# failure record together (src/service/sign_in.rs, `authenticate`).
READS_PER_SIGNIN = 3


def LOAD_LEVELS(cores: int) -> list[int]:  # noqa: N802
    """Concurrency of the warm wrk runs: 1, 2 × cores (the throughput floor), 16 and 64."""
    return sorted({1, 2 * cores, 16, 64})
# What gcr.io/distroless/cc-debian12 is made of (distroless base/config.bzl, cc/config.bzl and
# base/base.bzl: static = base-files, netbase, tzdata, CA certificates; base = + libc6,
# libssl3; cc = + libgomp1, libstdc++6, libgcc-s1, gcc-12-base).
DISTROLESS_STATIC_PACKAGES = ["base-files", "netbase", "tzdata", "ca-certificates"]
DISTROLESS_CC_PACKAGES = [
    *DISTROLESS_STATIC_PACKAGES, "libc6", "libssl3",
    "libgomp1", "libstdc++6", "libgcc-s1", "gcc-12-base",
]

CHILDREN: list[subprocess.Popen] = []


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Processes


def stop(proc: subprocess.Popen, group: bool = False, grace: float = 5.0) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds; always reaped."""
    if proc.poll() is None:
        try:
            if group:
                os.killpg(proc.pid, signal.SIGTERM)
            else:
                proc.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            try:
                if group:
                    os.killpg(proc.pid, signal.SIGKILL)
                else:
                    proc.kill()
            except ProcessLookupError:
                pass
            proc.wait()
    if proc in CHILDREN:
        CHILDREN.remove(proc)


def stop_all() -> None:
    for proc in list(CHILDREN):
        stop(proc, group=getattr(proc, "own_group", False))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in KiB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a running process has used."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds all processes on the machine have used since boot (all cores)."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = fields[:7]
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def steal_seconds() -> float:
    """CPU seconds the hypervisor has taken from this guest since boot (all cores): time the
    guest wanted to run but another tenant's work ran instead."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    return (fields[7] if len(fields) > 7 else 0) / os.sysconf("SC_CLK_TCK")


def own_seconds() -> float:
    """CPU seconds this driver and its reaped children have used."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime + children_cpu()


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)


# ---------------------------------------------------------------------------------------------
# Firestore emulator


class Emulator:
    """The Firestore emulator, started with firegate's own launcher (`firegate emulator`, the
    one the tests use): it prints host:port, then the JVM's pid, once the emulator serves."""

    def __init__(self, workdir: Path, pidfile: Path | None):
        self.log = open(workdir / "firestore-emulator.log", "w")
        self.launcher = subprocess.Popen(
            [str(BINARY), "emulator"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=self.log, text=True, start_new_session=True,
        )
        self.launcher.own_group = True
        CHILDREN.append(self.launcher)
        if pidfile:
            pidfile.write_text(str(self.launcher.pid))
        host = self.launcher.stdout.readline().strip()
        pid = self.launcher.stdout.readline().strip().removeprefix("pid ")
        if not host or not pid.isdigit():
            sys.exit(f"error: `firegate emulator` did not start the Firestore emulator; see {self.log.name}")
        self.host, self.port = host, int(host.rsplit(":", 1)[1])

        class Jvm:  # what the CPU and memory readings need: the emulator's own process
            def __init__(self, pid: int):
                self.pid = pid
        self.proc = Jvm(int(pid))

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(self.host, timeout=30)
        try:
            headers = {"Authorization": "Bearer owner"}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def docs_path(self) -> str:
        return f"/v1/projects/{PROJECT}/databases/(default)/documents"

    def read_latency(self, paths: list[str], warmup: int = 100, n: int = 400) -> dict:
        """Median GetDocument latency over REST on one keep-alive connection."""
        conn = http.client.HTTPConnection(self.host, timeout=30)
        headers = {"Authorization": "Bearer owner"}
        samples = []
        for i in range(warmup + n):
            path = paths[i % len(paths)]
            t = time.perf_counter_ns()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            elapsed = time.perf_counter_ns() - t
            if response.status != 200:
                sys.exit(f"error: GET {path} from the emulator answered {response.status}")
            if i >= warmup:
                samples.append(elapsed / 1e6)
        conn.close()
        return summary(samples)

    def stop(self) -> None:
        stop(self.proc, group=True)
        self.log.close()


# ---------------------------------------------------------------------------------------------
# Keys and accounts


def write_key(keys_dir: Path) -> None:
    """A Google-format service-account key file (mode 0600) with a fresh RSA-2048 key."""
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    pem = run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]).stdout
    assert "BEGIN PRIVATE KEY" in pem, "openssl genpkey must write PKCS#8"
    key = {
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": secrets.token_hex(20),
        "private_key": pem,
        "client_email": CLIENT_EMAIL,
        "client_id": "",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    fd = os.open(keys_dir / "bench.json", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(key, f, indent=2)


def werkzeug_hash(password: str) -> str:
    """Werkzeug's generate_password_hash(password, "pbkdf2:sha256:260000")."""
    salt = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(16))
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), WERKZEUG_ROUNDS)
    return f"pbkdf2:sha256:{WERKZEUG_ROUNDS}${salt}${digest.hex()}"


def seed_werkzeug(emulator: Emulator, usernames: list[str]) -> None:
    """Account and login-index documents as firegate writes them (src/store/accounts.rs),
    holding Werkzeug PBKDF2-SHA256 260,000-round hashes, in one commit."""
    base = f"projects/{PROJECT}/databases/(default)/documents"
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    writes = []
    for name in usernames:
        s = lambda v: {"stringValue": v}  # noqa: E731
        fields = {
            "uid": s(name),
            "username": s(name),
            "logins": {"arrayValue": {"values": [s(name)]}},
            "password_hash": s(werkzeug_hash(LEGACY_PASSWORD)),
            "hash_dialect": s("werkzeug"),
            "hash_scheme": s("werkzeug-pbkdf2-sha256"),
            "created_at": {"timestampValue": now},
            "updated_at": {"timestampValue": now},
            "disabled": {"booleanValue": False},
        }
        writes.append({"update": {"name": f"{base}/firegate_accounts/{name}", "fields": fields},
                       "currentDocument": {"exists": False}})
        writes.append({"update": {"name": f"{base}/firegate_logins/{name}",
                                  "fields": {"uid": s(name)}},
                       "currentDocument": {"exists": False}})
    status, body = emulator.request("POST", f"{emulator.docs_path()}:commit", {"writes": writes})
    if status != 200:
        sys.exit(f"error: seeding Werkzeug accounts failed: {status} {body[:300]!r}")


# ---------------------------------------------------------------------------------------------
# HTTP helpers


def http_request(method: str, path: str, body: bytes = b"") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


def login_body(login: str, password: str) -> bytes:
    return json.dumps({"email": login, "password": password}).encode()


def read_response(sock: socket.socket) -> int:
    """Reads one HTTP/1.1 response with a Content-Length body; returns its status."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed after {len(data)} bytes")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status


@functools.cache
def image_env() -> dict[str, str]:
    """The environment the Dockerfile's runtime image sets beyond firegate's own settings
    (`GLIBC_TUNABLES`): firegate and the micro-benchmarks it is compared with run under it, as
    the image runs them."""
    text = (ROOT / "Dockerfile").read_text()
    stage = text.rsplit("\nFROM ", 1)[-1]
    joined = re.sub(r"\\\n\s*", " ", stage)
    env = {}
    for line in joined.splitlines():
        if line.startswith("ENV "):
            for item in shlex.split(line[4:]):
                name, sep, value = item.partition("=")
                if sep and not name.startswith("FIREGATE_"):
                    env[name] = value
    return env


def server_env(emulator: Emulator, keys_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("FIREGATE_") and k not in ("RUST_LOG", "PORT", "FIRESTORE_EMULATOR_HOST")}
    env.update(image_env())
    env.update({
        "FIREGATE_KEYS_DIR": str(keys_dir),
        "FIRESTORE_EMULATOR_HOST": emulator.host,
        "FIREGATE_LOG_FORMAT": "json",
        # One client IP sends every request here; production keeps the per-IP limit.
        "FIREGATE_RATE_LIMIT_PER_MINUTE": "0",
        # No FIREGATE_MAX_CONCURRENT_HASHES: the default follows the CPU affinity, so the
        # pinned run (`taskset -c 0`) gets one hashing thread, as a one-vCPU instance does.
    })
    return env


def cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    result = subprocess.run([str(BINARY), *args], env=env, input=stdin, text=True,
                            capture_output=True)
    if result.returncode != 0:
        sys.exit(f"error: firegate {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


# ---------------------------------------------------------------------------------------------
# Cold start


def spawn_overhead(n: int) -> dict:
    """What the launcher's own fork+exec+wait costs: /bin/true, start to exit."""
    samples = []
    for _ in range(n):
        t = time.perf_counter_ns()
        subprocess.Popen(["/bin/true"]).wait()
        samples.append((time.perf_counter_ns() - t) / 1e6)
    return summary(samples)


def cold_run(env: dict[str, str], request: bytes, logfile: Path) -> dict:
    """One cold start: the clock starts just before exec; the launcher polls connect() every
    0.2 ms, sends `request` on the first connection that succeeds, and stops the clock at the
    last byte of the response."""
    port = free_port()
    with open(logfile, "a") as out:
        wall0 = time.time_ns()
        t0 = time.perf_counter_ns()
        proc = subprocess.Popen([str(BINARY), "serve", "--listen", f"127.0.0.1:{port}"],
                                env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
    CHILDREN.append(proc)
    try:
        deadline = t0 + 15e9
        while True:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.connect(("127.0.0.1", port))
                break
            except ConnectionRefusedError:
                sock.close()
                if proc.poll() is not None:
                    sys.exit(f"error: firegate serve exited with {proc.returncode}; see {logfile}")
                if time.perf_counter_ns() > deadline:
                    sys.exit(f"error: firegate serve did not listen within 15 s; see {logfile}")
                time.sleep(0.0002)
        t_accept = time.perf_counter_ns()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(request)
        status = read_response(sock)
        t_done = time.perf_counter_ns()
        sock.close()
        # What the process used until its first answer (it is idle from then on).
        cpu_s = cpu_seconds(proc.pid)
        return {"accept_ms": (t_accept - t0) / 1e6, "done_ms": (t_done - t0) / 1e6,
                "cpu_s": cpu_s,
                "status": status, "wall0_ns": wall0}
    finally:
        stop(proc)


def warm_emulator(env: dict[str, str], workdir: Path) -> dict:
    """Sign-ins from a warm server until the emulator's JIT has warmed: a fresh emulator (a
    JVM) answers a read in 5-10 ms for its first thousand or so, against ~2 ms after, while
    Firestore itself is always warm. Cold starts are measured after this."""
    server = Server(env, workdir / "emulator-warmup.log")
    try:
        done = server.logins(EMULATOR_WARMUP_LOGINS, 4)
    finally:
        server.stop()
    if done["statuses"] != {200: EMULATOR_WARMUP_LOGINS}:
        sys.exit(f"error: warming the emulator, logins answered {done['statuses']}")
    return done


def cold_starts(env: dict[str, str], runs: int, werkzeug_users: list[str], workdir: Path) -> dict:
    logfile = workdir / "cold-serve.log"
    kinds = {
        "healthz": lambda i: http_request("GET", "/healthz"),
        "argon2id": lambda i: http_request("POST", "/login/", login_body(ARGON2_LOGIN, ARGON2_PASSWORD)),
        "werkzeug": lambda i: http_request("POST", "/login/", login_body(werkzeug_users[i], LEGACY_PASSWORD)),
    }
    results = {k: [] for k in kinds}
    # Run 0 of each kind warms the page cache and the emulator; it is not counted.
    for i in range(runs + 1):
        for kind, request in kinds.items():
            r = cold_run(env, request(i), logfile)
            if r["status"] != 200:
                sys.exit(f"error: cold {kind} request answered {r['status']}; see {logfile}")
            if i > 0:
                results[kind].append(r)
            time.sleep(0.05)
    out = {}
    for kind, rs in results.items():
        out[kind] = {"accept": summary([r["accept_ms"] for r in rs]),
                     "done": summary([r["done_ms"] for r in rs]),
                     "cpu_ms": summary([r["cpu_s"] * 1e3 for r in rs])}
    # Where the time goes: a few more runs with Firestore reads logged (median per step).
    timelines: dict[str, list[dict[str, float]]] = {"argon2id": [], "werkzeug": []}
    for i in range(TIMELINE_RUNS):
        timelines["argon2id"].append(cold_timeline(env, kinds["argon2id"](0), workdir / "timeline.log"))
        timelines["werkzeug"].append(
            cold_timeline(env, kinds["werkzeug"](runs + 1 + i), workdir / "timeline.log"))
    out["timeline"] = {
        kind: {key: statistics.median(t[key] for t in ts) for key, _ in TIMELINE_EVENTS
               if all(key in t for t in ts)}
        for kind, ts in timelines.items()}
    return out


TIMELINE_EVENTS = [
    ("client", "keys loaded, Firestore client created: serving from here"),
    ("listening", "recorded key state read, `listening` logged (signing from here)"),
    ("accepted", "first connection accepted (launcher)"),
    ("login_read", "login-index document read"),
    ("account_read", "account document read"),
    ("hash_start", "first password verify started on a hashing thread"),
    ("hash_end", "first password verify finished"),
    ("upgraded", "legacy hash upgraded to argon2id and written"),
    ("signed_in", "password verified and token minted"),
    ("response", "response received (launcher)"),
]


def log_time_ns(stamp: str) -> int:
    """Nanoseconds since the epoch of an RFC 3339 UTC timestamp with up to 9 decimals."""
    base, _, frac = stamp.rstrip("Z").partition(".")
    seconds = dt.datetime.fromisoformat(base).replace(tzinfo=dt.timezone.utc).timestamp()
    return int(seconds) * 10**9 + int((frac + "000000000")[:9])


def cold_timeline(env: dict[str, str], request: bytes, logfile: Path) -> dict[str, float]:
    """One cold start with Firestore reads logged: when each step ended, in ms after exec."""
    env = dict(env, RUST_LOG="info,firestore::db::get=debug,firegate::hashing=debug")
    logfile.write_text("")
    r = cold_run(env, request, logfile)
    events = {"accepted": r["accept_ms"], "response": r["done_ms"]}
    for line in logfile.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        message, path = entry.get("message", ""), entry.get("document_path", "")
        key = None
        if message == "Created a new database client.":
            key = "client"
        elif message == "listening":
            key = "listening"
        elif message == "Read document." and "/firegate_logins/" in path:
            key = "login_read"
        elif message == "Read document." and "/firegate_accounts/" in path:
            key = "account_read"
        elif message == "hash done" and "hash_end" not in events and "time" in entry:
            end = (log_time_ns(entry["time"]) - r["wall0_ns"]) / 1e6
            events["hash_start"] = end - entry["work_us"] / 1e3
            events["hash_end"] = end
        elif message == "password hash upgraded":
            key = "upgraded"
        elif message == "sign-in" and entry.get("outcome") == "success":
            key = "signed_in"
        if key and key not in events and "time" in entry:
            events[key] = (log_time_ns(entry["time"]) - r["wall0_ns"]) / 1e6
    return events


# ---------------------------------------------------------------------------------------------
# Warm server, load and memory


class Server:
    def __init__(self, env: dict[str, str], logfile: Path, prefix: tuple[str, ...] = ()):
        self.port = free_port()
        self.log = open(logfile, "w")
        self.proc = subprocess.Popen([*prefix, str(BINARY), "serve", "--listen",
                                      f"127.0.0.1:{self.port}"],
                                     env=env, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        CHILDREN.append(self.proc)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"error: firegate serve exited; see {logfile}")
            try:
                if self.get("/healthz") == 200:
                    return
            except OSError:
                time.sleep(0.01)
        sys.exit(f"error: firegate serve did not come up; see {logfile}")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path: str) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            r.read()
            return r.status
        finally:
            conn.close()

    def memory(self) -> dict[str, float]:
        s = proc_status(self.proc.pid)
        return {"rss_mib": s["VmRSS"] / 1024, "hwm_mib": s["VmHWM"] / 1024}

    def logins(self, n: int, workers: int) -> dict:
        """n sequential-per-worker logins over keep-alive connections."""
        body = login_body(ARGON2_LOGIN, ARGON2_PASSWORD)
        statuses: dict[int, int] = {}
        lock = threading.Lock()

        def worker(count: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            for _ in range(count):
                conn.request("POST", "/login/", body=body,
                             headers={"Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
                with lock:
                    statuses[r.status] = statuses.get(r.status, 0) + 1
            conn.close()

        per = [n // workers + (1 if i < n % workers else 0) for i in range(workers)]
        threads = [threading.Thread(target=worker, args=(c,)) for c in per]
        t = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        return {"statuses": statuses, "seconds": time.perf_counter() - t}

    def timed_logins(self, n: int, body: bytes) -> tuple[list[float], float]:
        """`n` sequential sign-ins with `body` on one keep-alive connection: each one's time
        in ms, and the server's CPU seconds over them. Stops the run on any answer but 200."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        samples = []
        cpu0 = cpu_seconds(self.proc.pid)
        try:
            for _ in range(n):
                t = time.perf_counter_ns()
                conn.request("POST", "/login/", body=body,
                             headers={"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                samples.append((time.perf_counter_ns() - t) / 1e6)
                if response.status != 200:
                    sys.exit(f"error: a warm login answered {response.status}; see {self.log.name}")
        finally:
            conn.close()
        return samples, cpu_seconds(self.proc.pid) - cpu0

    def stop(self) -> None:
        stop(self.proc)
        self.log.close()


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def parse_duration_ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        raise ValueError(f"unknown wrk duration {text!r}")
    return float(m.group(1)) * UNITS[m.group(2)]


def wrk(server: Server, emulator: Emulator, script: Path | None, path: str, connections: int,
        seconds: int, sample_memory: bool = False, prefix: tuple[str, ...] = ()) -> dict:
    threads = min(connections, 2)
    cmd = [*prefix, "wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
           "--timeout", "30s", "--latency"]
    if script:
        cmd += ["-s", str(script)]
    cmd.append(server.url(path))
    cpu_before = (cpu_seconds(server.proc.pid), cpu_seconds(emulator.proc.pid), children_cpu())
    peak = {"rss_kib": 0}
    done = threading.Event()

    def sampler() -> None:
        while not done.is_set():
            peak["rss_kib"] = max(peak["rss_kib"], proc_status(server.proc.pid)["VmRSS"])
            done.wait(0.01)

    sampling = threading.Thread(target=sampler)
    if sample_memory:
        sampling.start()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    CHILDREN.append(proc)
    output, _ = proc.communicate()
    CHILDREN.remove(proc)
    done.set()
    if sample_memory:
        sampling.join()
    if proc.returncode != 0:
        sys.exit(f"error: {' '.join(cmd)} failed:\n{output}")
    cpu_after = (cpu_seconds(server.proc.pid), cpu_seconds(emulator.proc.pid), children_cpu())
    result = parse_wrk(output)
    result["command"] = " ".join(shlex.quote(c) for c in cmd)
    result["connections"] = connections
    result["cpu_s"] = {name: after - before for name, before, after in
                       zip(("firegate", "emulator", "wrk"), cpu_before, cpu_after)}
    if sample_memory:
        result["peak_rss_mib"] = peak["rss_kib"] / 1024
    return result


def parse_wrk(output: str) -> dict:
    r: dict = {"raw": output}
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    r["requests"] = int(m.group(1))
    r["seconds"] = parse_duration_ms(m.group(2) + m.group(3)) / 1e3
    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", output, re.M)
        r[f"p{pct}_ms"] = parse_duration_ms(m.group(1))
    m = re.search(r"^\s+Latency\s+(\S+)\s+(\S+)\s+(\S+)", output, re.M)
    r["mean_ms"], r["max_ms"] = parse_duration_ms(m.group(1)), parse_duration_ms(m.group(3))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    r["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    r["socket_errors"] = sum(map(int, m.groups())) if m else 0
    r["ok"] = r["requests"] - r["non2xx"]
    r["ok_per_s"] = r["ok"] / r["seconds"]
    return r


PINNED_LEVELS = (2, 4, 16)


def pinned_throughput(env: dict[str, str], emulator: Emulator, script: Path, seconds: int,
                      workdir: Path) -> dict | None:
    """Throughput with firegate alone on core 0 and the emulator (every JVM thread) and wrk on
    core 1, so firegate's limit is one core / one argon2id verify. firegate sizes its hashing
    pool from its CPU affinity, so it runs one hashing thread here."""
    cores = os.cpu_count() or 1
    if cores < 2 or not shutil.which("taskset"):
        return None
    run(["taskset", "-a", "-p", "-c", "1", str(emulator.proc.pid)])
    try:
        server = Server(env, workdir / "pinned-serve.log", prefix=("taskset", "-c", "0"))
        try:
            out = {}
            for c in PINNED_LEVELS:
                time.sleep(1)
                out[f"c{c}"] = bracketed(
                    lambda: wrk(server, emulator, script, "/login/", c, seconds,
                                prefix=("taskset", "-c", "1")),
                    prefix=("taskset", "-c", "0"))
        finally:
            server.stop()
    finally:
        run(["taskset", "-a", "-p", "-c", f"0-{cores - 1}", str(emulator.proc.pid)])
    return out


def wrk_script(workdir: Path, login: str, password: str) -> Path:
    path = workdir / "login.lua"
    path.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(login_body(login, password).decode())}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
    )
    return path


def server_components(env: dict[str, str], logfile: Path, n: int) -> dict:
    """The parts of a warm login as firegate itself sees them, from the timestamps of its own
    log events over `n` sequential logins: the account read starts when the login-index read
    ends, so the gap between their two "Read document." events is one Firestore read (gRPC);
    the gap from the account read to "sign-in" is the password check plus the signature."""
    server = Server(dict(env, RUST_LOG="info,firestore::db::get=debug,firegate::hashing=debug"),
                    logfile)
    try:
        server.logins(20, 1)
        offset = logfile.stat().st_size
        server.logins(n, 1)
    finally:
        server.stop()
    with open(logfile) as f:
        f.seek(offset)
        lines = f.read().splitlines()
    reads, checks, hops, hashes, after_hash = [], [], [], [], []
    login_read = account_read = hashed = None
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        message, path = entry.get("message"), entry.get("document_path", "")
        if "time" not in entry:
            continue
        t = log_time_ns(entry["time"])
        if message == "Read document." and "/firegate_logins/" in path:
            login_read, account_read = t, None
        elif message == "Read document." and "/firegate_accounts/" in path and login_read:
            account_read = t
            reads.append((t - login_read) / 1e6)
        elif message == "hash done" and account_read:
            hops.append(entry["hop_us"] / 1e3)
            hashes.append(entry["work_us"] / 1e3)
            hashed = t
        elif message == "sign-in" and entry.get("outcome") == "success" and account_read:
            checks.append((t - account_read) / 1e6)
            if hashed:
                after_hash.append((t - hashed) / 1e6)
            login_read = account_read = hashed = None
    if len(reads) < n // 2 or len(checks) < n // 2:
        sys.exit(f"error: cannot find the Firestore read events in {logfile}")
    parts = {"read": summary(reads), "check": summary(checks)}
    if len(hashes) >= n // 2:
        # The check split: the hop onto a hashing thread, the argon2id verify as the hashing
        # thread timed it, and from its end to the sign-in line (settle, signature, logging).
        parts.update(hop=summary(hops), hash=summary(hashes), after_hash=summary(after_hash))
    return parts


# ---------------------------------------------------------------------------------------------
# Signers: a key file against IAM Credentials (a local stand-in with a fixed latency)

SIGNER_LATENCY_MS = 20.0
SIGNER_LOGIN = "bench-signer@example.com"


def signers(emulator: Emulator, keys_dir: Path, workdir: Path, cold_runs: int) -> dict:
    """Cold first login and warm p50 with `--signer key` and `--signer iam`. The account's
    argon2id is cheap (1 MiB, t=1, and the servers hash with the same parameters) so the
    signature is a visible part of a login."""
    sys.path.insert(0, str(Path(__file__).parent))
    from google_standin import StandIn

    standin = StandIn(SIGNER_LATENCY_MS, PROJECT)
    home = workdir / "signer-home"
    home.mkdir(exist_ok=True)
    cheap = {"FIREGATE_ARGON2_MEMORY_KIB": "1024", "FIREGATE_ARGON2_ITERATIONS": "1"}
    base = dict(server_env(emulator, keys_dir), FIREGATE_PROJECT_ID=PROJECT, **cheap)
    cli(base, "accounts", "create", "--login", SIGNER_LOGIN, stdin=ARGON2_PASSWORD + "\n")
    request = http_request("POST", "/login/", login_body(SIGNER_LOGIN, ARGON2_PASSWORD))
    no_keys = workdir / "signer-no-keys"
    no_keys.mkdir(exist_ok=True)
    variants = {
        "key": base,
        "iam": dict(base, FIREGATE_KEYS_DIR=str(no_keys), **standin.env(str(home))),
    }
    out: dict = {"latency_ms": SIGNER_LATENCY_MS}
    try:
        for name, env in variants.items():
            logfile = workdir / f"signer-{name}.log"
            cold_run(env, request, logfile)  # warms the emulator and the page cache
            cold_calls0 = (standin.sign_calls, standin.metadata_calls)
            runs = [cold_run(env, request, logfile) for _ in range(cold_runs)]
            cold_calls = ((standin.sign_calls - cold_calls0[0]) / cold_runs,
                          (standin.metadata_calls - cold_calls0[1]) / cold_runs)
            if any(r["status"] != 200 for r in runs):
                sys.exit(f"error: a cold login with --signer {name} failed; see {logfile}")
            server = Server(env, workdir / f"signer-{name}-warm.log")
            try:
                server.logins(20, 1)
                calls0, meta0 = standin.sign_calls, standin.metadata_calls
                samples, _ = server.timed_logins(200, login_body(SIGNER_LOGIN, ARGON2_PASSWORD))
                time.sleep(2)  # idle: no call may happen meanwhile
                idle_calls = standin.sign_calls
                time.sleep(3)
            finally:
                server.stop()
            out[name] = {
                "cold": summary([r["done_ms"] for r in runs]),
                # Calls that reached the stand-in per cold start (the process is stopped once
                # it has answered): the start-up probe, the login's signature, access tokens.
                "sign_calls_per_cold_start": cold_calls[0],
                "metadata_calls_per_cold_start": cold_calls[1],
                "warm": summary(samples),
                "sign_calls_per_login": (idle_calls - calls0) / 200,
                "metadata_calls_warm": standin.metadata_calls - meta0,
                "calls_while_idle": standin.sign_calls - idle_calls,
            }
    finally:
        standin.stop()
    out["commit"] = commit()
    return out


def signers_added(s: dict) -> tuple[float, float]:
    """What `--signer iam` adds beyond `--signer key` and the stand-in's latency: cold, warm."""
    key, iam, latency = s["key"], s["iam"], s["latency_ms"]
    return (iam["cold"]["median"] - key["cold"]["median"] - latency,
            iam["warm"]["median"] - key["warm"]["median"] - latency)


def signers_summary_rows(s: dict) -> list[tuple[str, ...]]:
    """The IAM signer's rows of the new-paths summary: (path, measured, baseline, calls, added)."""
    key, iam = s["key"], s["iam"]
    cold_added, warm_added = signers_added(s)
    return [
        ("`--signer iam`, warm sign-in p50", f"{iam['warm']['median']:.1f} ms",
         f"{key['warm']['median']:.1f} ms (key file)",
         f"signBlob {iam['sign_calls_per_login']:.2f}", f"{warm_added:+.1f} ms"),
        ("`--signer iam`, exec → first sign-in", f"{iam['cold']['median']:.1f} ms",
         f"{key['cold']['median']:.1f} ms (key file)",
         f"signBlob {iam['sign_calls_per_cold_start']:.2f}, metadata server "
         f"{iam['metadata_calls_per_cold_start']:.2f} (start-up probe included)",
         f"{cold_added:+.1f} ms"),
        ("`--signer iam`, idle 3 s", "—", "—", f"signBlob {iam['calls_while_idle']}", "—"),
    ]


def signers_report(s: dict, command: str) -> str:
    key, iam, latency = s["key"], s["iam"], s["latency_ms"]
    cold_added, warm_added = signers_added(s)
    rows = [
        "| figure | `--signer key` | `--signer iam` | iam − key − latency |",
        "|---|---|---|---|",
        f"| exec → first login (median of {key['cold']['n']}) | {key['cold']['median']:.1f} ms "
        f"| {iam['cold']['median']:.1f} ms | {cold_added:+.1f} ms |",
        f"| warm login p50 (200 sequential) | {key['warm']['median']:.1f} ms "
        f"| {iam['warm']['median']:.1f} ms | {warm_added:+.1f} ms |",
        f"| warm login p90 | {key['warm']['p90']:.1f} ms | {iam['warm']['p90']:.1f} ms | — |",
        f"| signBlob calls per warm login | — | {iam['sign_calls_per_login']:.2f} | — |",
        f"| signBlob / metadata calls per cold start (probe included) | — | "
        f"{iam['sign_calls_per_cold_start']:.2f} / {iam['metadata_calls_per_cold_start']:.2f} | — |",
        f"| metadata calls over 200 warm logins | — | {iam['metadata_calls_warm']} | — |",
        f"| signBlob calls while idle (3 s) | — | {iam['calls_while_idle']} | — |",
    ]
    return "\n".join([
        "# Signers: key file against IAM Credentials",
        "",
        f"Command: `{command}`. Commit {s['commit']}. Generated "
        f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC.",
        "",
        f"IAM Credentials and the metadata server are a local stand-in "
        f"(`scripts/bench/google_standin.py`) that adds {latency:.0f} ms to every `signBlob`; "
        "the account's argon2id is cheap (1 MiB, t=1) so the signature is a visible part of a "
        "login. The last column is what firegate's IAM path costs beyond the stand-in's latency "
        "(it no longer signs locally, which saves one RSA-2048 signature, ~0.8 ms). Cold runs "
        "include the start-up probe (one `signBlob`, concurrent with the first login) and the "
        "first access-token fetch.",
        "",
        *rows,
        "",
    ])


# ---------------------------------------------------------------------------------------------
# Micro-benchmarks and sizes


def cargo_bench(name: str, env_extra: dict[str, str] | None = None, args: tuple[str, ...] = (),
                prefix: tuple[str, ...] = ()) -> str:
    """Runs the compiled `cargo bench --bench NAME` executable (a copy made by bench.sh),
    optionally under `prefix` (e.g. `taskset -c 0`)."""
    env = dict(os.environ, **image_env(), **(env_extra or {}))
    result = subprocess.run([*prefix, str(BIN_DIR / f"bench-{name}"), "--bench", *args], cwd=ROOT,
                            env=env, text=True, capture_output=True)
    if result.returncode != 0:
        sys.exit(f"error: the `{name}` bench failed:\n{result.stderr[-3000:]}")
    return result.stdout


ARGON2ID_CASE = "argon2id m=19456 t=2 p=1"


def bench_median(out: str, label: str) -> float:
    """A case's median in `cargo bench --bench hashes` output; stops the run when it is missing."""
    m = re.search(re.escape(label) + r"\s+median\s+([\d.]+) ms", out)
    if not m:
        sys.exit(f"error: no `{label}` line in cargo bench --bench hashes output:\n{out}")
    return float(m.group(1))


def argon2id_now(prefix: tuple[str, ...] = ()) -> float:
    """One argon2id verify's median time now (`cargo bench --bench hashes -- argon2id`, about
    a second), optionally under `prefix` (e.g. `taskset -c 0`)."""
    return bench_median(cargo_bench("hashes", args=("argon2id",), prefix=prefix), ARGON2ID_CASE)


def bracketed(measure, prefix: tuple[str, ...] = ()):
    """`measure()` with one argon2id verify's time taken just before and just after it: the
    machine's speed drifts over minutes, so a row is compared with the verify of its moment."""
    before = argon2id_now(prefix)
    result = measure()
    after = argon2id_now(prefix)
    result["argon2id_ms"] = {"before": before, "after": after, "mean": (before + after) / 2}
    return result


def hash_times() -> dict:
    out = cargo_bench("hashes")
    times = {}
    for label, key in ((ARGON2ID_CASE, "argon2id_ms"),
                       ("werkzeug pbkdf2:sha256:260000", "werkzeug_ms")):
        times[key] = bench_median(out, label)
    # The first verify of a fresh process, its memory faulted in as it goes: one per process.
    firsts = []
    for _ in range(FIRST_VERIFY_RUNS):
        first = cargo_bench("hashes", args=("first",))
        m = re.search(r"first verify in a fresh process\s+([\d.]+) ms", first)
        if not m:
            sys.exit(f"error: no first-verify line in cargo bench --bench hashes -- first:\n{first}")
        firsts.append(float(m.group(1)))
    times["argon2id_first"] = summary(firsts)
    times["raw"] = out + f"\nargon2id first verify in a fresh process, {len(firsts)} processes: " + \
        ", ".join(f"{v:.1f}" for v in firsts) + " ms\n"
    return times


def python_pbkdf2() -> dict:
    """Python's hashlib.pbkdf2_hmac on the same Werkzeug fixture hash (the issue's peer)."""
    out = run([sys.executable, str(ROOT / "scripts/bench_hashes_python.py")]).stdout
    m = re.search(r"median\s+([\d.]+) ms", out)
    if not m:
        sys.exit(f"error: cannot read scripts/bench_hashes_python.py output:\n{out}")
    return {"ms": float(m.group(1)), "raw": out, "version": platform.python_version()}


def signing(seconds: float) -> dict:
    out = cargo_bench("signing", {"FIREGATE_BENCH_SECONDS": str(seconds)})
    m = re.search(r"^signing: (.*)$", out, re.M)
    values = {k: float(v) for k, v in (kv.split("=") for kv in m.group(1).split())}
    values["raw"] = out
    return values


def openssl_speed(seconds: int) -> dict:
    out = run(["openssl", "speed", "-seconds", str(seconds), "rsa2048"]).stdout
    m = re.search(r"^rsa\s+2048 bits\s+([\d.]+)s\s+([\d.]+)s\s+([\d.]+)\s+([\d.]+)", out, re.M)
    if not m:
        sys.exit(f"error: cannot read `openssl speed rsa2048` output:\n{out}")
    return {"sign_s": float(m.group(1)), "sign_per_s": float(m.group(3)),
            "version": run(["openssl", "version"]).stdout.strip(), "raw": out}


def sizes(binary_path: Path | None = None, packages: list[str] = DISTROLESS_CC_PACKAGES) -> dict:
    """A binary's size and gzipped size, and the image it makes on a distroless base of
    `packages` (estimated, `base_image`)."""
    binary_path = binary_path or BINARY
    binary = binary_path.read_bytes()
    described = run(["file", "-b", str(binary_path)]).stdout.strip() if shutil.which("file") else ""
    linked = subprocess.run(["ldd", str(binary_path)], text=True, capture_output=True).stdout
    out = {"binary_mib": len(binary) / 2**20,
           "binary_gz_mib": len(gzip.compress(binary, 6)) / 2**20,
           "stripped": "not stripped" not in described and "stripped" in described,
           "file": described,
           "dynamic_libs": sorted(set(re.findall(r"^\s*(\S+\.so\S*)", linked, re.M)))}
    out.update(base_image(packages))
    out["image_mib"] = out["base_mib"] + out["binary_mib"]
    out["image_gz_mib"] = out["base_gz_mib"] + out["binary_gz_mib"]
    return out


def base_image(packages: list[str]) -> dict:
    """A distroless base image, rebuilt from the same Debian 12 packages installed on this
    machine: its size and its size as a gzip layer."""
    members, missing = [], []
    for package in packages:
        listed = subprocess.run(["dpkg", "-L", package], text=True, capture_output=True)
        if listed.returncode != 0:
            missing.append(package)
            continue
        members += [p for p in listed.stdout.splitlines()
                    if os.path.isfile(p) or os.path.islink(p)]
    buffer = io.BytesIO()
    raw = 0
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=6) as tar:
        for path in sorted(set(members)):
            tar.add(path, recursive=False)
            if not os.path.islink(path):
                raw += os.path.getsize(path)
    return {"base_mib": raw / 2**20, "base_gz_mib": len(buffer.getvalue()) / 2**20,
            "base_missing": missing}


def summary(samples: list[float]) -> dict:
    s = sorted(samples)
    return {"n": len(s), "min": s[0], "median": statistics.median(s), "max": s[-1],
            "p90": s[min(len(s) - 1, round(0.9 * (len(s) - 1)))]}


# ---------------------------------------------------------------------------------------------
# Machine


def machine() -> dict:
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    family = re.search(r"^cpu family\s*:\s*(\d+)", open("/proc/cpuinfo").read(), re.M)
    model = re.search(r"^model\s*:\s*(\d+)", open("/proc/cpuinfo").read(), re.M)
    mem = re.search(r"MemTotal:\s+(\d+)", open("/proc/meminfo").read())
    virt = ""
    if shutil.which("lscpu"):
        found = re.search(r"^Hypervisor vendor:\s*(\S+)", run(["lscpu"]).stdout, re.M)
        virt = found.group(1) if found else ""
    return {
        "cpu": cpu + (f" (family {family.group(1)}, model {model.group(1)})" if family and model else ""),
        "cores": os.cpu_count(),
        "virt": virt,
        "memory_gib": int(mem.group(1)) / 2**20 if mem else 0,
        "kernel": f"{platform.system()} {platform.release()}",
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit(),
        "rustc": run(["rustc", "-V"]).stdout.strip(),
        "java": subprocess.run(["java", "-version"], text=True, capture_output=True).stderr.splitlines()[0],
        "wrk": subprocess.run(["wrk", "-v"], text=True, capture_output=True).stdout.splitlines()[0].split(" Copyright")[0],
    }


@functools.cache
def commit() -> str:
    """The checkout's commit, as the reports name it: read once, at the run's start, before
    the run writes its own result files into the checkout."""
    head = run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT).stdout.strip()
    dirty = run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT).stdout.strip()
    return head + (" with uncommitted changes" if dirty else "")


def wait_for_idle(limit: float, max_wait: int) -> None:
    if max_wait <= 0:
        return
    deadline = time.monotonic() + max_wait
    while os.getloadavg()[0] > limit and time.monotonic() < deadline:
        log(f"load average {os.getloadavg()[0]:.2f} > {limit}; waiting "
            f"(up to {int(deadline - time.monotonic())} s more)")
        time.sleep(30)


# ---------------------------------------------------------------------------------------------
# Report


def ratio(value: float, peer: float) -> str:
    return f"{value / peer:.2f}×" if peer else "—"


def verdict(ok: bool | None) -> str:
    return {True: "met", False: "**missed**", None: ""}[ok]


def row_argon2id(row: dict, fallback: float) -> float:
    """The argon2id verify time of a row's moment (`bracketed`), else the micro-benchmark's."""
    return row.get("argon2id_ms", {}).get("mean", fallback)


def pinned_rows(r: dict, tput_argon2: float, left: float, ideal_left: float, tput: dict) -> list:
    """Summary rows: the best rate against the CPU the emulator and wrk left firegate, and
    the rate with firegate alone on one core against one core / argon2id time (each with the
    verify time measured around its own row)."""
    rows = [(f"throughput against the CPU left to firegate ({left:.2f} cores)",
             f"{tput['ok_per_s']:.1f} logins/s",
             f"{left:.2f} / {tput_argon2:.1f} ms = {ideal_left:.1f} logins/s",
             ratio(tput["ok_per_s"], ideal_left), "≥ 0.95",
             verdict(tput["ok_per_s"] >= 0.95 * ideal_left))]
    if r.get("pinned"):
        best = max(r["pinned"].values(), key=lambda w: w["ok_per_s"])
        pinned_argon2 = row_argon2id(best, r["hashes"]["argon2id_ms"])
        limit = 1e3 / pinned_argon2
        # Above 1 only when the verify ran faster during the row than around it: firegate's
        # own CPU per sign-in in the row shows it.
        own_cpu = best["cpu_s"]["firegate"] / max(best["ok"], 1) * 1e3
        rows.append((f"throughput, firegate pinned to one core (emulator + wrk on the other; "
                     f"best of concurrency {', '.join(str(c) for c in PINNED_LEVELS)}: "
                     f"{best['connections']})",
                     f"{best['ok_per_s']:.1f} logins/s (firegate CPU {own_cpu:.1f} ms each)",
                     f"1 core / {pinned_argon2:.1f} ms = {limit:.1f} logins/s",
                     ratio(best["ok_per_s"], limit), "≥ 0.95",
                     verdict(best["ok_per_s"] >= 0.95 * limit)))
    return rows


def new_paths(emulator: Emulator, keys_dir: Path, workdir: Path, args) -> dict:
    """The bridge and password reset against an Identity Toolkit stand-in (scripts/bench/paths.py)."""
    import paths  # scripts/bench/paths.py
    return paths.paths(sys.modules[__name__], emulator, keys_dir, workdir, args.cold_runs)


def paths_summary(r: dict) -> str:
    """The new paths in one table (the IAM signer, the bridge, password reset), each against
    its baseline from the same run and with what firegate adds beyond the stand-in's latency;
    the full tables are bench/SIGNERS.md and bench/PATHS.md."""
    import paths  # scripts/bench/paths.py
    rows = signers_summary_rows(r["signers"]) + paths.summary_rows(r["paths"])
    return "\n".join([
        "| path | measured | baseline, same run | calls per request | firegate adds beyond "
        "baseline and stand-in |", "|---|---|---|---|---|",
        *("| " + " | ".join(row) + " |" for row in rows)]) + "\n"


def cost_inputs(r: dict) -> dict:
    """What the cost model takes from this run: firegate's own CPU per warm sign-in (the
    concurrency-1 wrk run's CPU over its requests), its p50, the CPU and time of a cold start
    to the first argon2id sign-in, the peak RSS, and a legacy account's first sign-in: its
    Werkzeug verify (the argon2id rehash replaces the usual verify) and the write of the new
    hash (one more round trip)."""
    c1, first = r["warm"]["c1"], r["cold"]["argon2id"]
    werkzeug_s, read_s = r["hashes"]["werkzeug_ms"] / 1e3, r["components"]["read"]["median"] / 1e3
    return {
        "legacy_extra_cpu_s": werkzeug_s,
        "legacy_extra_wall_s": werkzeug_s + read_s,
        "cpu_s_per_signin": c1["cpu_s"]["firegate"] / max(c1["requests"], 1),
        "wall_s_per_signin": c1["p50_ms"] / 1e3,
        "cold_start_cpu_s": first["cpu_ms"]["median"] / 1e3,
        "cold_start_wall_s": first["done"]["median"] / 1e3,
        "rss_mib_peak": r["memory"]["peak_500_mib"],
        "reads_per_signin": READS_PER_SIGNIN,
        "writes_per_signin": 0,
    }


def cost_section(r: dict) -> str:
    import cost  # scripts/bench/cost.py
    return cost.report(cost.model(cost_inputs(r)))


def peer_section(r: dict) -> str:
    import peers as peer_bench  # scripts/bench/peers.py
    c1 = r["warm"]["c1"]
    fg = dict(r["peers_firegate"])
    fg["note"] = (fg.get("note", "") + f" Once upgraded, the same account signs in like the "
                  f"argon2id account above: warm p50 {c1['p50_ms']:.1f} ms at concurrency 1, "
                  f"{c1['cpu_s']['firegate'] / max(c1['requests'], 1) * 1e3:.1f} ms of CPU per "
                  "login.").strip()
    return peer_bench.report(r["peers"], fg)


def peers_table(r: dict) -> str:
    """firegate and each peer side by side, then firegate's figure over each peer's."""
    fg, c1 = r["peers_firegate"], r["warm"]["c1"]
    peers = list(r["peers"].values())
    names = [p["label"].split(":")[0] for p in peers]
    rows = [("cold start, exec → first sign-in", fg["cold_ms"], [p["cold"]["done"]["median"] for p in peers], "{:,.0f} ms"),
            ("warm sign-in p50 (firegate: a fresh Werkzeug account each time, verified and rehashed)",
             fg["warm_p50_ms"], [p["warm"]["median"] for p in peers], "{:.1f} ms"),
            ("CPU per sign-in", fg["cpu_ms_per_login"], [p["cpu_ms_per_login"] for p in peers], "{:.1f} ms"),
            ("RSS", fg["rss_mib"], [p["rss_mib"] for p in peers], "{:.1f} MiB")]
    out = ["| | firegate | " + " | ".join(names) + " | "
           + " | ".join(f"firegate ÷ {n}" for n in names) + " |",
           "|---|---|" + "---|" * (2 * len(peers))]
    for label, mine, theirs, fmt in rows:
        out.append(f"| {label} | {fmt.format(mine)} | "
                   + " | ".join(fmt.format(v) for v in theirs) + " | "
                   + " | ".join(ratio(mine, v) for v in theirs) + " |")
    upgraded_cpu = c1["cpu_s"]["firegate"] / max(c1["requests"], 1) * 1e3
    out += ["", f"Once upgraded, the account signs in like any argon2id account "
                f"({c1['p50_ms']:.1f} ms, {upgraded_cpu:.1f} ms of CPU)."]
    return "\n".join(out) + "\n"


def report(r: dict, command: str) -> str:
    m, cold, warm, mem, sz = r["machine"], r["cold"], r["warm"], r["memory"], r["sizes"]
    argon2, pbkdf2 = r["hashes"]["argon2id_ms"], r["hashes"]["werkzeug_ms"]
    py_pbkdf2 = r["python_pbkdf2"]["ms"]
    sign, ossl, parts = r["signing"], r["openssl"], r["components"]
    cores = m["cores"]
    read = parts["read"]["median"]
    mint_ms = sign["mint_us_mean"] / 1e3
    ossl_ms = ossl["sign_s"] * 1e3
    c1 = warm["c1"]
    # The warm rows' limits use the verify time measured around each row (`bracketed`).
    c1_argon2 = row_argon2id(c1, argon2)
    components = c1_argon2 + 2 * read + mint_ms
    accept = cold["healthz"]["accept"]["median"]
    first_argon2 = cold["argon2id"]["done"]["median"]
    first_legacy = cold["werkzeug"]["done"]["median"]
    # The limit for the first sign-in: what the process cannot avoid doing.
    first_verify = r["hashes"]["argon2id_first"]["median"]
    first_mint = sign["first_mint_us"] / 1e3
    login_accept = cold["argon2id"]["accept"]["median"]
    first_limit = login_accept + 2 * read + first_verify + first_mint + 10
    levels = [c for c in LOAD_LEVELS(cores) if c >= 2 * cores]
    best = max(levels, key=lambda c: warm[f"c{c}"]["ok_per_s"])
    tput = warm[f"c{best}"]
    tput_argon2 = row_argon2id(tput, argon2)
    ideal = cores / (tput_argon2 / 1e3)
    left = cores - (tput["cpu_s"]["emulator"] + tput["cpu_s"]["wrk"]) / tput["seconds"]
    ideal_left = left / (tput_argon2 / 1e3)
    idle_mb, peak_mb = mem["idle"]["rss_mib"] * 2**20 / 1e6, mem["peak_500_mib"] * 2**20 / 1e6
    rows = [
        ("exec → accepting connections", f"{accept:.1f} ms", "limit 20 ms",
         ratio(accept, 20), "< 1", verdict(accept < 20)),
        ("exec → first login, argon2id account", f"{first_argon2:.1f} ms",
         f"limit 50 ms + one argon2id hash ({argon2:.1f} ms) = {50 + argon2:.1f} ms",
         ratio(first_argon2, 50 + argon2), "< 1", verdict(first_argon2 < 50 + argon2)),
        ("… against exec → accepting + 2 Firestore round trips + a fresh process's first "
         "argon2id verify + its first signature + 10 ms", f"{first_argon2:.1f} ms",
         f"{login_accept:.1f} + 2 × {read:.2f} + {first_verify:.1f} + {first_mint:.2f} + 10 "
         f"= {first_limit:.1f} ms", ratio(first_argon2, first_limit), "≤ 1.0",
         verdict(first_argon2 <= first_limit)),
        ("exec → first login, Werkzeug PBKDF2-260,000 account", f"{first_legacy:.1f} ms",
         f"50 ms + PBKDF2 verify ({pbkdf2:.1f} ms) + argon2id rehash ({argon2:.1f} ms) "
         f"= {50 + pbkdf2 + argon2:.1f} ms", ratio(first_legacy, 50 + pbkdf2 + argon2),
         "none set", ""),
        ("warm login p50, concurrency 1", f"{c1['p50_ms']:.1f} ms",
         f"argon2id {c1_argon2:.1f} (around the row) + 2 × Firestore round trip {read:.2f} + "
         f"signature {mint_ms:.2f} = {components:.1f} ms", ratio(c1["p50_ms"], components), "≤ 1.10",
         verdict(c1["p50_ms"] <= 1.10 * components)),
        (f"throughput (best of concurrency {', '.join(map(str, levels))}: {best})",
         f"{tput['ok_per_s']:.1f} logins/s",
         f"{cores} cores / {tput_argon2:.1f} ms (around the row) = {ideal:.1f} logins/s",
         ratio(tput["ok_per_s"], ideal),
         "≥ 0.90", verdict(tput["ok_per_s"] >= 0.9 * ideal)),
        *pinned_rows(r, tput_argon2, left, ideal_left, tput),
        ("Werkzeug `pbkdf2:sha256:260000` verify", f"{pbkdf2:.1f} ms",
         f"Python {r['python_pbkdf2']['version']} `hashlib.pbkdf2_hmac`: {py_pbkdf2:.1f} ms",
         ratio(pbkdf2, py_pbkdf2), "≤ 0.50", verdict(pbkdf2 <= 0.5 * py_pbkdf2)),
        ("signing, one thread", f"{sign['mint_per_s']:.0f} tokens/s",
         f"`openssl speed rsa2048`: {ossl['sign_per_s']:.0f} signs/s",
         ratio(sign["mint_per_s"], ossl["sign_per_s"]), "≥ 0.90",
         verdict(sign["mint_per_s"] >= 0.9 * ossl["sign_per_s"])),
        ("time to mint one token", f"{sign['mint_us_mean']:.0f} µs",
         f"one OpenSSL RSA-2048 signature: {ossl_ms * 1e3:.0f} µs", ratio(mint_ms, ossl_ms),
         "≤ 1.10", verdict(mint_ms <= 1.1 * ossl_ms)),
        ("RSS idle after start", f"{mem['idle']['rss_mib']:.1f} MiB ({idle_mb:.1f} MB)",
         "limit 20 MB", ratio(idle_mb, 20), "< 1", verdict(idle_mb < 20)),
        ("RSS after 1,000 logins", f"{mem['after_1000']['rss_mib']:.1f} MiB", "", "", "", ""),
        ("peak RSS under 500 concurrent logins",
         f"{mem['peak_500_mib']:.1f} MiB ({peak_mb:.1f} MB)", "limit 100 MB",
         ratio(peak_mb, 100), "< 1", verdict(peak_mb < 100)),
        ("release binary" + (" (stripped)" if sz["stripped"] else ""),
         f"{sz['binary_mib']:.1f} MiB", f"{sz['binary_gz_mib']:.1f} MiB gzipped", "", "", ""),
        ("runtime image, estimated", f"{sz['image_mib']:.1f} MiB, {sz['image_gz_mib']:.1f} MiB compressed",
         f"`distroless/cc-debian12` base ≈ {sz['base_mib']:.1f} MiB, {sz['base_gz_mib']:.1f} MiB compressed",
         "", "", ""),
    ]
    r["summary_rows"] = rows  # the book's summary table (update_book)
    out = ["# firegate benchmark results", "",
           f"Measured {m['date']} with `{command}`. Every figure, and every peer it is compared "
           "with, comes from this one run on this machine; the Firestore emulator shares its "
           "cores. Cold-start figures are medians; MiB = 2²⁰ bytes, MB = 10⁶ bytes.", ""]
    if r["busy"]:
        out += [f"> **Note:** the machine was shared with other work while this ran: other "
                f"processes used {r['others']['cores']:.2f} of its {cores} cores on average "
                f"({r['others']['cpu_s']:.0f} CPU s in {r['others']['wall_s']:.0f} s). CPU-bound "
                "figures are pessimistic, and a figure and its peer may have met different load.", ""]
    out += ["## Machine", "", "| | |", "|---|---|",
            f"| CPU | {m['cpu']}, {cores} cores{', ' + m['virt'] + ' guest' if m['virt'] else ''} |",
            f"| memory | {m['memory_gib']:.0f} GiB |",
            f"| kernel | {m['kernel']} |",
            f"| commit | {m['commit']} |",
            "| environment of firegate and its micro-benchmarks (the Dockerfile's `ENV`) | "
            + (", ".join(f"`{k}={v}`" for k, v in r.get("image_env", {}).items()) or "none")
            + " |",
            f"| tools | {m['rustc']}; {ossl['version'].split(' (')[0]}; {m['java']} (emulator); {m['wrk']} |",
            f"| other processes during the run | {r['others']['cores']:.2f} cores on average "
            f"({r['others']['cpu_s']:.0f} CPU s in {r['others']['wall_s']:.0f} s) |",
            f"| CPU stolen by the hypervisor during the run | {r['steal_s']:.1f} CPU s "
            f"({r['steal_s'] / r['others']['wall_s']:.2f} cores on average) |",
            "| load average (1 min) | " + ", ".join(
                [f"{r['load']['start']:.2f} at start"]
                + [f"{v:.2f} before {k.split(':')[0]}" for k, v in r["load"]["phases"].items()]
                + [f"{r['load']['end']:.2f} at the end"]) + " |",
            "", "## Summary", "",
            "| figure | measured | peer or limit | ratio | target | |",
            "|---|---|---|---|---|---|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]

    timeline = cold["timeline"]
    out += ["", "## Cold start", "",
            f"The emulator first answers {EMULATOR_WARMUP_LOGINS} logins of a warm server "
            f"({EMULATOR_WARMUP_LOGINS * READS_PER_SIGNIN:,} reads, "
            f"{r['emulator_warmup']['seconds']:.1f} s): a fresh emulator, a JVM, answers a read in "
            "5-10 ms until its JIT has warmed, where Firestore is always warm. Then "
            f"{cold['healthz']['accept']['n']} runs of each kind after one uncounted run. The clock "
            "starts just before `fork`+`exec` of `firegate serve` (binary in the page cache, key "
            "file in the keys directory, emulator running); the launcher polls `connect()` every "
            "0.2 ms and sends its request on the first connection that succeeds. Spawning and "
            f"reaping `/bin/true` takes the launcher {r['spawn']['median']:.2f} ms (median), "
            "included in the figures. Each Werkzeug run signs in a different, never-used account. "
            "firegate binds its socket before it loads the keys and opens Firestore, so "
            "\"accepting\" is when a connection first succeeds; a request sent then waits in the "
            "listen backlog until the keys are loaded and the Firestore client exists, then is "
            "served while the recorded key state is read (a sign-in waits for that read only to "
            "sign; `GET /healthz` waits for it, so its response time shows when start-up is "
            "done).", "",
            "| request | exec → accepting: median (min–max) | exec → response: median (min–max) |",
            "|---|---|---|"]
    for kind, label in (("healthz", "`GET /healthz`"), ("argon2id", "login, argon2id account"),
                        ("werkzeug", "login, Werkzeug `pbkdf2:sha256:260000` account")):
        a, d = cold[kind]["accept"], cold[kind]["done"]
        out.append(f"| {label} | {a['median']:.1f} ms ({a['min']:.1f}–{a['max']:.1f}) | "
                   f"{d['median']:.1f} ms ({d['min']:.1f}–{d['max']:.1f}) |")
    out += ["", f"Where the time goes: {TIMELINE_RUNS} more runs of each with "
            "`RUST_LOG=info,firestore::db::get=debug`; the moment each step ended, in ms after exec "
            "(median), from the server's log timestamps and the launcher's clock.", "",
            "| step ended | argon2id account | Werkzeug account |", "|---|---|---|"]
    for key, label in TIMELINE_EVENTS:
        cells = [f"{timeline[k][key]:.1f}" if key in timeline[k] else "—" for k in ("argon2id", "werkzeug")]
        out.append(f"| {label} | {cells[0]} | {cells[1]} |")
    fv = r["hashes"]["argon2id_first"]
    out += ["", "For comparison, measured in this run: one argon2id verify "
            f"{argon2:.1f} ms and one PBKDF2-260,000 verify {pbkdf2:.1f} ms in a warm process, "
            f"the first argon2id verify of a fresh process {fv['median']:.1f} ms "
            f"({fv['min']:.1f}–{fv['max']:.1f}, {fv['n']} processes, "
            "`cargo bench --bench hashes -- first`: its working memory faulted in as it goes); the "
            f"first token a process mints takes {sign['first_mint_us'] / 1e3:.1f} ms, every later "
            f"one {mint_ms:.2f} ms (`cargo bench --bench signing`); a Firestore read from a warm "
            f"server {read:.2f} ms."]

    out += ["", "## Warm logins", "",
            "One `firegate serve` with default settings except `FIREGATE_RATE_LIMIT_PER_MINUTE=0` "
            f"(every request comes from one address); {cores} hashes at once (the default, one "
            "per core) and a hash queue of 64 (default). `wrk` sends logins for one argon2id "
            f"account over keep-alive connections, {warm['c1']['seconds']:.0f} s per row. "
            "\"Saturated\" is the wait implied by hashing alone once every slot is busy: "
            f"concurrency × argon2id time / {cores}. CPU seconds are per row, of "
            f"{cores} × the row's length.", "",
            "| run | p50 | p99 | mean | logins/s | non-2xx | saturated | CPU s: firegate / emulator / wrk |",
            "|---|---|---|---|---|---|---|---|"]
    for key, w in warm.items():
        c = w["connections"]
        label = ("`GET /healthz`, concurrency 1 (bare HTTP round trip)" if key == "healthz"
                 else f"login, concurrency {c}")
        saturated = f"{c * argon2 / cores:.0f} ms" if key != "healthz" and c > cores else ""
        cpu = w["cpu_s"]
        out.append(f"| {label} | {w['p50_ms']:.2f} ms | {w['p99_ms']:.2f} ms | {w['mean_ms']:.2f} ms | "
                   f"{w['ok_per_s']:.1f} | {w['non2xx'] + w['socket_errors']} | {saturated} | "
                   f"{cpu['firegate']:.1f} / {cpu['emulator']:.1f} / {cpu['wrk']:.1f} of {w['seconds'] * cores:.0f} |")
    per_login = {k: v / max(tput["ok"], 1) * 1e3 for k, v in tput["cpu_s"].items()}
    out += ["", "Components, measured in the same run:", "",
            f"- argon2id (m=19456, t=2, p=1) verify: **{argon2:.2f} ms** median, one thread "
            "(`cargo bench --bench hashes`, with the micro-benchmarks); around each warm row "
            "(`cargo bench --bench hashes -- argon2id` just before and just after it, their "
            "mean is the row's limit, as the machine's speed drifts over minutes): "
            + ", ".join(f"concurrency {w['connections']} {w['argon2id_ms']['before']:.1f} / "
                        f"{w['argon2id_ms']['after']:.1f} ms" for w in warm.values()
                        if "argon2id_ms" in w)
            + (", pinned (on core 0) " + ", ".join(
                f"concurrency {w['connections']} {w['argon2id_ms']['before']:.1f} / "
                f"{w['argon2id_ms']['after']:.1f} ms" for w in r["pinned"].values()
                if "argon2id_ms" in w) if r.get("pinned") else "") + ".",
            f"- Firestore round trip: **{read:.2f} ms** median (p90 {parts['read']['p90']:.2f}) — "
            "`GetDocument` over gRPC as firegate makes it: the gap between the login-index read's "
            "log event and the account read's (made together with the failure-record read), over "
            "200 sequential logins. A sign-in makes two round trips. Over the emulator's REST API "
            f"from Python a read takes {r['firestore_rest']['median']:.2f} ms.",
            f"- signature: **{mint_ms:.2f} ms** per token (`TokenSigner::mint`; the bare aws-lc-rs "
            f"RSA-2048 sign takes {sign['raw_sign_us_mean'] / 1e3:.2f} ms).",
            f"- inside the server, the account read's end to `sign-in` (password check on the "
            f"blocking pool plus signature) takes {parts['check']['median']:.2f} ms median"
            + (f": {parts['hop']['median']:.2f} ms from the hand-off to a hashing thread "
               f"starting it, the argon2id verify as that thread timed it "
               f"{parts['hash']['median']:.2f} ms (p90 {parts['hash']['p90']:.2f}; "
               f"`cargo bench`: {argon2:.2f} ms), and {parts['after_hash']['median']:.2f} ms "
               "from its end to the `sign-in` line (signature included)." if "hash" in parts
               else "."),
            f"- the sum, with the verify time around the row ({c1_argon2:.2f} ms), is "
            f"{components:.2f} ms; the login p50 at concurrency 1 is "
            f"{c1['p50_ms']:.2f} ms ({c1['p50_ms'] - components:+.2f} ms); a bare HTTP round trip "
            f"takes {warm['healthz']['p50_ms']:.2f} ms.",
            f"- at concurrency {best} each login cost {per_login['firegate']:.1f} ms of firegate "
            f"CPU (argon2id around the row: {tput_argon2:.1f} ms) and {per_login['emulator']:.1f} "
            f"ms of emulator CPU. The emulator and wrk left firegate {left:.2f} of the {cores} "
            f"cores: with that share, the ideal is {ideal_left:.1f} logins/s and the measured "
            f"rate is {ratio(tput['ok_per_s'], ideal_left)} of it."]

    c500 = mem["c500"]
    out += ["", "## Memory", "",
            "`VmRSS` and `VmHWM` (peak) from `/proc/PID/status` of the server above.", "",
            "| when | RSS | peak so far (VmHWM) |", "|---|---|---|",
            f"| idle, 1 s after start | {mem['idle']['rss_mib']:.1f} MiB | {mem['idle']['hwm_mib']:.1f} MiB |",
            f"| after 1,000 logins (4 clients, {mem['logins_1000']['seconds']:.1f} s) | "
            f"{mem['after_1000']['rss_mib']:.1f} MiB | {mem['after_1000']['hwm_mib']:.1f} MiB |",
            f"| after the latency runs | {mem['after_load']['rss_mib']:.1f} MiB | {mem['after_load']['hwm_mib']:.1f} MiB |",
            f"| during 500 concurrent logins (sampled every 10 ms) | {mem['peak_500_mib']:.1f} MiB at most | {mem['after_500']['hwm_mib']:.1f} MiB |",
            f"| 2 s after them | {mem['after_500']['rss_mib']:.1f} MiB | |",
            "",
            f"500 concurrent logins: `wrk -c 500` kept 500 login requests in flight for "
            f"{c500['seconds']:.0f} s. {c500['ok']} succeeded ({c500['ok_per_s']:.1f}/s), "
            f"{c500['non2xx']} were shed with `503` at admission (every hashing slot and queue place taken), {c500['socket_errors']} "
            f"socket errors. CPU s: firegate {c500['cpu_s']['firegate']:.1f}, emulator "
            f"{c500['cpu_s']['emulator']:.1f}, wrk {c500['cpu_s']['wrk']:.1f}."]
    out += ["", "## Sizes", "",
            f"- `target/release/firegate`: {sz['binary_mib']:.2f} MiB, "
            f"{'stripped' if sz['stripped'] else 'not stripped'}; links "
            f"{', '.join(l for l in sz['dynamic_libs'] if 'vdso' not in l)}.",
            "- Runtime image: the Dockerfile copies the binary onto "
            "`gcr.io/distroless/cc-debian12:nonroot`, which holds the Debian 12 packages "
            f"{', '.join(DISTROLESS_CC_PACKAGES)} (distroless's build files `base/config.bzl`, "
            "`cc/config.bzl`, `base/base.bzl`). No Docker here, so the base is estimated from the "
            "files of the same packages installed on this machine: "
            f"{sz['base_mib']:.1f} MiB, {sz['base_gz_mib']:.1f} MiB as a gzip layer (distroless "
            "ships only the CA bundle of `ca-certificates`, so it is slightly smaller). Image ≈ "
            f"base + binary = {sz['image_mib']:.1f} MiB, {sz['image_gz_mib']:.1f} MiB compressed "
            "(what a registry stores and Cloud Run pulls)."
            + (f" Not installed here, so not counted: {', '.join(sz['base_missing'])}." if sz["base_missing"] else "")]
    if "peers" in r:
        out += ["", peer_section(r).rstrip()]
    if "paths" in r and "signers" in r:
        out += ["", "## New paths", "",
                "The IAM signer, the Firebase Auth bridge and password reset, each against a "
                "local stand-in adding a fixed latency per call (`scripts/bench/google_standin.py`; "
                "there is no Google emulator for IAM Credentials or Identity Toolkit) and a "
                "baseline server measured alongside; the last column is the path's median less "
                "the baseline's less the stand-in's latency per call. Full tables and method: "
                "[`SIGNERS.md`](SIGNERS.md), [`PATHS.md`](PATHS.md), same run.", "",
                paths_summary(r).rstrip()]
    if r.get("image"):
        import image  # scripts/bench/image.py
        out += ["", image.report(r["image"]).rstrip()]
    out += ["", cost_section(r).rstrip()]
    out += ["", "## Raw output", "", "`cargo bench --bench signing`:", "", "```", sign["raw"].strip(), "```", "",
            f"`openssl speed -seconds {r['openssl_seconds']} rsa2048` ({ossl['version']}):", "", "```",
            next(l for l in ossl["raw"].splitlines() if "sign/s" in l),
            next(l for l in ossl["raw"].splitlines() if l.startswith("rsa")), "```", "",
            "`cargo bench --bench hashes`:", "", "```", r["hashes"]["raw"].strip(), "```", "",
            "`python3 scripts/bench_hashes_python.py`:", "", "```",
            r["python_pbkdf2"]["raw"].strip(), "```", ""]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------


# The book's benchmarks page; README.md is never rewritten.
BOOK_PAGE = ROOT / "docs/src/benchmarks.md"


def update_book(r: dict, path: Path = BOOK_PAGE) -> None:
    """Rewrites the benchmark and cost tables of the book's benchmarks page (between their
    `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` markers) from this run, with the commit
    they came from."""
    import cost  # scripts/bench/cost.py
    m = r["machine"]
    summary = [f"Measured {m['date']} at commit {m['commit']} by `scripts/bench.sh` "
               f"({m['cores']} cores, {m['cpu']}; every figure and its peer or limit from that "
               "one run; method and the rest in [`bench/RESULTS.md`](bench/RESULTS.md)):", "",
               "| figure | measured | peer or limit | ratio | target | |",
               "|---|---|---|---|---|---|",
               *("| " + " | ".join(row) + " |" for row in r["summary_rows"])]
    same_run = f"From the same run (commit {m['commit']}):\n\n"
    import image  # scripts/bench/image.py
    blocks = {"summary": "\n".join(summary) + "\n",
              "image": same_run + (image.table(r["image"]) if r.get("image") else
                                   "Not measured in this run (`--no-musl`, or the static musl "
                                   "build failed; see its log).\n"),
              "peers": same_run + peers_table(r),
              "paths": same_run + paths_summary(r),
              "cost": same_run + cost.summary_table(cost.model(cost_inputs(r)))}
    text = path.read_text()
    for name, block in blocks.items():
        start, end = f"<!-- bench:{name} -->\n", f"<!-- /bench:{name} -->"
        before, found, rest = text.partition(start)
        _, found_end, after = rest.partition(end)
        if not found or not found_end:
            sys.exit(f"error: {path} lacks the `{start.strip()}` … `{end}` markers around its "
                     f"{name} table; put them back to let the benchmark rewrite it")
        text = before + start + block + end + after
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cold-runs", type=int, default=11)
    parser.add_argument("--seconds", type=int, default=15, help="length of each wrk run")
    parser.add_argument("--wait-idle", type=int, default=0, metavar="SECS",
                        help="wait up to SECS for the 1-minute load average to drop below 0.5 × cores")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--bin", type=Path, required=True,
                        help="directory with firegate, bench-hashes and bench-signing")
    parser.add_argument("--pidfile", type=Path, help="where to write the emulator's pid")
    parser.add_argument("--command", default="scripts/bench.sh")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--book-page", type=Path, default=BOOK_PAGE,
                        help="whose benchmark and cost tables to rewrite "
                             "(default docs/src/benchmarks.md)")
    parser.add_argument("--no-musl", action="store_true",
                        help="build no static musl binary: leave out the image comparison "
                             "(read by scripts/bench.sh)")
    parser.add_argument("--no-book", action="store_true",
                        help="leave the book's tables alone (a trial run)")
    parser.add_argument("--only", choices=["signers", "paths"],
                        help="run one part alone (signers: key file against IAM, bench/SIGNERS.md; "
                             "paths: the Firebase Auth bridge and password reset, bench/PATHS.md)")
    args = parser.parse_args()
    commit()  # before the run writes its result files into the checkout

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    global BIN_DIR, BINARY
    BIN_DIR, BINARY = args.bin.resolve(), args.bin.resolve() / "firegate"
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="firegate-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    log(f"work directory {workdir}")
    cores = os.cpu_count() or 1
    wait_for_idle(0.5 * cores, args.wait_idle)
    r: dict = {"machine": machine(), "load": {"start": os.getloadavg()[0]},
               "openssl_seconds": 5, "image_env": image_env()}
    started = (time.monotonic(), machine_busy_seconds(), own_seconds(), steal_seconds())
    emulator = None

    def phase(name: str) -> None:
        load = os.getloadavg()[0]
        r["load"].setdefault("phases", {})[name] = load
        log(f"{name} (load average {load:.2f})")

    if args.only:
        try:
            emulator = Emulator(workdir, args.pidfile)
            keys_dir = workdir / "keys"
            write_key(keys_dir)
            if args.only == "signers":
                phase("signers: key file against IAM Credentials (stand-in)")
                output, text = SIGNERS, signers_report(
                    signers(emulator, keys_dir, workdir, args.cold_runs), args.command)
            else:
                phase("paths: the Firebase Auth bridge and password reset (stand-in)")
                import paths  # scripts/bench/paths.py
                output, text = PATHS, paths.paths_report(
                    new_paths(emulator, keys_dir, workdir, args), args.command)
        finally:
            stop_all()
            if emulator:
                emulator.log.close()
        output.write_text(text)
        print(text)
        return

    try:
        phase("micro-benchmarks: hashes, signing, openssl speed")
        r["hashes"] = hash_times()
        r["python_pbkdf2"] = python_pbkdf2()
        r["signing"] = signing(3)
        r["openssl"] = openssl_speed(r["openssl_seconds"])
        r["sizes"] = sizes()
        r["spawn"] = spawn_overhead(21)

        phase("starting the Firestore emulator")
        emulator = Emulator(workdir, args.pidfile)
        keys_dir = workdir / "keys"
        write_key(keys_dir)
        env = server_env(emulator, keys_dir)
        log("seeding accounts")
        cli(env, "accounts", "create", "--login", ARGON2_LOGIN, "--login", "benchargon2",
            "--uid", "bench-argon2", stdin=ARGON2_PASSWORD + "\n")
        werkzeug_users = [f"legacy{i:03d}" for i in range(args.cold_runs + 1 + TIMELINE_RUNS)]
        seed_werkzeug(emulator, werkzeug_users)
        shown = json.loads(cli(env, "accounts", "show", "--login", werkzeug_users[0]))
        if "werkzeug-pbkdf2-sha256" not in json.dumps(shown):
            sys.exit(f"error: the seeded Werkzeug account reads back as {shown}")
        docs = emulator.docs_path()
        r["firestore_rest"] = emulator.read_latency(
            [f"{docs}/firegate_logins/benchargon2", f"{docs}/firegate_accounts/bench-argon2"])

        log(f"warming the emulator: {EMULATOR_WARMUP_LOGINS} logins from a warm server")
        r["emulator_warmup"] = warm_emulator(env, workdir)
        phase(f"cold starts: {args.cold_runs} counted runs each of healthz, argon2id, Werkzeug")
        r["cold"] = cold_starts(env, args.cold_runs, werkzeug_users, workdir)

        phase("warm server: memory, latency, throughput")
        server = Server(env, workdir / "warm-serve.log")
        time.sleep(1)
        mem = {"idle": server.memory()}
        mem["logins_1000"] = server.logins(1000, 4)
        if mem["logins_1000"]["statuses"] != {200: 1000}:
            sys.exit(f"error: 1,000 logins answered {mem['logins_1000']['statuses']}")
        mem["after_1000"] = server.memory()
        script = wrk_script(workdir, ARGON2_LOGIN, ARGON2_PASSWORD)
        warm = {"healthz": wrk(server, emulator, None, "/healthz", 1, 5)}
        for c in LOAD_LEVELS(cores):
            time.sleep(1)
            warm[f"c{c}"] = bracketed(
                lambda: wrk(server, emulator, script, "/login/", c, args.seconds))
        mem["after_load"] = server.memory()
        time.sleep(1)
        mem["c500"] = wrk(server, emulator, script, "/login/", 500, 10, sample_memory=True)
        mem["peak_500_mib"] = mem["c500"]["peak_rss_mib"]
        time.sleep(2)
        mem["after_500"] = server.memory()
        server.stop()
        r["warm"], r["memory"] = warm, mem

        phase("throughput with firegate pinned to core 0, the emulator and wrk to core 1")
        r["pinned"] = pinned_throughput(env, emulator, script, args.seconds, workdir)

        phase("warm login components as firegate sees them")
        r["components"] = server_components(env, workdir / "components-serve.log", 200)

        phase("signers: key file against IAM Credentials (stand-in)")
        r["signers"] = signers(emulator, keys_dir, workdir, args.cold_runs)
        SIGNERS.write_text(signers_report(r["signers"], args.command))

        phase("paths: the Firebase Auth bridge and password reset (stand-in)")
        r["paths"] = new_paths(emulator, keys_dir, workdir, args)
        import paths  # scripts/bench/paths.py
        PATHS.write_text(paths.paths_report(r["paths"], args.command))

        phase("peers: FastAPI + firebase_admin, Node + firebase-admin, firegate on Werkzeug accounts")
        import peers as peer_bench  # scripts/bench/peers.py
        installed = peer_bench.install(workdir)
        seed_werkzeug(emulator, [PEER_LOGIN])
        r["peers"] = peer_bench.measure(env, keys_dir / "bench.json", PEER_LOGIN, LEGACY_PASSWORD,
                                        args.cold_runs, PEER_WARM_LOGINS, workdir, installed)
        r["peers_firegate"] = peer_bench.firegate_werkzeug(
            sys.modules[__name__], emulator, keys_dir, args.cold_runs, PEER_WARM_LOGINS, workdir)

        if not args.no_musl and (BIN_DIR / "firegate-musl").exists():
            phase("image: the glibc binary against a static musl build, alternated")
            import image  # scripts/bench/image.py
            r["image"] = image.measure(sys.modules[__name__], env, workdir, args.cold_runs)
        else:
            r["image"] = None
            log("image: no static musl build (scripts/bench.sh --no-musl, or it could not be "
                "built): the glibc/musl comparison is left out")
    finally:
        stop_all()
        if emulator:
            emulator.log.close()
    r["load"]["end"] = os.getloadavg()[0]
    wall = time.monotonic() - started[0]
    other = (machine_busy_seconds() - started[1]) - (own_seconds() - started[2])
    r["others"] = {"wall_s": wall, "cpu_s": max(other, 0.0), "cores": max(other, 0.0) / wall}
    r["steal_s"] = steal_seconds() - started[3]
    r["load"]["max"] = max([r["load"]["start"], r["load"]["end"], *r["load"]["phases"].values()])
    r["busy"] = r["others"]["cores"] > 0.1 * cores
    (workdir / "results.json").write_text(json.dumps(r, indent=2, default=str))
    text = report(r, args.command)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(text)
    if not args.no_book:
        update_book(r, args.book_page)
        log(f"rewrote the benchmark and cost tables of {args.book_page}")
    log(f"wrote {args.output}; raw results and logs in {workdir}")


if __name__ == "__main__":
    try:
        main()
    finally:
        stop_all()
