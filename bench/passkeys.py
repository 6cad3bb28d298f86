"""The passkey sign-in's rows of the benchmark (`bench/run.py` calls `measure` and `rows`).

A software authenticator in this process (a P-256 key that `openssl` makes and signs with,
`none` attestation and the COSE key in a small CBOR encoder) registers a passkey for a fresh
account with an ID token signed here (a stand-in of Google's securetoken certificates serves
the certificate, `--id-token-certs-url`), then signs in with it: `POST /passkeys/login/start/`, the assertion, `POST /passkeys/login/finish/`. Latency is
the two requests (the authenticator's signing between them is the client's), and CPU is
firegate's over the two: no memory-hard hash, so it should be the cheapest sign-in there is.
"""

import base64, hashlib, http.server, json, secrets, statistics, subprocess, threading, time

ORIGIN, RP_ID = "http://localhost", "localhost"
PASSWORD = "passkey bench passphrase"


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def cbor(value):
    """CBOR of ints, byte strings, text and maps: what an attestation object holds."""
    def head(major, n):
        if n < 24:
            return bytes([major << 5 | n])
        for size, code in ((1, 24), (2, 25), (4, 26), (8, 27)):
            if n < 256 ** size:
                return bytes([major << 5 | code]) + n.to_bytes(size, "big")
        raise ValueError(n)
    if isinstance(value, int):
        return head(0, value) if value >= 0 else head(1, -1 - value)
    if isinstance(value, bytes):
        return head(2, len(value)) + value
    if isinstance(value, str):
        return head(3, len(value.encode())) + value.encode()
    if isinstance(value, dict):
        return head(5, len(value)) + b"".join(cbor(k) + cbor(v) for k, v in value.items())
    raise TypeError(type(value))


class Authenticator:
    """One discoverable credential, user verified, with a signature counter."""

    def __init__(self, work):
        self.key = work / "passkey.pem"
        subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", self.key], check=True)
        der = subprocess.run(["openssl", "ec", "-in", self.key, "-pubout", "-outform", "DER"],
                             capture_output=True, check=True).stdout
        self.point = der[-65:]  # the SubjectPublicKeyInfo ends with the uncompressed point
        self.id, self.handle, self.counter = secrets.token_bytes(16), b"", 0

    def client_data(self, kind, options):
        return json.dumps({"type": kind, "challenge": options["challenge"], "origin": ORIGIN,
                           "crossOrigin": False}).encode()

    def create(self, options):
        options = options["publicKey"]
        self.handle = unb64u(options["user"]["id"])
        cose = cbor({1: 2, 3: -7, -1: 1, -2: self.point[1:33], -3: self.point[33:65]})
        auth_data = (hashlib.sha256(RP_ID.encode()).digest() + bytes([0x45]) + (0).to_bytes(4, "big")
                     + bytes(16) + len(self.id).to_bytes(2, "big") + self.id + cose)
        attestation = cbor({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {"id": b64u(self.id), "rawId": b64u(self.id), "type": "public-key", "extensions": {},
                "response": {"attestationObject": b64u(attestation),
                             "clientDataJSON": b64u(self.client_data("webauthn.create", options)),
                             "transports": ["internal"]}}

    def get(self, options):
        options = options["publicKey"]
        self.counter += 1
        client_data = self.client_data("webauthn.get", options)
        auth_data = hashlib.sha256(RP_ID.encode()).digest() + bytes([0x05]) + self.counter.to_bytes(4, "big")
        signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.key],
                                   input=auth_data + hashlib.sha256(client_data).digest(),
                                   capture_output=True, check=True).stdout
        return {"id": b64u(self.id), "rawId": b64u(self.id), "type": "public-key", "extensions": {},
                "response": {"authenticatorData": b64u(auth_data), "clientDataJSON": b64u(client_data),
                             "signature": b64u(signature), "userHandle": b64u(self.handle)}}


def call(server, path, body, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    server.conn.request("POST", path, body=json.dumps(body), headers=headers)
    response = server.conn.getresponse()
    answer = json.loads(response.read() or b"null")
    if response.status != 200:
        raise SystemExit(f"error: {path} answered {response.status}: {answer}")
    return answer


class Securetoken(http.server.ThreadingHTTPServer):
    """Google's securetoken certificate URL, stood in: one RSA key, its certificate as JSON."""

    def __init__(self, work):
        self.key, cert = work / "securetoken.pem", work / "securetoken.crt"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", self.key,
                        "-out", cert, "-days", "1", "-subj", "/CN=securetoken"], check=True, capture_output=True)
        self.body = json.dumps({"bench": cert.read_text()}).encode()
        super().__init__(("127.0.0.1", 0), CertHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/certs"

    def id_token(self, project, uid):
        """A signed ID token of a custom-token sign-in now."""
        now = int(time.time())
        claims = {"iss": f"https://securetoken.google.com/{project}", "aud": project, "sub": uid, "user_id": uid,
                  "iat": now, "exp": now + 3600, "auth_time": now,
                  "firebase": {"sign_in_provider": "custom", "identities": {}}}
        header = {"alg": "RS256", "kid": "bench", "typ": "JWT"}
        signed = f"{b64u(json.dumps(header).encode())}.{b64u(json.dumps(claims).encode())}"
        signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.key], input=signed.encode(),
                                   capture_output=True, check=True).stdout
        return f"{signed}.{b64u(signature)}"


class CertHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "public, max-age=3600")
        self.send_header("Content-Length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)

    def log_message(self, *_):
        pass


def measure(run, binary, env, work, n):
    """`n` passkey sign-ins after a few uncounted ones; `run` is the driver module (its
    `Server`, `firegate`, `cpu_seconds`, `stats` and `stop`)."""
    login = f"bench-passkey-{secrets.token_hex(3)}@example.com"
    uid = run.firegate(binary, env, "accounts", "create", "--login", login, stdin=PASSWORD + "\n").strip()
    securetoken = Securetoken(work)
    # ID tokens for the Firestore project, whatever the key's project is.
    server = run.Server([binary], env, "--webauthn-rp-id", RP_ID, "--webauthn-origin", ORIGIN,
                        "--id-token-certs-url", securetoken.url, "--id-token-project", env["FIREGATE_PROJECT_ID"])
    try:
        authenticator = Authenticator(work)
        token = securetoken.id_token(env["FIREGATE_PROJECT_ID"], uid)
        start = call(server, "/passkeys/register/start/", {}, token)
        call(server, "/passkeys/register/finish/",
             {"ceremony": start["ceremony"], "credential": authenticator.create(start)}, token)
        latency, cpu = [], []
        for i in range(n + 5):
            cpu_before, t = run.cpu_seconds(server.proc.pid), time.perf_counter()
            start = call(server, "/passkeys/login/start/", {})
            held = time.perf_counter() - t
            cpu_start = run.cpu_seconds(server.proc.pid) - cpu_before
            assertion = authenticator.get(start)
            cpu_before, t = run.cpu_seconds(server.proc.pid), time.perf_counter()
            answer = call(server, "/passkeys/login/finish/", {"ceremony": start["ceremony"], "credential": assertion})
            held += time.perf_counter() - t
            if answer.get("uid") != uid:
                raise SystemExit(f"error: a passkey sign-in answered {answer}")
            if i >= 5:
                latency.append(held * 1e3)
                cpu.append((cpu_start + run.cpu_seconds(server.proc.pid) - cpu_before) * 1e3)
    finally:
        run.stop(server.proc)
        securetoken.shutdown()
    # CPU is read in clock ticks (10 ms): the mean over many sign-ins, not a median of ticks.
    return {"latency": run.stats(latency), "cpu_ms": statistics.fmean(cpu)}


def rows(r):
    """The summary's rows: a passkey sign-in beside a warm argon2id password sign-in."""
    p, warm = r.get("passkeys"), r["warm"]
    if p is None:
        return []
    return [("passkey sign-in, warm p50 (start + finish: two requests)",
             p["latency"]["p50"], "ms", warm["p50"], f"a warm argon2id password sign-in ({warm['p50']:.1f} ms)",
             "none set"),
            ("firegate CPU per passkey sign-in", p["cpu_ms"], "ms", warm["cpu_ms"],
             f"an argon2id password sign-in's ({warm['cpu_ms']:.1f} ms)", "< 0.25")]
