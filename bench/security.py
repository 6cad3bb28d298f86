"""`bench/run.py security`: the figures of bench/SECURITY.md, measured on release `firegate serve`
processes and one emulator with the driver's helpers; a function a figure, named as in MEASURES.

    bench/run.py security                    # builds --release, rewrites bench/SECURITY.md
    bench/run.py security --only idle,heads  # prints those rows, writes nothing
"""

import argparse, asyncio, base64, http.client, json, os, platform, socket, statistics, subprocess, tempfile
import threading, time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

from run import (ROOT, Server, cpu_model, cpu_seconds, emulator, firegate, free_port, log, login_body, memory,
                 raw_post, release_build, setup, stop)

BIN = str(ROOT / "target/release/firegate")


@contextmanager
def serve(env, *flags, account=None):
    """A server with `flags`, logging JSON for `entries`; `account` is created first ("right password")."""
    if account:
        firegate(BIN, env, "accounts", "create", "--login", account, stdin="right password\n")
    with tempfile.NamedTemporaryFile("w+", prefix="firegate-security-", suffix=".log") as log_file:
        server = Server([BIN], {**env, "FIREGATE_LOG_FORMAT": "json", "RUST_LOG": "info"}, *flags, stderr=log_file)
        server.log_file = log_file
        try:
            yield server
        finally:
            stop(server.proc)


def entries(server, **fields):
    """The server's JSON log entries having `fields`."""
    lines = Path(server.log_file.name).read_text().splitlines()
    found = [json.loads(line) for line in lines if line.startswith("{")]
    return [e for e in found if all(e.get(k) == v for k, v in fields.items())]


def sign_in(server, login, password, client=None):
    """One sign-in on a connection of its own (from `client`, an X-Forwarded-For): status, seconds."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    t = time.perf_counter()
    status, _ = server.post(login_body(login, password), conn, {"X-Forwarded-For": client} if client else {})
    conn.close()
    return status, time.perf_counter() - t


def healthz(server, timeout):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    conn.request("GET", "/healthz")
    return conn.getresponse().status


async def exchange(port, request, timeout=30):
    """`request` on a connection of its own: the answer's status, 0 if none came within `timeout`."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    try:
        return int((await asyncio.wait_for(reader.read(), timeout)).split(b" ")[1])
    except asyncio.TimeoutError:
        return 0
    finally:
        writer.close()


def lockout(ctx):
    """Failures until the right password is refused, under the default policy."""
    failures = 0
    with serve(ctx.env, account="lock@example.com") as server:
        while sign_in(server, "lock@example.com", "right password")[0] == 200 and failures < 50:
            firegate(BIN, ctx.env, "accounts", "unlock", "--login", "lock@example.com")
            failures += 1
            for _ in range(failures):
                sign_in(server, "lock@example.com", "wrong")
    return [("failures until the right password is refused (default policy)", f"{failures}", "5 configured")]


def timing(ctx):
    """Median failed sign-in of an unknown login and of a wrong password, with the failure floor and without."""
    rows = []
    firegate(BIN, ctx.env, "accounts", "create", "--login", "known@example.com", stdin="right password\n")
    for floor in ("500", "0"):
        with serve(ctx.env, "--lockout-threshold", "0", "--failure-floor-ms", floor) as server:
            pairs = [(sign_in(server, "nobody@example.com", "wrong password")[1],
                      sign_in(server, "known@example.com", "wrong password")[1]) for _ in range(25)]
        mu, mw = (statistics.median(column) for column in zip(*pairs))
        rows.append((f"median failed sign-in, floor {floor} ms: unknown login / wrong password",
                     f"{mu * 1e3:.1f} ms / {mw * 1e3:.1f} ms (difference {abs(mu - mw) / mw * 100:.1f}%)", "< 5%"))
    return rows


def memory_figures(ctx):
    """RSS at idle, and its peak under 500 sign-ins sent at once."""
    async def flood(port):
        return await asyncio.gather(*(exchange(port, raw_post(login_body(f"user{i}@example.com", "guess")))
                                      for i in range(500)))
    with serve(ctx.env, "--lockout-threshold", "0") as server:
        idle_rss = memory(server.proc.pid)["VmRSS"]
        statuses = asyncio.run(flood(server.port))
        peak = memory(server.proc.pid)["VmHWM"]
    return [("RSS idle", f"{idle_rss:.1f} MB", "< 20 MB"),
            ("RSS peak under 500 concurrent logins",
             f"{peak:.1f} MB ({statuses.count(503)} shed with 503, {statuses.count(400)} answered)", "< 100 MB")]


def outage(ctx):
    """A sign-in while Firestore is down, and the time until sign-ins succeed once it is back."""
    with serve(ctx.env, account="up@example.com") as server:
        stop(ctx.emulator)
        status, took = sign_in(server, "up@example.com", "right password")
        ctx.emulator = emulator(BIN, ctx.emulator_port)[0]
        started = time.perf_counter()
        # The account went with the emulator's memory.
        firegate(BIN, ctx.env, "accounts", "create", "--login", "up@example.com", stdin="right password\n")
        while sign_in(server, "up@example.com", "right password")[0] != 200:
            time.sleep(0.1)
    return [("a sign-in while Firestore is down", f"{status} after {took * 1e3:.0f} ms", "503, quickly"),
            ("sign-ins succeed again after Firestore returns (no restart)",
             f"{time.perf_counter() - started:.1f} s", "recovers")]


# The costliest stored hash of each family the default ceilings admit (`cargo bench --bench hashes
# -- ceilings` times the same in-process), as (label, dialect, hash).
COSTLIEST = [
    ("argon2id m=131072 KiB t=4", "phc", "$argon2id$v=19$m=131072,t=4,p=1$" + "A" * 22 + "$" + "A" * 43),
    ("argon2id m=8192 KiB t=64", "phc", "$argon2id$v=19$m=8192,t=64,p=1$" + "A" * 22 + "$" + "A" * 43),
    ("bcrypt cost 14", "phc", "$2b$14$" + "." * 53),
    ("wordpress $wp$ bcrypt cost 14", "php", "$wp$2y$14$" + "." * 53),
    ("sha512-crypt rounds=2000000", "phc", "$6$rounds=2000000$saltsaltsaltsalt$" + "." * 86),
    ("sha256-crypt rounds=2000000", "phc", "$5$rounds=2000000$saltsaltsaltsalt$" + "." * 43),
    ("phpass $P$ count=2^21", "php", "$P$Jsaltsalt" + "." * 22),
    ("drupal $S$ count=2^20", "drupal", "$S$Isaltsalt" + "." * 43),
    ("md5-crypt", "phc", "$1$saltsalt$" + "." * 22),
    ("scrypt N=2^20 r=1 p=1 (128 MiB)", "werkzeug", "scrypt:1048576:1:1$saltsalt$" + "00" * 64),
    ("pbkdf2-sha256 rounds=6000000", "werkzeug", "pbkdf2:sha256:6000000$saltsalt$" + "00" * 32),
    ("pbkdf2-sha3_512 rounds=428571", "werkzeug", "pbkdf2:sha3_512:428571$saltsalt$" + "00" * 64),
    ("pbkdf2-blake2b rounds=857142", "werkzeug", "pbkdf2:blake2b:857142$saltsalt$" + "00" * 64),
    ("pbkdf2-sha512 rounds=1000000", "werkzeug", "pbkdf2:sha512:1000000$saltsalt$" + "00" * 64),
]


def cost(ctx):
    """Wrong passwords of 8, 128 (what every admitted hash must check), 256 and 4,096 bytes (the
    longest accepted) against each costliest hash: the server's CPU for the worst, then peak RSS."""
    for i, (label, dialect, stored) in enumerate(COSTLIEST):
        row = ctx.work / f"cost{i}.jsonl"
        row.write_text(json.dumps({"id": f"cost{i}", "username": f"cost{i}", "password": stored}) + "\n")
        firegate(BIN, ctx.env, "import", str(row), "--format", "jsonl", "--dialect", dialect)
    worst = (0.0, "")
    with serve(ctx.env, "--lockout-threshold", "0") as server:
        for i, (label, _, _) in enumerate(COSTLIEST):
            costs = []
            for length in (8, 128, 256, 4096):
                before = cpu_seconds(server.proc.pid)
                sign_in(server, f"cost{i}", "w" * length)
                cpu = cpu_seconds(server.proc.pid) - before
                costs.append(f"{length} B {cpu:.2f}")
                worst = max(worst, (cpu, f"{label}, {length}-byte password"))
            log(f"{label}: CPU-s by password length: {', '.join(costs)}")
        peak = memory(server.proc.pid)["VmHWM"]
    return [("worst CPU one unauthenticated sign-in can force (default ceilings; every family × "
             "passwords of 8, 128, 256 and 4,096 bytes)", f"{worst[0]:.2f} CPU-s ({worst[1]}); peak RSS {peak:.0f} MB",
             "≤ 1.5 CPU-s, fits 256 MiB")]


def admin(ctx):
    """32 clients sending wrong admin credentials for 10 s: the checks a second, from the server's
    log (one failed admin-login entry per checked guess)."""
    env = {**ctx.env, "FIREGATE_ADMIN_PASSWORD_HASH":
           firegate(BIN, ctx.env, "admin", "hash-password", stdin="admin secret\n").strip()}
    request = (b"GET /admin/api/keys HTTP/1.1\r\nHost: x\r\nAuthorization: Basic "
               + base64.b64encode(b"admin:wrong guess") + b"\r\nConnection: close\r\n\r\n")

    async def guesses(port, hang_up):
        statuses, deadline = [], time.monotonic() + 10

        async def client():
            while time.monotonic() < deadline:
                statuses.append(await exchange(port, request, hang_up))
        await asyncio.gather(*(client() for _ in range(32)))
        return statuses
    rows = []
    for label, flags, hang_up in (("32 clients", ["--lockout-threshold", "0"], 30),
                                  ("32 clients hanging up after 80 ms", ["--lockout-threshold", "0"], 0.08),
                                  ("32 clients, default lockout", [], 30)):
        with serve(env, *flags) as server:
            statuses = asyncio.run(guesses(server.port, hang_up))
            time.sleep(2.5)  # requests still waiting for their check when the clients stopped
            times = sorted(datetime.fromisoformat(e["time"].replace("Z", "+00:00")).timestamp()
                           for e in entries(server, action="admin-login", outcome="failure"))
        rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
        rows.append((f"admin guesses checked per second, {label} (floor 500 ms)",
                     f"{rate:.2f}/s ({len(times)} checked; {statuses.count(401)} answered 401, "
                     f"{statuses.count(503)} 503, {statuses.count(429)} 429 locked)", "≤ 2/s (1 per floor)"))
    return rows


def burst(ctx):
    """64 wrong guesses held back by one byte and released together, on a fresh account and again
    when its lock expires; the checked guesses are the sign-in log's."""
    step, request = 5, raw_post(login_body("burst@example.com", "wrong"))

    async def held_back(port):
        streams = [await asyncio.open_connection("127.0.0.1", port) for _ in range(64)]
        for _, writer in streams:
            writer.write(request[:-1])
            await writer.drain()
        return streams

    async def release(streams):
        for _, writer in streams:
            writer.write(request[-1:])
        return [int((await reader.read()).split(b" ")[1]) for reader, _ in streams]

    async def two_bursts(server):
        checked = lambda: len(entries(server, message="sign-in", outcome="failure", reason="wrong_password"))  # noqa: E731
        statuses = await release(await held_back(server.port))
        await asyncio.sleep(0.5)
        first, streams = checked(), await held_back(server.port)
        await asyncio.sleep(step + 0.5)
        statuses += await release(streams)
        await asyncio.sleep(0.5)
        return statuses, first, checked() - first
    with serve(ctx.env, "--lockout-step-secs", str(step), account="burst@example.com") as server:
        statuses, first, second = asyncio.run(two_bursts(server))
    return [("guesses checked per lock window, 64 held-back wrong guesses released together "
             "(fresh account / when the lock expires; threshold 5)",
             f"{first} / {second} ({statuses.count(400)} of {len(statuses)} answered 400)", "≤ 5 / 1")]


def victim(ctx):
    """An attacker guessing about once a second for 60 s from one network, while the owner signs in
    every 1.5 s from the network they signed in from before and from a new device's network."""
    home, phone, attacker = "198.51.100.7", "192.0.2.44", "203.0.113.66"
    results, login = {home: [], phone: []}, "victim@example.com"
    with serve(ctx.env, "--trusted-proxy-hops", "1", account=login) as server:
        assert sign_in(server, login, "right password", home)[0] == 200
        end = time.monotonic() + 60

        def attack():
            while time.monotonic() < end:
                sign_in(server, login, "guess", attacker)
                time.sleep(1.0)
        thread = threading.Thread(target=attack)
        thread.start()
        time.sleep(6)  # the lock is in place
        while time.monotonic() < end:
            for network in (home, phone):
                results[network].append(sign_in(server, login, "right password", network)[0])
            time.sleep(1.5)
        thread.join()
    ok = lambda network: f"{results[network].count(200)}/{len(results[network])}"  # noqa: E731
    return [("owner's correct sign-ins that succeed while an attacker guesses ~1/s for 60 s: "
             "from a familiar network / from a new one", f"{ok(home)} / {ok(phone)}", "familiar: all")]


def idle(ctx):
    """--max-connections connections that send nothing: does /healthz answer, and when are they closed?"""
    limit, header_timeout, closed = 50, 10, []
    with serve(ctx.env, "--max-connections", str(limit), "--header-timeout-secs", str(header_timeout)) as server:
        sockets = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(limit)]
        opened = time.monotonic()
        try:
            answer = f"{healthz(server, 20)} after {time.monotonic() - opened:.1f} s"
        except OSError:
            answer = f"no answer within {time.monotonic() - opened:.0f} s"
        for s in sockets:
            s.settimeout(max(0.1, opened + 40 - time.monotonic()))
            try:
                s.recv(1)
                closed.append(time.monotonic() - opened)
            except OSError:
                pass
            s.close()
    held = f"{max(closed):.1f} s" if len(closed) == limit else f"{limit - len(closed)} still open after 40 s"
    return [(f"{limit} idle connections (= --max-connections): /healthz; longest an idle connection is held",
             f"{answer}; {held}", f"answers; ≤ {header_timeout} s (header timeout)")]


def heads(ctx):
    """1,000 connections (the default --max-connections) each sending 400 KB of header lines and
    never the blank line: peak RSS while they send, RSS once the 10 s header timeout has passed."""
    connections, size = 1000, 400 * 1024
    line = b"X-Filler: " + b"a" * 8000 + b"\r\n"
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + line * (size // len(line))

    async def client(port, barrier):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(head)
            await writer.drain()
        except OSError:
            pass  # answered 431 and closed before the whole head was written
        await barrier.wait()
        await asyncio.sleep(1)  # the server's last reads
        try:
            data = await asyncio.wait_for(reader.read(64), 0.5)
            return data[9:12].decode() if data.startswith(b"HTTP/1.1 ") else "closed"
        except asyncio.TimeoutError:
            return "open"
        except OSError:
            return "closed"
        finally:
            writer.close()

    async def attack(port):
        barrier = asyncio.Barrier(connections)
        return await asyncio.gather(*(client(port, barrier) for _ in range(connections)))
    with serve(ctx.env) as server:
        idle_rss, started = memory(server.proc.pid)["VmRSS"], time.monotonic()
        outcomes = asyncio.run(attack(server.port))
        peak = memory(server.proc.pid)["VmHWM"]
        time.sleep(max(0.0, started + 12 - time.monotonic()))
        after, status = memory(server.proc.pid)["VmRSS"], healthz(server, 30)
    counts = ", ".join(f"{outcomes.count(o)} {o}" for o in sorted(set(outcomes)))
    return [(f"{connections} connections each sending {size // 1024} KB of header lines without the blank line "
             "(defaults): peak RSS; RSS after the header timeout",
             f"peak {peak:.0f} MB (idle {idle_rss:.0f} MB); {after:.0f} MB after 10 s; connections: {counts}; "
             f"/healthz {status} afterwards", "< 200 MB peak")]


MEASURES = {"lockout": lockout, "timing": timing, "memory": memory_figures, "outage": outage, "cost": cost,
            "admin": admin, "burst": burst, "victim": victim, "idle": idle, "heads": heads}


def main(argv):
    p = argparse.ArgumentParser(prog="bench/run.py security", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", default="", help=f"comma-separated, of: {' '.join(MEASURES)}")
    only = [n for n in p.parse_args(argv).only.split(",") if n]
    if unknown := set(only) - set(MEASURES):
        p.error(f"no figure named {', '.join(sorted(unknown))}; the names are: {' '.join(MEASURES)}")
    release_build()
    ctx = SimpleNamespace(emulator_port=str(free_port()), work=Path(tempfile.mkdtemp(prefix="firegate-security-")))
    ctx.emulator, host = emulator(BIN, ctx.emulator_port)
    ctx.env = setup(ctx.work, BIN, host)[0]
    # The quoted figures were taken with glibc's default malloc settings.
    del ctx.env["GLIBC_TUNABLES"]
    rows = []
    for name in only or MEASURES:
        log(f"security: {name}")
        rows += MEASURES[name](ctx)
    stop(ctx.emulator)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    table = ["| figure | measured | target |", "|---|---|---|", *(f"| {a} | {b} | {c} |" for a, b, c in rows)]
    if only:
        return print("\n".join(table))
    (ROOT / "bench/SECURITY.md").write_text("\n".join([
        "# Security and reliability figures", "",
        f"Measured by `bench/run.py security` on {time.strftime('%Y-%m-%d')}, commit `{commit.strip()}`,",
        f"{len(os.sched_getaffinity(0))} × {cpu_model()}, {platform.system()} {platform.release()}, release build, "
        "local emulator.", "", *table]) + "\n")
