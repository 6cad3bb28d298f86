#!/usr/bin/env python3
"""firegate's benchmark driver (standard library only); `scripts/bench.sh` builds and runs it.

Starts its own Firestore emulator (`firegate emulator`) unless given one, seeds an argon2id
account and Werkzeug `pbkdf2:sha256:260000` accounts with firegate's own CLI, then measures:
cold start (exec → accepting, exec → first sign-in), warm sign-in latency, throughput, memory,
a first sign-in through the tests' verify-hook stand-in (`bench/hook.py`), the IAM signer
against the tests' Google stand-in (`cargo run --example google_standin`), the
micro-benchmarks (`cargo bench`, criterion) against `openssl speed` and Python's `hashlib`, and
the two peers under `bench/peers/`. It writes `results.json` and `bench/RESULTS.md`, and
rewrites the tables between the `<!-- bench:NAME -->` markers of `docs/src/benchmarks.md`.

    bench/run.py --bin target/release/firegate            # what scripts/bench.sh runs
    bench/run.py --smoke --bin target/debug/firegate --out DIR --emulator HOST:PORT
    bench/run.py cold-ab BEFORE/firegate AFTER/firegate [--runs 21]
    bench/run.py security [--only NAME,...]               # bench/SECURITY.md (bench/security.py)
    bench/run.py import [ROWS...]                         # import speed (docs/src/importing.md)

`--smoke` measures a few of everything in seconds (no peers, no criterion, no stand-in) and
writes only under `--out`: the integration tests run it so the driver cannot rot.
"""

import argparse, atexit, hashlib, http.client, json, os, re, secrets, shutil, socket, statistics
import subprocess, sys, tempfile, threading, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PASSWORD, LEGACY_PASSWORD = "correct horse battery staple", "legacy-password-1"
ARGON2_LOGIN, PEER_LOGIN = "bench-argon2@example.com", "peer-legacy"
CHILDREN: list = []
LOADS: list = []


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def load(moment):
    """The 1-minute load average at `moment`, kept for the report: the machine is shared."""
    LOADS.append(f"{os.getloadavg()[0]:.2f} {moment}")


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


atexit.register(lambda: [stop(p) for p in reversed(CHILDREN)])


def spawn(cmd, env, **kw):
    proc = subprocess.Popen([str(c) for c in cmd], env=env, stdin=kw.pop("stdin", subprocess.DEVNULL),
                            stdout=kw.pop("stdout", subprocess.DEVNULL), stderr=kw.pop("stderr", subprocess.DEVNULL), **kw)
    CHILDREN.append(proc)
    return proc


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def memory(pid):
    """VmRSS and VmHWM of a process, MiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return {k: int(re.search(rf"{k}:\s+(\d+)", status)[1]) / 1024 for k in ("VmRSS", "VmHWM")}


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stats(samples):
    s = sorted(samples)
    at = lambda q: s[min(len(s) - 1, round((len(s) - 1) * q))]  # noqa: E731
    return {"p50": statistics.median(s), "p90": at(0.9), "p99": at(0.99), "min": s[0], "max": s[-1], "n": len(s)}


def login_body(login, password):
    return json.dumps({"email": login, "password": password}).encode()


def raw_post(body):
    """A whole HTTP/1.1 sign-in request with a JSON `body`, for clients writing to sockets themselves."""
    return (b"POST /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)) + body


def emulator(binary, port=None, env=None):
    """`firegate emulator` in a session of its own, and the HOST:PORT it prints once serving."""
    launcher = spawn([binary, "emulator", *(["--port", port] if port else [])], env, stdout=subprocess.PIPE,
                     text=True, start_new_session=True)
    return launcher, launcher.stdout.readline().strip()


def connected(proc, port, name, poll=0.01):
    """A socket connected to `port` as soon as `proc` listens there (polled every `poll` s)."""
    deadline = time.monotonic() + 60
    while True:
        sock = socket.socket()
        try:
            sock.connect(("127.0.0.1", port))
            return sock
        except ConnectionRefusedError:
            sock.close()
            if proc.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"error: {name} did not start listening (exit {proc.poll()})")
            time.sleep(poll)


class Server:
    """One long-running server (`argv` + `serve --listen` + `flags`) and a keep-alive client to it."""

    def __init__(self, argv, env, *flags, stderr=subprocess.DEVNULL):
        self.port = free_port()
        self.proc = spawn([*argv, "serve", "--listen", f"127.0.0.1:{self.port}", *flags], env, stderr=stderr)
        connected(self.proc, self.port, argv[-1]).close()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def post(self, body, conn=None, headers=()):
        conn = conn or self.conn
        conn.request("POST", "/login/", body=body, headers={"Content-Type": "application/json", **dict(headers)})
        response = conn.getresponse()
        return response.status, response.read()

    def sign_ins(self, body, n):
        """`n` sequential sign-ins: latency in ms, and the server's CPU ms per sign-in."""
        samples, cpu = [], cpu_seconds(self.proc.pid)
        for _ in range(n):
            t = time.perf_counter()
            status, data = self.post(body)
            samples.append((time.perf_counter() - t) * 1e3)
            if status != 200:
                sys.exit(f"error: a sign-in answered {status}: {data[:200]!r}")
        return stats(samples), (cpu_seconds(self.proc.pid) - cpu) / n * 1e3

    def load(self, body, clients, seconds):
        """`clients` threads signing in back to back for `seconds`: answers by status a second."""
        counts, lock, end = {}, threading.Lock(), time.monotonic() + seconds
        cpu = cpu_seconds(self.proc.pid)

        def client():
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            while time.monotonic() < end:
                try:
                    status, _ = self.post(body, conn)
                except (OSError, http.client.HTTPException):
                    status, conn = "error", http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                with lock:
                    counts[status] = counts.get(status, 0) + 1

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for t in threads:
            t.start()
        peak = 0.0
        while any(t.is_alive() for t in threads):
            peak = max(peak, memory(self.proc.pid)["VmRSS"])
            time.sleep(0.01)
        cpu = cpu_seconds(self.proc.pid) - cpu
        ok = counts.get(200, 0)
        return {"clients": clients, "per_s": ok / seconds, "answers": {str(k): v for k, v in counts.items()},
                "cpu_ms_per_sign_in": cpu / max(ok, 1) * 1e3, "peak_rss_mib": peak}


def cold(argv, env, body, runs, uncounted=1):
    """Fresh processes: the clock starts before exec; connect() is polled every 0.2 ms and the
    sign-in sent on the first connection that succeeds. One uncounted run first (page cache)."""
    out = []
    for i in range(runs + uncounted):
        port = free_port()
        t0 = time.perf_counter()
        proc = spawn([*argv, "serve", "--listen", f"127.0.0.1:{port}"], env)
        sock = connected(proc, port, argv[-1], 0.0002)
        accept = time.perf_counter()
        sock.sendall(raw_post(body))
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
        done = time.perf_counter()
        sock.close()
        stop(proc)
        if not reply.startswith(b"HTTP/1.1 200"):
            sys.exit(f"error: a cold sign-in to {argv[-1]} answered {reply[:200]!r}")
        if i >= uncounted:
            out.append(((accept - t0) * 1e3, (done - t0) * 1e3))
    return {"accept": stats([a for a, _ in out]), "first": stats([d for _, d in out])}


def firegate(binary, env, *args, stdin=None):
    result = subprocess.run([str(binary), *args], env=env, input=stdin, text=True, capture_output=True)
    if result.returncode:
        sys.exit(f"error: firegate {' '.join(args)}: {result.stderr.strip()[-500:]}")
    return result.stdout


def setup(work, binary, host=None, project=None, key=None, legacy_accounts=0):
    """The emulator (unless given its `host`), a key file, the environment every server runs under,
    and the accounts: one argon2id, `legacy_accounts` Werkzeug ones and the peers' Werkzeug one."""
    host = host or emulator(binary)[1]
    project = project or f"demo-bench-{secrets.token_hex(3)}"
    keys = work / "keys"
    keys.mkdir(mode=0o700)
    key_file = keys / "bench.json"
    if key:
        shutil.copyfile(key, key_file)
    else:
        pem = subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
                             check=True, capture_output=True, text=True).stdout
        key = {"type": "service_account", "project_id": project, "private_key_id": secrets.token_hex(20),
               "private_key": pem, "client_email": f"bench@{project}.iam.gserviceaccount.com",
               "token_uri": "https://oauth2.googleapis.com/token"}  # firebase_admin requires it; never called
        key_file.write_text(json.dumps(key))
    key_file.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIREGATE_") and k not in ("RUST_LOG", "PORT")}
    # The Dockerfile's runtime environment (see its comment on huge pages).
    env.update({"GLIBC_TUNABLES": "glibc.malloc.hugetlb=1", "FIRESTORE_EMULATOR_HOST": host,
                "FIREGATE_KEYS_DIR": str(keys), "FIREGATE_PROJECT_ID": project, "FIREGATE_CONFIG": "/dev/null",
                # One client address sends every request here; production keeps the limit.
                "FIREGATE_RATE_LIMIT_PER_MINUTE": "0",
                # No egress to Pwned Passwords; bench/abuse.py measures the offline lookup.
                "FIREGATE_BREACHED_CHECK": "off"})
    firegate(binary, env, "accounts", "create", "--login", ARGON2_LOGIN, stdin=PASSWORD + "\n")
    legacy = [f"legacy-{i}" for i in range(legacy_accounts)] + [PEER_LOGIN]
    salt = secrets.token_hex(8)  # Werkzeug's format, as Flask apps store it
    digest = hashlib.pbkdf2_hmac("sha256", LEGACY_PASSWORD.encode(), salt.encode(), 260_000).hex()
    hashed = f"pbkdf2:sha256:260000${salt}${digest}"
    (work / "legacy.csv").write_text("id,username,password\n" + "".join(f"{u},{u},{hashed}\n" for u in legacy))
    firegate(binary, env, "import", str(work / "legacy.csv"), "--dialect", "werkzeug")
    return env, key_file, legacy[:-1]


def criterion(a, bench, case):
    """Median of one criterion benchmark, ms (`cargo bench --bench BENCH -- CASE`)."""
    subprocess.run(["cargo", "bench", "-q", "--bench", bench, "--", "--exact", case], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, env={**os.environ, "GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"})
    estimates = json.loads((ROOT / "target/criterion" / case / "new/estimates.json").read_text())
    return estimates["median"]["point_estimate"] / 1e6


def micro(a):
    log("micro-benchmarks: cargo bench, openssl speed, hashlib")
    m = {"argon2id_ms": criterion(a, "hashes", "verify/argon2id"),
         "werkzeug_ms": criterion(a, "hashes", "verify/werkzeug-pbkdf2"),
         "mint_ms": criterion(a, "signing", "signing/mint"),
         "rsa_sign_ms": criterion(a, "signing", "signing/rsa2048-sign")}
    speed = subprocess.run(["openssl", "speed", "-elapsed", "-seconds", "3", "rsa2048"], capture_output=True, text=True).stdout
    m["openssl_signs_per_s"] = float(re.search(r"rsa\s+2048 bits\s+\S+\s+\S+\s+([\d.]+)", speed)[1])
    times = []
    for _ in range(9):
        t = time.perf_counter()
        hashlib.pbkdf2_hmac("sha256", b"password", b"saltsaltsaltsalt", 260_000)
        times.append((time.perf_counter() - t) * 1e3)
    m["hashlib_ms"] = statistics.median(times)
    return m


def peers(a, env, key_file, work):
    """The Python and Node.js peers (bench/peers/): installed into target/bench-peers, then the
    same cold and warm measurements on the Werkzeug account they share (they only read it)."""
    out, peer_dir = {}, ROOT / "target/bench-peers"
    venv, node_dir = peer_dir / "venv", peer_dir / "node"
    if not (venv / "bin/python").exists():
        log("installing the Python peer (venv + pip)")
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([venv / "bin/pip", "install", "-q", "-r", ROOT / "bench/peers/python/requirements.txt"], check=True)
    shutil.copytree(ROOT / "bench/peers/node", node_dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns("node_modules"))
    if not (node_dir / "node_modules").exists():
        log("installing the Node.js peer (npm ci)")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=node_dir, check=True)
    peer_env = {k: v for k, v in env.items() if not k.startswith("FIREGATE_")}
    peer_env.update({"GOOGLE_APPLICATION_CREDENTIALS": str(key_file), "GOOGLE_CLOUD_PROJECT": env["FIREGATE_PROJECT_ID"]})
    body = login_body(PEER_LOGIN, LEGACY_PASSWORD)
    for name, argv in (("python", [venv / "bin/python", ROOT / "bench/peers/python/server.py"]),
                       ("node", ["node", node_dir / "server.mjs"])):
        log(f"peer {name}: cold starts, then {a.warm} warm sign-ins")
        c = cold(argv, peer_env, body, a.cold_runs)
        server = Server(argv, peer_env)
        server.sign_ins(body, 20)
        warm, cpu = server.sign_ins(body, a.warm)
        out[name] = {"cold_ms": c["first"]["p50"], "warm_ms": warm["p50"], "cpu_ms": cpu,
                     "rss_mib": memory(server.proc.pid)["VmRSS"]}
        stop(server.proc)
    return out


def iam(a, env, body):
    """`--signer iam` against the tests' stand-in (20 ms added to each signBlob) beside the key
    file: warm sign-in p50 and exec → first sign-in, and the signBlob calls made."""
    log("IAM signer against the Google stand-in")
    standin = spawn(["cargo", "run", "-q", "--release", "--example", "google_standin", "--",
                     env["FIREGATE_PROJECT_ID"], "20"], None, cwd=ROOT, stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE, text=True)
    host = standin.stdout.readline().split()[-1]
    # No credentials file, so Application Default Credentials fall back to the metadata server.
    iam_env = {k: v for k, v in env.items() if k != "GOOGLE_APPLICATION_CREDENTIALS"}
    iam_env.update({"FIREGATE_SIGNER": "iam", "GCE_METADATA_HOST": host, "FIREGATE_IAM_CREDENTIALS_URL": f"http://{host}",
                    "HOME": tempfile.mkdtemp(prefix="bench-iam-")})
    r = {}
    for name, e in (("key", env), ("iam", iam_env)):
        server = Server([a.bin], e)
        server.sign_ins(body, 20)
        r[name] = {"warm_ms": server.sign_ins(body, a.warm)[0]["p50"], "cold_ms": cold([a.bin], e, body, a.cold_runs)["first"]["p50"]}
        stop(server.proc)
    standin.stdin.close()
    r["calls"] = standin.stdout.read().strip()
    return r


def measure(a, work):
    load("at the start")
    env, key_file, legacy = setup(work, a.bin, a.emulator, a.project, a.key, a.cold_runs + 1 + a.legacy_warm)
    r = {"commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip(),
         "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "smoke": a.smoke,
         "command": "bench/run.py --smoke" if a.smoke else "scripts/bench.sh"}
    if not a.smoke:
        r["micro"] = micro(a)
    argon2 = login_body(ARGON2_LOGIN, PASSWORD)
    log("cold starts"), load("before cold starts")
    r["cold"] = cold([a.bin], env, argon2, a.cold_runs)
    # Each Werkzeug cold start signs in an account never used (the first sign-in rehashes it).
    bodies = iter(login_body(u, LEGACY_PASSWORD) for u in legacy)
    firsts = [cold([a.bin], env, next(bodies), 1, 0)["first"]["p50"] for _ in range(a.cold_runs)]
    r["cold_werkzeug"] = stats(firsts)
    log("warm server"), load("before the warm server")
    server = Server([a.bin], env)
    r["idle_rss_mib"] = memory(server.proc.pid)["VmRSS"]
    server.sign_ins(argon2, 20)
    warm, cpu = server.sign_ins(argon2, a.warm)
    r["warm"] = {**warm, "cpu_ms": cpu}
    r["rss_warm_mib"] = memory(server.proc.pid)["VmRSS"]
    fresh = [server.sign_ins(next(bodies), 1) for _ in range(a.legacy_warm)]
    r["warm_werkzeug"] = {"p50": statistics.median(s["p50"] for s, _ in fresh), "cpu_ms": statistics.median(c for _, c in fresh)}
    load("before throughput")
    r["throughput"] = [server.load(argon2, c, a.seconds) for c in a.clients]
    r["rss_after_mib"] = memory(server.proc.pid)["VmRSS"]
    load(f"before {a.flood} concurrent sign-ins")
    r["flood"] = server.load(argon2, a.flood, a.seconds)
    stop(server.proc)
    log("verify hook"), load("before the verify hook")
    import hook  # beside this script, so on sys.path
    r["hook"] = hook.measure(sys.modules[__name__], a.bin, env, work, 3 if a.smoke else 21)
    log("App Check and breached passwords"), load("before App Check and breached passwords")
    import abuse  # beside this script, so on sys.path
    r["abuse"] = abuse.measure(sys.modules[__name__], a.bin, env, work, a.smoke)
    log("second factor"), load("before the second factor")
    import mfa  # beside this script, so on sys.path
    r["mfa"] = mfa.measure(sys.modules[__name__], a.bin, env, 3 if a.smoke else 41)
    log("languages"), load("before the languages")
    import languages  # beside this script, so on sys.path
    r["languages"] = languages.measure(sys.modules[__name__], a.bin, env, 8 if a.smoke else 400)
    log("passkeys"), load("before the passkey sign-ins")
    import passkeys  # beside this script, so on sys.path
    r["passkeys"] = passkeys.measure(sys.modules[__name__], a.bin, env, work, 5 if a.smoke else 201)
    r["binary_mib"] = Path(a.bin).stat().st_size / 2**20
    if not a.smoke:
        load("before the IAM signer")
        r["iam"] = iam(a, env, argon2)
        if not a.no_peers:
            load("before the peers")
            r["peers"] = peers(a, env, key_file, work)
    load("at the end")
    r["load"] = LOADS
    return r


def ratio_row(label, value, unit, limit, limit_text, target):
    """A summary row: the figure, its limit or peer, their ratio, the target and its verdict."""
    if value is None or limit is None:
        return f"| {label} | {fmt(value, unit)} | {limit_text} | | {target} | |"
    q = value / limit
    bound = float(target[2:]) if target[:1] in "<≤≥" else None
    ok = None if bound is None else {"<": q < bound, "≤": q <= bound, "≥": q >= bound}[target[:1]]
    return f"| {label} | {fmt(value, unit)} | {limit_text} | {q:.2f}× | {target} | {'' if ok is None else 'met' if ok else '**missed**'} |"


def fmt(value, unit):
    return "—" if value is None else f"{value:.1f} {unit}" if value < 1000 else f"{value:,.0f} {unit}"


def tables(r):
    """The tables, by the name of their `<!-- bench:NAME -->` markers."""
    import hook, languages, mfa, passkeys  # beside this script, so on sys.path
    m, cold, warm = r.get("micro", {}), r["cold"], r["warm"]
    argon2, best = m.get("argon2id_ms"), max(r["throughput"], key=lambda t: t["per_s"])
    cores = len(os.sched_getaffinity(0))
    plus = lambda *xs: None if None in xs else sum(xs)  # noqa: E731
    per = lambda x: None if x is None else 1e3 / x  # noqa: E731
    rows = ["| figure | measured | peer or limit | ratio | target | |", "|---|---|---|---|---|---|",
            ratio_row("exec → accepting connections", cold["accept"]["p50"], "ms", 20, "limit 20 ms", "< 1"),
            ratio_row("exec → first sign-in, argon2id account", cold["first"]["p50"], "ms", plus(50, argon2),
                      f"50 ms + one argon2id verify ({fmt(argon2, 'ms')})", "< 1"),
            ratio_row("exec → first sign-in, Werkzeug PBKDF2-260,000 account", r["cold_werkzeug"]["p50"], "ms",
                      plus(50, m.get("werkzeug_ms"), argon2), "50 ms + PBKDF2 verify + argon2id rehash", "none set"),
            ratio_row("warm sign-in p50, one client", warm["p50"], "ms", plus(argon2, m.get("mint_ms")),
                      "argon2id verify + one signature (no Firestore round trip)", "none set"),
            *[ratio_row(*row) for row in hook.rows(r, warm["p50"], argon2)],
            *[ratio_row(*row) for row in __import__("abuse").rows(r)],
            *[ratio_row(*row) for row in mfa.rows(r, warm["p50"])],
            *[ratio_row(*row) for row in languages.rows(r)],
            *[ratio_row(*row) for row in passkeys.rows(r)],
            ratio_row(f"throughput (best of {', '.join(str(t['clients']) for t in r['throughput'])} clients: "
                      f"{best['clients']})", best["per_s"], "sign-ins/s", None if argon2 is None else cores * 1e3 / argon2,
                      f"{cores} cores / argon2id verify", "≥ 0.90"),
            ratio_row("Werkzeug `pbkdf2:sha256:260000` verify", m.get("werkzeug_ms"), "ms", m.get("hashlib_ms"),
                      f"Python `hashlib.pbkdf2_hmac`: {fmt(m.get('hashlib_ms'), 'ms')}", "≤ 0.50"),
            ratio_row("signing, one thread", per(m.get("mint_ms")), "tokens/s", m.get("openssl_signs_per_s"),
                      f"`openssl speed rsa2048`: {fmt(m.get('openssl_signs_per_s'), 'signs/s')}", "≥ 0.90"),
            ratio_row("RSS idle after start", r["idle_rss_mib"] * 1.048576, "MB", 20, "limit 20 MB", "< 1"),
            ratio_row(f"peak RSS under {r['flood']['clients']} concurrent sign-ins", r["flood"]["peak_rss_mib"] * 1.048576,
                      "MB", 100, "limit 100 MB", "< 1"),
            f"| RSS after the throughput runs | {fmt(r['rss_after_mib'], 'MiB')} | | | | |",
            f"| the binary measured ({'debug build' if r['smoke'] else 'release, stripped'}) | {fmt(r['binary_mib'], 'MiB')} | | | | |"]
    t = {"summary": "\n".join(rows)}
    t["latency"] = "\n".join(["| run | p50 | p90 | p99 | sign-ins/s | answers (status: count) | firegate CPU per sign-in |",
                              "|---|---|---|---|---|---|---|",
                              f"| cold: exec → accepting | {fmt(cold['accept']['p50'], 'ms')} | {fmt(cold['accept']['p90'], 'ms')} | | | {cold['accept']['n']} runs | |",
                              f"| cold: exec → first sign-in, argon2id | {fmt(cold['first']['p50'], 'ms')} | {fmt(cold['first']['p90'], 'ms')} | | | {cold['first']['n']} runs | |",
                              f"| cold: exec → first sign-in, Werkzeug (rehashed) | {fmt(r['cold_werkzeug']['p50'], 'ms')} | {fmt(r['cold_werkzeug']['p90'], 'ms')} | | | {r['cold_werkzeug']['n']} runs | |",
                              f"| warm, one client, sequential | {fmt(warm['p50'], 'ms')} | {fmt(warm['p90'], 'ms')} | {fmt(warm['p99'], 'ms')} | | {warm['n']} sign-ins | {fmt(warm['cpu_ms'], 'ms')} |"]
                             + [f"| {x['clients']} clients, {'flood' if x is r['flood'] else 'throughput'} | | | | {x['per_s']:.1f} | "
                                f"{', '.join(f'{k}: {v}' for k, v in sorted(x['answers'].items()))} | {fmt(x['cpu_ms_per_sign_in'], 'ms')} |"
                                for x in [*r["throughput"], r["flood"]]])
    if m:
        t["micro"] = "\n".join(["| criterion median (`cargo bench`) | |", "|---|---|"] + [
            f"| `{k}` | {v:.3f} |" for k, v in m.items()])
    if "iam" in r:
        i = r["iam"]
        t["iam"] = "\n".join(["| figure | `--signer key` | `--signer iam` | iam − key − 20 ms |", "|---|---|---|---|"] + [
            f"| {label} | {fmt(i['key'][k], 'ms')} | {fmt(i['iam'][k], 'ms')} | {i['iam'][k] - i['key'][k] - 20:+.1f} ms |"
            for label, k in (("warm sign-in p50", "warm_ms"), ("exec → first sign-in (median)", "cold_ms"))]
            + ["", f"The stand-in answered, over the whole comparison: {i['calls']}."])
    if "peers" in r:
        py, node = r["peers"]["python"], r["peers"]["node"]
        fg = {"cold_ms": r["cold_werkzeug"]["p50"], "warm_ms": r["warm_werkzeug"]["p50"],
              "cpu_ms": r["warm_werkzeug"]["cpu_ms"], "rss_mib": r["rss_warm_mib"]}
        t["peers"] = "\n".join(["| | firegate | Python | Node.js | firegate ÷ Python | firegate ÷ Node.js |",
                                "|---|---|---|---|---|---|"] + [
            f"| {label} | {fmt(fg[k], u)} | {fmt(py[k], u)} | {fmt(node[k], u)} | {fg[k] / py[k]:.2f}× | {fg[k] / node[k]:.2f}× |"
            for label, k, u in (("cold start, exec → first sign-in", "cold_ms", "ms"),
                                ("warm sign-in p50 (firegate: a fresh Werkzeug account each time, verified and rehashed)", "warm_ms", "ms"),
                                ("CPU per sign-in", "cpu_ms", "ms"), ("RSS after the warm sign-ins", "rss_mib", "MiB"))]
            + ["", f"Once upgraded, the account signs in like any argon2id account ({fmt(warm['p50'], 'ms')}, "
               f"{fmt(warm['cpu_ms'], 'ms')} of CPU)."])
    import cost  # beside this script, so on sys.path
    t["cost"] = cost.table(r)
    return t


def report(r, results, book):
    """bench/RESULTS.md, and the tables between the book page's markers."""
    t = tables(r)
    head = (f"Measured {r['date']} at commit {r['commit']} by `{r['command']}` on "
            f"{len(os.sched_getaffinity(0))} cores ({cpu_model()}); every figure and its peer or limit from that one "
            f"run. The machine is shared with other builds and the Firestore emulator runs on the same cores, so "
            f"absolute figures move between runs; compare ratios within a run. Load average (1 min): "
            f"{'; '.join(r['load'])}.")
    titles = {"summary": "Summary", "latency": "Cold start, latency and throughput", "micro": "Micro-benchmarks",
              "iam": "IAM signer against the Google stand-in", "peers": "Peers", "cost": "Cost model"}
    results.write_text("# firegate benchmark results\n\n" + head + "\n\n" + "\n\n".join(
        f"## {titles[k]}\n\n{v}" for k, v in t.items()) + "\n")
    page = book.read_text() if book.exists() else "".join(f"<!-- bench:{k} -->\n<!-- /bench:{k} -->\n" for k in t)
    for name, table in t.items():
        text = f"{head}\n\n{table}" if name == "summary" else f"From the same run (commit {r['commit']}):\n\n{table}"
        page = re.sub(rf"(<!-- bench:{name} -->\n).*?(<!-- /bench:{name} -->)", lambda g: g[1] + text + "\n" + g[2],
                      page, flags=re.S)
    book.write_text(page)


def cpu_model():
    found = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
    return found[1].strip() if found else "unknown CPU"


def cold_ab(argv):
    p = argparse.ArgumentParser(prog="bench/run.py cold-ab")
    p.add_argument("before"), p.add_argument("after"), p.add_argument("--runs", type=int, default=21)
    p.add_argument("--before-env", action="append", default=[], help="NAME=VALUE for the first binary")
    a = p.parse_args(argv)
    env = setup(Path(tempfile.mkdtemp(prefix="bench-ab-")), a.before)[0]
    before_env = {**env, **dict(kv.split("=", 1) for kv in a.before_env)}
    body, runs = login_body(ARGON2_LOGIN, PASSWORD), {"before": [], "after": []}
    for _ in range(a.runs):  # interleaved, so the machine's drift weighs on both
        runs["before"].append(cold([a.before], before_env, body, 1, 0)["first"]["p50"])
        runs["after"].append(cold([a.after], env, body, 1, 0)["first"]["p50"])
    for side, samples in runs.items():
        s = stats(samples)
        print(f"{side}: exec → first sign-in {s['p50']:.1f} ms median ({s['min']:.1f}–{s['max']:.1f}), {s['n']} runs")


def release_build():
    """Builds the release binary, for the subcommands that measure it without scripts/bench.sh."""
    subprocess.run(["cargo", "build", "--release", "--bin", "firegate"], cwd=ROOT, check=True)
    return str(ROOT / "target/release/firegate")


def import_speed(argv):
    """For each size, a CSV of Werkzeug-hashed accounts (username and email: three documents an
    account) imported into a fresh emulator warmed up by a 100,000-row import (its JIT needs it):
    the time, documents and accounts a second, the importer's peak RSS, and the time of the same
    import again (everything already present)."""
    p = argparse.ArgumentParser(prog="bench/run.py import", description=import_speed.__doc__)
    p.add_argument("rows", nargs="*", type=int, default=[100_000, 1_000_000])
    p.add_argument("--heap", help="the emulator's Java heap [default: 6g, 16g from 500,000 rows: it keeps "
                                  "every document, and 4g stalls near a million]")
    a, work = p.parse_args(argv), Path(tempfile.mkdtemp(prefix="firegate-import-bench-"))
    a.bin = release_build()

    def generate(n, path):  # the importer checks each hash's grammar, never the password
        path.write_text("id,username,email,password,is_active,date_joined\n" + "".join(
            f"{i},user{i},user{i}@school.example,pbkdf2:sha256:260000$s{i:015d}${i:064x},t,2020-03-04 05:06:07+09\n"
            for i in range(1, n + 1)))

    def run_import(host, project, csv):
        """The import's seconds, its summary as a dict, and its peak RSS in MiB."""
        t = time.perf_counter()
        proc = subprocess.Popen([a.bin, "import", csv, "--project-id", project, "--firestore-emulator-host", host,
                                 "--firestore-timeout-ms", "60000", "--log-format", "text", "--dialect", "werkzeug"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        _, status, usage = os.wait4(proc.pid, 0)  # the summary is a few lines: the pipe holds it
        seconds = time.perf_counter() - t
        summary = dict(line.split(": ", 1) for line in proc.stdout.read().splitlines() if ": " in line)
        if os.waitstatus_to_exitcode(status):
            sys.exit(f"error: import of {csv} failed: {summary}")
        return seconds, summary, usage.ru_maxrss / 1024

    generate(100_000, work / "warmup.csv")
    print(f"{'rows':>9} {'seconds':>8} {'docs/s':>8} {'accounts/s':>10} {'peak RSS (MiB)':>14} {'rerun seconds':>13}")
    for rows in a.rows:
        generate(rows, work / "users.csv")
        heap = a.heap or ("16g" if rows >= 500_000 else "6g")
        launcher, host = emulator(a.bin, env={**os.environ, "JAVA_TOOL_OPTIONS": f"-Xmx{heap}"})
        run_import(host, "warmup", work / "warmup.csv")
        seconds, summary, rss = run_import(host, "bench", work / "users.csv")
        rerun, again, _ = run_import(host, "bench", work / "users.csv")
        if summary.get("imported") != str(rows) or again.get("already present") != str(rows):
            sys.exit(f"error: {rows} rows, but imported {summary}, then {again}")
        print(f"{rows:>9} {seconds:>8.1f} {rows * 3 / seconds:>8.0f} {rows / seconds:>10.0f} {rss:>14.1f} {rerun:>13.1f}")
        stop(launcher)


def main():
    import security  # beside this script, and using its helpers
    subcommands = {"import": import_speed, "cold-ab": cold_ab, "security": security.main}
    if sys.argv[1:2] and sys.argv[1] in subcommands:
        return subcommands[sys.argv[1]](sys.argv[2:])
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default=str(ROOT / "target/release/firegate"))
    p.add_argument("--out", type=Path, help="write results.json and the tables here, not into bench/ and docs/")
    p.add_argument("--emulator", help="HOST:PORT of a running Firestore emulator [default: start one]")
    p.add_argument("--project", help="Firestore project id [default: a fresh one]")
    p.add_argument("--key", help="a service-account key file to sign with [default: a new one, openssl genpkey]")
    p.add_argument("--smoke", action="store_true", help="a few of everything, in seconds")
    p.add_argument("--no-peers", action="store_true")
    a = p.parse_args()
    a.cold_runs, a.warm, a.legacy_warm, a.seconds, a.clients, a.flood = \
        (2, 10, 2, 1, [2], 20) if a.smoke else (11, 200, 11, 10, [4, 16, 64], 500)
    work = Path(tempfile.mkdtemp(prefix="firegate-bench-"))
    r = measure(a, work)
    out = a.out or ROOT / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(r, indent=1) + "\n")
    report(r, out / "RESULTS.md", out / "benchmarks.md" if a.out else ROOT / "docs/src/benchmarks.md")
    log(f"wrote {out}/results.json and RESULTS.md")


if __name__ == "__main__":
    main()
