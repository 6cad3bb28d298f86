"""App Check's and the breached-password check's rows of the benchmark (`bench/run.py` calls
`measure`).

App Check: a JWKS served from this process (a 2048-bit RSA key made here, tokens signed
RS256 with Python integers) and a server enforcing App Check on sign-in. Each request is a
`POST /login/` with a valid token and a body refused before any Firestore call or hash
(`{"email": …}` without a password: 400), so its latency is the HTTP round trip plus the
verification; the same request to a server without App Check is the baseline, and the
difference of the medians is what App Check adds, with the key cache warm (one fetch).

Breached passwords: a sorted file in the official downloader's format (`SHA1HEX:COUNT`
lines, CRLF), generated here, `SIZE_MIB` MiB (smoke: 2 MiB). A registration of a password
the file holds is refused (`400 password_breached`) right after the lookup, before any
Firestore call or hash; the same registration with a too-short password on a server without
the check is the baseline. Reported: the median difference, the server's read syscalls per
lookup (`/proc/PID/io` `syscr`, minus the baseline's), and its RSS before and after.
"""

import base64, hashlib, http.client, http.server, json, math, random, secrets, statistics, threading, time

SIZE_MIB = 1024
PROJECT_NUMBER = "123456789012"
APP_ID = f"1:{PROJECT_NUMBER}:web:0a1b2c3d4e5f"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def probable_prime(bits):
    while True:
        n = random.getrandbits(bits) | (1 << (bits - 1)) | 1
        if all(n % p for p in (3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)) and all(
                pow(random.randrange(2, n - 2), n - 1, n) == 1 for _ in range(8)):
            d, s = n - 1, 0
            while d % 2 == 0:
                d, s = d // 2, s + 1
            if all(miller_rabin(n, d, s) for _ in range(24)):
                return n


def miller_rabin(n, d, s):
    x = pow(random.randrange(2, n - 2), d, n)
    if x in (1, n - 1):
        return True
    for _ in range(s - 1):
        x = pow(x, 2, n)
        if x == n - 1:
            return True
    return False


def rsa_key():
    e = 65537
    while True:
        p, q = probable_prime(1024), probable_prime(1024)
        phi = (p - 1) * (q - 1)
        if p != q and math.gcd(e, phi) == 1 and (p * q).bit_length() == 2048:
            return p * q, e, pow(e, -1, phi)


def sign(key, message):
    """RSASSA-PKCS1-v1_5 with SHA-256."""
    n, _, d = key
    k = (n.bit_length() + 7) // 8
    info = bytes.fromhex("3031300d060960864801650304020105000420") + hashlib.sha256(message).digest()
    em = b"\x00\x01" + b"\xff" * (k - len(info) - 3) + b"\x00" + info
    return pow(int.from_bytes(em, "big"), d, n).to_bytes(k, "big")


def token(key, kid, project):
    now = int(time.time())
    header = b64(json.dumps({"alg": "RS256", "kid": kid, "typ": "JWT"}).encode())
    claims = {"iss": f"https://firebaseappcheck.googleapis.com/{PROJECT_NUMBER}", "sub": APP_ID,
              "aud": [f"projects/{PROJECT_NUMBER}", f"projects/{project}"], "iat": now, "exp": now + 3600}
    signed = f"{header}.{b64(json.dumps(claims).encode())}"
    return f"{signed}.{b64(sign(key, signed.encode()))}"


def jwks_server(key, kid):
    n, e, _ = key
    body = json.dumps({"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
                                 "n": b64(n.to_bytes(256, "big")), "e": b64(e.to_bytes(3, "big"))}]}).encode()
    fetches = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            fetches.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "public, max-age=21600")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, fetches


def timed_posts(port, path, body, headers, n, expect):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
        response = conn.getresponse()
        data = response.read()
        samples.append((time.perf_counter() - t) * 1e3)
        if response.status != expect:
            raise SystemExit(f"error: POST {path} answered {response.status}, not {expect}: {data[:200]!r}")
    conn.close()
    return statistics.median(samples)


def read_syscalls(pid):
    with open(f"/proc/{pid}/io") as f:
        return int(next(line for line in f if line.startswith("syscr")).split()[1])


def app_check(run, binary, env, n):
    key, kid = rsa_key(), secrets.token_hex(8)
    jwks, fetches = jwks_server(key, kid)
    project = env["FIREGATE_PROJECT_ID"]
    refused_early = json.dumps({"email": "nobody@example.com"})
    flags = ["--app-check", "sign-in=enforce", "--app-check-project-number", PROJECT_NUMBER,
             "--app-check-jwks-url", f"http://127.0.0.1:{jwks.server_address[1]}/v1/jwks"]
    headers = {"X-Firebase-AppCheck": token(key, kid, project)}
    base = run.Server([binary], env)
    checked = run.Server([binary], env, *flags)
    try:
        timed_posts(checked.port, "/login/", refused_early, headers, 20, 400)  # the keys fetched once
        rounds = [(timed_posts(base.port, "/login/", refused_early, {}, n, 400),
                   timed_posts(checked.port, "/login/", refused_early, headers, n, 400)) for _ in range(3)]
        timed_posts(checked.port, "/login/", refused_early, {}, 1, 401)  # enforced, to be sure
    finally:
        run.stop(base.proc), run.stop(checked.proc)
        jwks.shutdown()
    return {"baseline_ms": statistics.median(b for b, _ in rounds), "checked_ms": statistics.median(c for _, c in rounds),
            "added_ms": statistics.median(c - b for b, c in rounds), "jwks_fetches": len(fetches),
            "requests": 3 * n}


def sorted_file(path, size_mib):
    """`size_mib` MiB of sorted `SHA1HEX:COUNT` lines (evenly spread hashes, jittered), and a
    few of its hashes to look up."""
    lines = size_mib * 2**20 // 46
    step = 2**160 // lines
    rng = random.Random(7)
    picks = set(rng.sample(range(lines), 64))
    chosen = []
    with open(path, "w", newline="") as f:
        chunk = []
        for i in range(lines):
            h = f"{i * step + rng.randrange(step):040X}"
            if i in picks:
                chosen.append(h)
            chunk.append(f"{h}:{1 + i % 97}\r\n")
            if len(chunk) == 100_000:
                f.write("".join(chunk))
                chunk = []
        f.write("".join(chunk))
    return lines, chosen


def breached(run, binary, env, work, smoke, n):
    size = 2 if smoke else SIZE_MIB
    path = work / "pwnedpasswords.txt"
    lines, hashes = sorted_file(path, size)
    # A registration body whose password the file holds: a password is needed, not its hash,
    # so the file gets the SHA-1 of known passwords in place of some generated lines.
    passwords = [f"breached-{i}-{secrets.token_hex(4)}" for i in range(len(hashes))]
    replace = {h: hashlib.sha1(p.encode()).hexdigest().upper() for h, p in zip(hashes, passwords)}
    rewritten = work / "pwnedpasswords.sorted.txt"
    with open(path) as src, open(rewritten, "w", newline="") as dst:
        extra = sorted(f"{v}:42\r\n" for v in replace.values())
        merged = iter(sorted_merge(src, extra))
        for line in merged:
            dst.write(line)
    path.unlink()
    body = lambda p: json.dumps({"email": f"reg-{secrets.token_hex(4)}@example.com", "password": p})  # noqa: E731
    base = run.Server([binary], env, "--min-password-length", "12")
    checked = run.Server([binary], env, "--breached-check", "file", "--breached-file", str(rewritten))
    try:
        rss_before = run.memory(checked.proc.pid)["VmRSS"]
        base_ms, checked_ms, syscalls = [], [], []
        for i in range(n):
            base_ms.append(timed_posts(base.port, "/register/", body("short"), {}, 1, 400))
            before = read_syscalls(checked.proc.pid)
            checked_ms.append(timed_posts(checked.port, "/register/", body(passwords[i % len(passwords)]), {}, 1, 400))
            syscalls.append(read_syscalls(checked.proc.pid) - before)
        before = read_syscalls(base.proc.pid)
        timed_posts(base.port, "/register/", body("short"), {}, 1, 400)
        request_syscalls = read_syscalls(base.proc.pid) - before
        rss_after = run.memory(checked.proc.pid)["VmRSS"]
    finally:
        run.stop(base.proc), run.stop(checked.proc)
        rewritten.unlink()
    return {"file_mib": size, "lines": lines + len(passwords), "lookups": n,
            "added_ms": statistics.median(c - b for b, c in zip(base_ms, checked_ms)),
            "reads_per_lookup": statistics.median(syscalls) - request_syscalls,
            "log2_lines": math.log2(lines), "rss_before_mib": rss_before, "rss_after_mib": rss_after}


def sorted_merge(lines, extra):
    """The lines of the sorted file `lines` with the sorted `extra` merged in."""
    extra = list(extra)
    j = 0
    for line in lines:
        while j < len(extra) and extra[j] < line:
            yield extra[j]
            j += 1
        yield line
    yield from extra[j:]


def measure(run, binary, env, work, smoke):
    """Both measurements; `run` is the driver module (`Server`, `memory`, `stop`)."""
    return {"app_check": app_check(run, binary, env, 50 if smoke else 2000),
            "breached": breached(run, binary, env, work, smoke, 10 if smoke else 200)}


def rows(r):
    """The summary's rows."""
    a = r.get("abuse")
    if a is None:
        return []
    c, b = a["app_check"], a["breached"]
    return [("App Check verification added to a sign-in (warm key cache, "
             f"{c['jwks_fetches']} JWKS fetch in {c['requests']} requests)", c["added_ms"], "ms", 0.2,
             "limit 0.2 ms", "≤ 1"),
            (f"offline breached-password lookup added to a registration ({b['file_mib']:,} MiB file, "
             f"{b['lines']:,} lines; {b['reads_per_lookup']:.0f} reads, log2 n = {b['log2_lines']:.1f})",
             b["added_ms"], "ms", 1, "limit 1 ms", "≤ 1"),
            (f"RSS after {b['lookups']} offline lookups (before: {b['rss_before_mib']:.1f} MiB)",
             b["rss_after_mib"], "MiB", 8 + b["rss_before_mib"], "8 MiB over the server's RSS before", "≤ 1")]
