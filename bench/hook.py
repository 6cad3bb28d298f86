"""The legacy verify hook's row of the benchmark (`bench/run.py` calls `measure`).

A hook with a fixed added latency runs in this process (standard library HTTP server): it
checks the signature as the documented samples do, waits `LATENCY_MS`, answers `{"valid":
true}`, and records how long it held each request. Accounts imported with `--hash external`
then sign in for the first time through it: what firegate adds is the sign-in's latency minus
the hook's own time — its two Firestore reads, the call, one argon2id hash and the write that
stores it. Their second sign-ins are ordinary argon2id sign-ins.
"""

import hashlib, hmac, http.server, json, secrets, statistics, threading, time

LATENCY_MS = 20
PASSWORD = "legacy-hook-password-1"


class Hook(http.server.ThreadingHTTPServer):
    def __init__(self):
        self.secret = secrets.token_hex(32)
        self.held_ms: list = []
        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/verify"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        started = time.perf_counter()
        body = self.rfile.read(int(self.headers["Content-Length"]))
        signed = self.headers["X-Firegate-Timestamp"].encode() + b"." + body
        expected = "v1=" + hmac.new(self.server.secret.encode(), signed, hashlib.sha256).hexdigest()
        ok = hmac.compare_digest(expected, self.headers.get("X-Firegate-Signature", ""))
        time.sleep(LATENCY_MS / 1e3)
        answer = json.dumps({"valid": json.loads(body)["password"] == PASSWORD} if ok else {}).encode()
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
        self.server.held_ms.append((time.perf_counter() - started) * 1e3)

    def log_message(self, *_):
        pass


def measure(run, binary, env, work, n):
    """`n` first sign-ins through the hook and the same accounts' second sign-ins; `run` is
    the driver module (its `Server`, `firegate`, `login_body` and `stats`)."""
    logins = [f"hook-{i}-{secrets.token_hex(3)}" for i in range(n)]
    csv = work / "hook.csv"
    csv.write_text("id,username\n" + "".join(f"{u},{u}\n" for u in logins))
    run.firegate(binary, env, "import", str(csv), "--hash", "external")
    hook = Hook()
    server = run.Server([binary], {**env, "FIREGATE_LEGACY_VERIFY_SECRET": hook.secret},
                        "--legacy-verify-url", hook.url)
    try:
        added, cpu, later = [], [], []
        for login in logins:
            held = len(hook.held_ms)
            (latency, cpu_ms) = server.sign_ins(run.login_body(login, PASSWORD), 1)
            if len(hook.held_ms) != held + 1:
                raise SystemExit(f"error: the first sign-in of {login} did not ask the hook once")
            added.append(latency["p50"] - hook.held_ms[-1])
            cpu.append(cpu_ms)
        asked = len(hook.held_ms)
        for login in logins:
            later.append(server.sign_ins(run.login_body(login, PASSWORD), 1)[0]["p50"])
        if len(hook.held_ms) != asked:
            raise SystemExit("error: a second sign-in asked the hook again")
    finally:
        run.stop(server.proc)
        hook.shutdown()
    return {"latency_ms": LATENCY_MS, "added": run.stats(added), "cpu_ms": statistics.median(cpu),
            "hook_held": run.stats(hook.held_ms), "later": run.stats(later)}


def rows(r, warm_p50):
    """The summary's rows: what a first sign-in through the hook adds, and the sign-ins after it."""
    h = r.get("hook")
    if h is None:
        return []
    limit = None if warm_p50 is None else warm_p50 + 2
    return [(f"first sign-in through a verify hook that takes {h['latency_ms']} ms: firegate's part "
             f"(latency − the hook's own time)", h["added"]["p50"], "ms", limit,
             f"2 ms + a warm argon2id sign-in ({warm_p50:.1f} ms: its reads and one argon2id hash)", "≤ 1"),
            ("the same accounts' second sign-in (the hook not asked)", h["later"]["p50"], "ms", warm_p50,
             "a warm argon2id sign-in", "≤ 1.2")]
