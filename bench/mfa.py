"""The second factor's rows of the benchmark (`bench/run.py` calls `measure`).

Accounts enrol an authenticator through the self-service routes (the server takes the Auth
emulator's unsigned ID tokens: `demo-` projects with `FIREBASE_AUTH_EMULATOR_HOST` set, which
the server never calls for this), then each signs in through both steps once, the TOTP code
computed here from the secret as an authenticator app would. One TOTP sign-in per account:
a step is accepted only after the last accepted one, so an account has one code to give per
30 seconds.

What the second step adds beyond its Firestore round trips is its CPU time in firegate: read
from `/proc/PID/task/*/schedstat` (nanoseconds, every thread) around each second step, so the
wait for Firestore, which runs in its own process, is not in it. Its latency, round trips
included, is reported beside it.
"""

import base64, hashlib, hmac, http.client, json, os, secrets, statistics, struct, time

PASSWORD = "second-factor-password-1"
CPU_LIMIT_MS = 3


def totp(secret, at):
    """The RFC 6238 code (SHA-1, 6 digits, 30 s) of the base32 `secret` at `at` seconds."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(at // 30)), hashlib.sha1).digest()
    offset = mac[19] & 0x0F
    return "%06d" % ((struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000)


def unsigned_id_token(project, uid):
    """An ID token as the Auth emulator makes it (`alg: none`) for a custom-token sign-in now."""
    part = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()  # noqa: E731
    now = int(time.time())
    claims = {"iss": f"https://securetoken.google.com/{project}", "aud": project, "sub": uid, "user_id": uid,
              "iat": now, "exp": now + 3600, "auth_time": now,
              "firebase": {"sign_in_provider": "custom", "identities": {}}}
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def cpu_ns(pid):
    """CPU time of every thread of `pid` so far, ns."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
        except FileNotFoundError:  # a thread that ended meanwhile
            pass
    return total


def post(conn, path, body, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request("POST", path, body=json.dumps(body).encode(), headers=headers)
    response = conn.getresponse()
    return response.status, json.loads(response.read() or b"null")


def expect(status, body, wanted, what):
    if status != wanted:
        raise SystemExit(f"error: {what} answered {status}: {json.dumps(body)[:200]}")


def measure(run, binary, env, n):
    """`n` accounts enrolled, then each signed in through both steps; `run` is the driver module
    (its `Server`, `firegate`, `stop` and `stats`)."""
    # A `demo-` project of its own on the same emulator: the Auth emulator's unsigned ID tokens
    # are taken only when both the accounts' project and the ID tokens' are `demo-` ones.
    project = f"demo-bench-mfa-{secrets.token_hex(3)}"
    env = {**env, "FIREGATE_PROJECT_ID": project}
    logins = [f"mfa-{i}-{secrets.token_hex(3)}@example.com" for i in range(n)]
    uids = [run.firegate(binary, env, "accounts", "create", "--login", login, stdin=PASSWORD + "\n").strip()
            for login in logins]
    # ID tokens for that project, whatever the key's project is.
    server = run.Server([binary], {**env, "FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9"},
                        "--id-token-project", project)
    conn = server.conn
    try:
        secrets_ = []
        for uid in uids:
            token = unsigned_id_token(project, uid)
            status, body = post(conn, "/mfa/totp/enroll/", {}, token)
            expect(status, body, 200, "an enrolment")
            status, answer = post(conn, "/mfa/totp/confirm/", {"code": totp(body["secret"], time.time())}, token)
            expect(status, answer, 200, "a confirmation")
            secrets_.append(body["secret"])
        first, second, cpu = [], [], []
        for login, secret in zip(logins, secrets_):
            t = time.perf_counter()
            status, body = post(conn, "/login/", {"email": login, "password": PASSWORD})
            first.append((time.perf_counter() - t) * 1e3)
            expect(status, body, 403, "a first step")
            # The next step's code: the confirmation spent the current one.
            code = totp(secret, time.time() + 30)
            before, t = cpu_ns(server.proc.pid), time.perf_counter()
            status, answer = post(conn, "/login/second-factor/", {"mfa_token": body["mfa_token"], "code": code})
            second.append((time.perf_counter() - t) * 1e3)
            cpu.append((cpu_ns(server.proc.pid) - before) / 1e6)
            expect(status, answer, 200, "a second step")
    finally:
        run.stop(server.proc)
    return {"first": run.stats(first), "second": run.stats(second), "cpu": run.stats(cpu),
            "cpu_mean_ms": statistics.fmean(cpu)}


def rows(r, warm_p50):
    """The summary's rows: the second step's CPU against its limit, its latency, the first step."""
    m = r.get("mfa")
    if m is None:
        return []
    return [("second sign-in step (TOTP): firegate's CPU per step, its Firestore round trips waited out "
             "(median)", m["cpu"]["p50"], "ms", CPU_LIMIT_MS, f"limit {CPU_LIMIT_MS} ms, no hash", "≤ 1"),
            ("second sign-in step p50 latency (token read, lockout read, one transaction, the lockout write, "
             "the custom token)", m["second"]["p50"], "ms", None, "", "none set"),
            ("first step of an account with a factor (password checked, `mfa_token` stored)", m["first"]["p50"],
             "ms", warm_p50, "a warm argon2id sign-in", "none set")]
