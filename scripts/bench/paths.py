#!/usr/bin/env python3
"""The benchmark's newer paths, each against a local stand-in with a fixed added latency,
reporting what firegate adds beyond it (standard library only):

- the Firebase Auth bridge (`--firebase-auth mirror|graduate`) against an Identity Toolkit
  stand-in (scripts/bench/google_standin.py, `IdentityStandIn`), reached the production way:
  `--identity-toolkit-url` and an access token from the metadata server (GCE_METADATA_HOST,
  the same stand-in), not the Auth emulator's `FIREBASE_AUTH_EMULATOR_HOST` path;
- password reset (`POST /password-reset/` and `POST /password-reset/confirm/`) with mail
  going to a Firestore collection (`--mail-url firestore:COLLECTION`, the Trigger Email
  extension's format), against the Firestore emulator.

Every sign-in, confirmation and request is counted call by call at the stand-in and checked
against what the code says it makes (src/service/bridge/hooks.rs, src/service/bridge/mod.rs):
a path that makes a call it should not, or misses one, stops the run with an error.

`paths(run, emulator, keys_dir, workdir, cold_runs)` measures (`run` is run.py's module, its
emulator and key directory); `paths_report(result, command)` writes the markdown. Standalone:

    python3 scripts/bench/paths.py [--bin target/release] [--cold-runs 11] [--output FILE]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import http.client
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

LATENCY_MS = 20.0  # as run.py's SIGNER_LATENCY_MS
WARMUP = 20
WARM_N = 200
IDLE_S = 3
FLOOR_MS = 500  # --failure-floor-ms, its default, set explicitly below
MAIL_COLLECTION = "bench_paths_mail"
# The mail task's steps, each one Firestore round trip but the last (src/service/reset.rs
# send_reset and send_link, src/store/tokens.rs).
MAIL_STEPS = [
    ("login", "login-index document read"),
    ("account", "account document read"),
    ("allowance", "mail allowance read and written"),
    ("token", "token document written"),
    ("mail", "mail document written"),
    ("sent", "\"password reset mail sent\" logged"),
]
QUEUE_COLLECTION = "firegate_firebase_queue"  # --firebase-queue-collection's default
PUBLIC_URL = "http://bench.invalid"
NEW_PASSWORD = "a password chosen by mail"
FIREBASE_PASSWORD = "a password changed inside Firebase"
# The servers and the CLI hash with the same cheap argon2id (so no sign-in rehashes): the
# bridge's calls are then a visible part of a sign-in.
CHEAP_ARGON2 = {"FIREGATE_ARGON2_MEMORY_KIB": "1024", "FIREGATE_ARGON2_ITERATIONS": "1"}

# What each path calls, by Identity Toolkit method (from the code; checked per request).
EXPECT = {
    "off": {},
    "mirror_warm": {},
    "mirror_first": {"accounts": 1},
    "graduate_warm": {"accounts:lookup": 1},
    "graduate_first": {"accounts": 1, "accounts:lookup": 1},
    "graduate_first_mirrored": {"accounts:update": 1, "accounts:lookup": 1},
    "graduate_second": {"accounts:lookup": 1},
    "graduate_changed_new": {"accounts:signInWithPassword": 1, "accounts:lookup": 1},
    "graduate_changed_old": {"accounts:lookup": 1, "accounts:signInWithPassword": 1},
    "graduate_changed_after": {"accounts:lookup": 1},
    "reset_request": {},
    "confirm_off": {},
    "confirm_mirror": {"accounts:update": 1},
    "confirm_graduate": {"accounts:update": 1, "accounts:lookup": 1},
    "after_confirm_mirror": {},
    "after_confirm_graduate": {"accounts:lookup": 1},
}
SHORT = {"accounts": "create", "accounts:update": "update", "accounts:lookup": "lookup",
         "accounts:delete": "delete", "accounts:batchCreate": "batchCreate",
         "accounts:signInWithPassword": "signInWithPassword", "other": "other"}


def log(message: str) -> None:
    print(f"[paths {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def fail(message: str) -> None:
    sys.exit(f"error: {message}")


def calls_text(calls: dict[str, float]) -> str:
    """{"accounts:lookup": 1} → "lookup 1"; nothing → "0"."""
    if not calls:
        return "0"
    return ", ".join(f"{SHORT.get(m, m)} {n:g}" for m, n in sorted(calls.items()))


# ---------------------------------------------------------------------------------------------
# Clients


class Client:
    """One keep-alive connection to a firegate server; every request is timed."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def post(self, path: str, body: dict) -> tuple[int, float, bytes]:
        data = json.dumps(body).encode()
        t = time.perf_counter_ns()
        self.conn.request("POST", path, body=data, headers={"Content-Type": "application/json"})
        response = self.conn.getresponse()
        out = response.read()
        return response.status, (time.perf_counter_ns() - t) / 1e6, out

    def close(self) -> None:
        self.conn.close()


class Firestore:
    """Reads of the emulator's documents over REST on one keep-alive connection (owner token,
    so no security rules apply)."""

    def __init__(self, run, emulator):
        self.conn = http.client.HTTPConnection(emulator.host, timeout=30)
        self.docs = f"/v1/projects/{run.PROJECT}/databases/(default)/documents"

    def _call(self, method: str, path: str, body: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": "Bearer owner"}
        if data:
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        text = response.read()
        if response.status != 200:
            fail(f"{method} {path} on the Firestore emulator answered {response.status}: "
                 f"{text[:300]!r}")
        return json.loads(text)

    def mail_to(self, email: str) -> dict | None:
        """The mail document addressed to `email`, if any (a runQuery on `to`)."""
        query = {"structuredQuery": {
            "from": [{"collectionId": MAIL_COLLECTION}],
            "where": {"fieldFilter": {"field": {"fieldPath": "to"}, "op": "EQUAL",
                                      "value": {"stringValue": email}}}}}
        for row in self._call("POST", f"{self.docs}:runQuery", query):
            if "document" in row:
                return row["document"]["fields"]
        return None

    def count(self, collection: str) -> int:
        return len(self._call("GET", f"{self.docs}/{collection}?pageSize=300").get("documents", []))

    def close(self) -> None:
        self.conn.close()


def reset_token(mail: dict) -> str:
    text = mail["message"]["mapValue"]["fields"]["text"]["stringValue"]
    found = re.search(rf"^{re.escape(PUBLIC_URL)}/password-reset/#token=([A-Za-z0-9_-]{{43}})$",
                      text, re.M)
    if not found:
        fail(f"no reset link in the mail:\n{text}")
    return found.group(1)


# ---------------------------------------------------------------------------------------------
# Measuring


def sign_in(login: str, password: str, status: int = 200) -> tuple[str, dict, int]:
    return "/login/", {"email": login, "password": password}, status


def confirmation(token: str) -> tuple[str, dict, int]:
    return "/password-reset/confirm/", {"token": token, "new_password": NEW_PASSWORD}, 204


class Paths:
    """The measurements of one run: the stand-in, the environments, the accounts."""

    def __init__(self, run, emulator, keys_dir: Path, workdir: Path, n: int):
        sys.path.insert(0, str(HERE))
        from google_standin import IdentityStandIn

        self.run, self.emulator, self.workdir, self.n = run, emulator, workdir, n
        self.standin = IdentityStandIn(LATENCY_MS, run.PROJECT)
        home = workdir / "paths-home"  # no gcloud file: ADC is the metadata server
        home.mkdir(exist_ok=True)
        base = dict(run.server_env(emulator, keys_dir), FIREGATE_PROJECT_ID=run.PROJECT,
                    FIREGATE_FAILURE_FLOOR_MS=str(FLOOR_MS))
        for name in ("GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_CONFIG",
                     "FIREBASE_AUTH_EMULATOR_HOST", "GCE_METADATA_HOST"):
            base.pop(name, None)
        self.default_env = base  # default argon2id, bridge off
        base = dict(base, **CHEAP_ARGON2)
        self.cli_env = base  # bridge off: accounts start unmirrored
        mail = {"FIREGATE_MAIL_URL": f"firestore:{MAIL_COLLECTION}",
                "FIREGATE_PUBLIC_URL": PUBLIC_URL}
        bridge = self.standin.env(str(home))
        self.env = {
            "off": dict(base, **mail),
            "mirror": dict(base, **mail, **bridge, FIREGATE_FIREBASE_AUTH="mirror"),
            "graduate": dict(base, **mail, **bridge, FIREGATE_FIREBASE_AUTH="graduate"),
        }
        self.uids: dict[str, str] = {}
        self.firestore = Firestore(run, emulator)

    # Accounts

    def create(self, logins: list[str]) -> None:
        """`firegate accounts create` per login (8 at once), bridge off: the email's state
        is unknown, as for imported accounts, so graduation may take them."""
        def one(login: str) -> tuple[str, str]:
            out = self.run.cli(self.cli_env, "accounts", "create", "--login", login,
                               stdin=self.run.ARGON2_PASSWORD + "\n")
            return login, out.strip()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            for login, uid in pool.map(one, logins):
                if not uid:
                    fail(f"accounts create {login} printed no uid")
                self.uids[login] = uid

    # Requests, counted

    def counted(self, what: str, client: Client, request: tuple[str, dict, int]) -> float:
        """One request: its time, with the stand-in calls it made checked against
        EXPECT[what]. firegate makes a path's calls before it answers, and requests go one
        at a time, so the calls between two counts are the request's own."""
        path, body, status = request
        before = self.standin.counts()
        got, ms, data = client.post(path, body)
        calls = self.standin.since(before)
        if got != status:
            fail(f"{what}: {path} for {body.get('email', 'a token')} answered {got} "
                 f"(expected {status}): {data[:300]!r}")
        if calls != EXPECT[what]:
            fail(f"{what}: {path} for {body.get('email', 'a token')} made the Identity Toolkit "
                 f"calls {calls}, expected {EXPECT[what]}")
        return ms

    def many(self, what: str, client: Client, requests: list) -> list[float]:
        return [self.counted(what, client, q) for q in requests]

    def paired(self, what: str, client: Client, requests: list, base_what: str,
               base_client: Client, base_requests: list) -> dict:
        """The path's requests and the baseline's, alternated one by one (baseline first), so
        the machine's load weighs on both alike. Returns both summaries and the calls of one
        request of the path (each was checked)."""
        base, path = [], []
        for b, q in zip(base_requests, requests, strict=True):
            base.append(self.counted(base_what, base_client, b))
            path.append(self.counted(what, client, q))
        return {"base": self.run.summary(base), "path": self.run.summary(path),
                "calls": dict(EXPECT[what])}

    def warm(self, what: str, client: Client, login: str, base_client: Client,
             base_login: str) -> dict:
        """WARMUP untimed sign-ins on each server, then WARM_N timed ones alternated."""
        pw = self.run.ARGON2_PASSWORD
        for _ in range(WARMUP):
            self.counted("off", base_client, sign_in(base_login, pw))
            self.counted(what, client, sign_in(login, pw))
        return self.paired(what, client, [sign_in(login, pw)] * WARM_N, "off", base_client,
                           [sign_in(base_login, pw)] * WARM_N)

    def idle(self, what: str) -> None:
        """No call while the servers idle (the retry queue is drained every 30 s, the
        first time at start)."""
        before = self.standin.counts()
        time.sleep(IDLE_S)
        calls = self.standin.since(before)
        if calls:
            fail(f"{what}: {calls} Identity Toolkit calls while idle for {IDLE_S} s")

    # Password reset

    def request_reset(self, client: Client, login: str) -> dict:
        """`POST /password-reset/` for `login`: the answer's time, the wall clock when it was
        sent (the mail task is timed from firegate's log, `mail_steps`) and the token of
        the mailed link, read once the answer is in (nothing polls Firestore meanwhile)."""
        before = self.standin.counts()
        wall0 = time.time_ns()
        status, ms, data = client.post("/password-reset/", {"email": login})
        calls = self.standin.since(before)
        if status != 202:
            fail(f"reset request for {login} answered {status}: {data[:300]!r}")
        if calls != EXPECT["reset_request"]:
            fail(f"a reset request made Identity Toolkit calls {calls}")
        reader = Firestore(self.run, self.emulator)
        try:
            deadline = time.monotonic() + 10
            while (mail := reader.mail_to(login)) is None:
                if time.monotonic() > deadline:
                    fail(f"no mail to {login} in {MAIL_COLLECTION} within 10 s")
                time.sleep(0.01)
        finally:
            reader.close()
        return {"answer_ms": ms, "wall0_ns": wall0, "token": reset_token(mail)}

    def tokens(self, server, logins: list[str]) -> dict[str, str]:
        """Reset links for `logins`, asked for 4 at a time (untimed; no call may be made)."""
        def one(login: str) -> tuple[str, str]:
            client = Client(server.port)
            try:
                return login, self.request_reset(client, login)["token"]
            finally:
                client.close()
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            return dict(pool.map(one, logins))

    def mail_steps(self, logfile: Path, requests: dict[str, dict]) -> dict:
        """From the log of a server with `firestore::db=debug` (one request at a time): when
        each step of the mail task ended, in ms after the request was sent (wall clocks of
        one machine), median per step, and the total ("password reset mail sent")."""
        events = []
        for line in logfile.read_text().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if "time" in entry:
                events.append((self.run.log_time_ns(entry["time"]), entry))
        starts = sorted((r["wall0_ns"], login) for login, r in requests.items())
        steps: dict[str, list[float]] = {k: [] for k, _ in MAIL_STEPS}
        for i, (wall0, login) in enumerate(starts):
            until = starts[i + 1][0] if i + 1 < len(starts) else float("inf")
            uid, tokens = self.uids[login], 0
            found = {}
            for t, e in events:
                if not wall0 <= t < until:
                    continue
                message, path = e.get("message"), e.get("document_path", "")
                key = None
                if message == "Read document." and path.endswith(f"/firegate_logins/{login}"):
                    key = "login"
                elif message == "Read document." and path.endswith(f"/firegate_accounts/{uid}"):
                    key = "account"
                elif message == "Updated the document." and e.get("collection_id") == "firegate_tokens":
                    tokens += 1
                    key = "allowance" if tokens == 1 else "token"
                elif message == "Updated the document." and e.get("collection_id") == MAIL_COLLECTION:
                    key = "mail"
                elif message == "password reset mail sent" and e.get("uid") == uid:
                    key = "sent"
                if key and key not in found:
                    found[key] = (t - wall0) / 1e6
            if set(found) != set(steps):
                fail(f"the mail of {login}: found only the steps {sorted(found)} in {logfile}")
            for key in steps:
                steps[key].append(found[key])
        return {key: self.run.summary(v) for key, v in steps.items()}

    def firestore_round_trip(self) -> dict:
        """A Firestore read as firegate makes it (gRPC), from its own log: run.py's
        server_components on its argon2id account (default parameters; created when this
        runs alone)."""
        env = self.default_env
        shown = subprocess.run([str(self.run.BINARY), "accounts", "show", "--login", self.run.ARGON2_LOGIN],
                               env=env, capture_output=True, text=True)
        if shown.returncode != 0:
            self.run.cli(env, "accounts", "create", "--login", self.run.ARGON2_LOGIN,
                         "--login", "benchargon2", "--uid", "bench-argon2",
                         stdin=self.run.ARGON2_PASSWORD + "\n")
        return self.run.server_components(env, self.workdir / "paths-components.log", 100)["read"]

    # Checks of the stand-in's state

    def check_user(self, login: str, password: str | None, mirrored_only: bool = False) -> dict:
        user = self.standin.user(self.uids[login])
        if user is None or user.get("email") != login:
            fail(f"the Firebase user of {login} is {user}")
        if mirrored_only and "passwordHash" in user:
            fail(f"mirror mode set a password on the Firebase user of {login}")
        if password and self.standin.check_password(login, password) != self.uids[login]:
            fail(f"signInWithEmailAndPassword({login}) would fail after graduation")
        return user

    def check_queue(self) -> None:
        queued = self.firestore.count(QUEUE_COLLECTION)
        if queued:
            fail(f"{queued} Firebase Auth writes were queued for a retry ({QUEUE_COLLECTION})")


def listening_ms(run, logfile: Path, wall0_ns: int) -> float:
    """When the cold start that began at `wall0_ns` logged `listening` (the recorded key
    state read; the server serves from before, and only a token waits for it)."""
    found = None
    for line in logfile.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("message") == "listening" and "time" in entry:
            t = run.log_time_ns(entry["time"])
            if t >= wall0_ns:
                found = (t - wall0_ns) / 1e6
    if found is None:
        fail(f"no `listening` event of the cold start in {logfile}")
    return found


def accounts(tag: str, kind: str, count: int) -> list[str]:
    return [f"paths-{tag}-{kind}-{i:03d}@example.com" for i in range(count)]


def paths(run, emulator, keys_dir: Path, workdir: Path, cold_runs: int) -> dict:
    """The bridge (mirror, graduate) and password reset, each against a stand-in with a fixed
    latency, with the same account kind on a `--firebase-auth off` server as the baseline: that
    server runs throughout, and its requests alternate with the path's. `cold_runs` is the
    number of samples of every once-per-account figure (first sign-ins, resets) and of cold
    starts. Exits with an error when a request makes other calls than EXPECT says."""
    n = max(cold_runs, 3)
    p = Paths(run, emulator, keys_dir, workdir, n)
    standin, pw = p.standin, run.ARGON2_PASSWORD
    r: dict = {"latency_ms": LATENCY_MS, "n": n, "warm_n": WARM_N, "warmup": WARMUP,
               "floor_ms": FLOOR_MS, "binary": str(run.BINARY), "commit": run.commit(),
               "idle_s": IDLE_S,
               "argon2": "m=1024 KiB, t=1, p=1", "load": {"start": os.getloadavg()}}
    tag = secrets.token_hex(3)  # so a second call on the same emulator finds new logins
    sets = {k: accounts(tag, k, count) for k, count in (
        ("off-warm", 1), ("off-first-m", n), ("off-first-g", n), ("off-first-gm", n),
        ("off-first-c", n), ("off-reset", n), ("off-reset-m", n), ("off-reset-g", n),
        ("mirror-warm", 1), ("mirror-first", n), ("mirror-reset", n),
        ("grad-warm", 1), ("grad-first", n), ("grad-mirrored", n), ("grad-changed", n + 1),
        ("grad-reset", n))}
    off_server = None
    try:
        log(f"creating {sum(map(len, sets.values()))} accounts (argon2id m=1024 KiB, t=1)")
        p.create([login for logins in sets.values() for login in logins])
        off_warm = sets["off-warm"][0]

        # Reset requests on a server of their own that logs its Firestore calls (debug), so
        # the mail task's steps can be timed; the baseline server logs at info.
        log("off: password-reset requests (Firestore calls logged)")
        mail_log = workdir / "paths-off-mail.log"
        server = run.Server(dict(p.env["off"], RUST_LOG="info,firestore::db=debug"), mail_log)
        try:
            c = Client(server.port)
            for _ in range(WARMUP):
                p.counted("off", c, sign_in(off_warm, pw))
            requests = {login: p.request_reset(c, login) for login in sets["off-reset"]}
            c.close()
        finally:
            server.stop()
        log("off: reset confirmations against warm sign-ins")
        off_server = run.Server(p.env["off"], workdir / "paths-off.log")
        off = Client(off_server.port)
        for _ in range(WARMUP):
            p.counted("off", off, sign_in(off_warm, pw))
        reset = {
            "answer": run.summary([q["answer_ms"] for q in requests.values()]),
            "mail_steps": p.mail_steps(mail_log, requests),
            "confirm_off": p.paired("confirm_off", off, [confirmation(requests[l]["token"])
                                                         for l in sets["off-reset"]],
                                    "off", off, [sign_in(off_warm, pw)] * n),
        }
        p.many("off", off, [sign_in(l, NEW_PASSWORD) for l in sets["off-reset"]])
        r["reset"] = reset

        # mirror.
        log("mirror: first sign-ins (one create each), warm sign-ins (no call), reset "
            "confirmations")
        server = run.Server(p.env["mirror"], workdir / "paths-mirror.log")
        try:
            c = Client(server.port)
            meta0 = standin.metadata_calls
            m: dict = {}
            p.counted("mirror_first", c, sign_in(sets["mirror-warm"][0], pw))
            m["warm"] = p.warm("mirror_warm", c, sets["mirror-warm"][0], off, off_warm)
            m["first"] = p.paired("mirror_first", c, [sign_in(l, pw) for l in sets["mirror-first"]],
                                  "off", off, [sign_in(l, pw) for l in sets["off-first-m"]])
            for login in sets["mirror-first"]:
                p.check_user(login, None, mirrored_only=True)
            # Mirrored now, graduated later; and the accounts whose resets are confirmed here.
            p.many("mirror_first", c, [sign_in(l, pw) for l in
                                       sets["grad-mirrored"] + sets["mirror-reset"]])
            tokens = p.tokens(server, sets["mirror-reset"])
            base_tokens = p.tokens(off_server, sets["off-reset-m"])
            valid_since = {l: p.check_user(l, None)["validSince"] for l in sets["mirror-reset"]}
            time.sleep(1.1)  # validSince is in seconds
            reset["confirm_mirror"] = p.paired(
                "confirm_mirror", c, [confirmation(tokens[l]) for l in sets["mirror-reset"]],
                "confirm_off", off, [confirmation(base_tokens[l]) for l in sets["off-reset-m"]])
            for login in sets["mirror-reset"]:
                user = p.check_user(login, None, mirrored_only=True)
                if int(user["validSince"]) <= int(valid_since[login]):
                    fail(f"the reset of {login} did not end its Firebase sessions (validSince)")
            p.many("after_confirm_mirror", c, [sign_in(l, NEW_PASSWORD)
                                               for l in sets["mirror-reset"]])
            m["metadata_calls"] = standin.metadata_calls - meta0
            c.close()
            p.idle("mirror")
        finally:
            server.stop()
        r["mirror"] = m

        # graduate.
        log("graduate: graduations, warm sign-ins (one lookup each), a password changed in "
            "Firebase, reset confirmations")
        server = run.Server(p.env["graduate"], workdir / "paths-graduate.log")
        try:
            c = Client(server.port)
            meta0 = standin.metadata_calls
            g: dict = {}
            p.counted("graduate_first", c, sign_in(sets["grad-warm"][0], pw))
            g["warm"] = p.warm("graduate_warm", c, sets["grad-warm"][0], off, off_warm)
            g["first"] = p.paired("graduate_first", c, [sign_in(l, pw) for l in sets["grad-first"]],
                                  "off", off, [sign_in(l, pw) for l in sets["off-first-g"]])
            g["second"] = p.paired("graduate_second", c,
                                   [sign_in(l, pw) for l in sets["grad-first"]],
                                   "off", off, [sign_in(l, pw) for l in sets["off-first-g"]])
            g["first_mirrored"] = p.paired(
                "graduate_first_mirrored", c, [sign_in(l, pw) for l in sets["grad-mirrored"]],
                "off", off, [sign_in(l, pw) for l in sets["off-first-gm"]])
            for login in sets["grad-first"] + sets["grad-mirrored"]:
                p.check_user(login, pw)
            # A password changed inside Firebase Auth: the old one stops working here, the
            # new one works and firegate's copy follows.
            changed = sets["grad-changed"]
            p.many("graduate_first", c, [sign_in(l, pw) for l in changed])
            for login in changed:
                standin.change_password(p.uids[login], FIREBASE_PASSWORD)
            refused = p.counted("graduate_changed_old", c, sign_in(changed[0], pw, 400))
            g["changed_old_ms"] = refused
            g["changed_new"] = p.paired(
                "graduate_changed_new", c, [sign_in(l, FIREBASE_PASSWORD) for l in changed[1:]],
                "off", off, [sign_in(l, pw) for l in sets["off-first-c"]])
            g["changed_after"] = p.paired(
                "graduate_changed_after", c, [sign_in(l, FIREBASE_PASSWORD) for l in changed[1:]],
                "off", off, [sign_in(l, pw) for l in sets["off-first-c"]])
            # Reset confirm: the new password moves to Firebase Auth.
            p.many("graduate_first", c, [sign_in(l, pw) for l in sets["grad-reset"]])
            tokens = p.tokens(server, sets["grad-reset"])
            base_tokens = p.tokens(off_server, sets["off-reset-g"])
            reset["confirm_graduate"] = p.paired(
                "confirm_graduate", c, [confirmation(tokens[l]) for l in sets["grad-reset"]],
                "confirm_off", off, [confirmation(base_tokens[l]) for l in sets["off-reset-g"]])
            for login in sets["grad-reset"]:
                p.check_user(login, NEW_PASSWORD)
            p.many("after_confirm_graduate", c, [sign_in(l, NEW_PASSWORD)
                                                 for l in sets["grad-reset"]])
            g["metadata_calls"] = standin.metadata_calls - meta0
            c.close()
            p.idle("graduate")
        finally:
            server.stop()
        r["graduate"] = g
        off.close()
        off_server.stop()
        off_server = None
        p.check_queue()

        # Cold starts: exec → first sign-in of an up-to-date (mirror) or graduated account,
        # the three modes in turn.
        log(f"cold starts: {cold_runs} counted runs each, off / mirror / graduate in turn")
        modes = (("off", off_warm, "off"), ("mirror", sets["mirror-warm"][0], "mirror_warm"),
                 ("graduate", sets["grad-warm"][0], "graduate_warm"))
        cold: dict = {mode: {"done": [], "accept": [], "listening": [], "metadata_calls": []}
                      for mode, _, _ in modes}
        for i in range(cold_runs + 1):  # run 0 warms the page cache, not counted
            for mode, login, what in modes:
                logfile = workdir / f"paths-cold-{mode}.log"
                request = run.http_request("POST", "/login/", run.login_body(login, pw))
                before, meta0 = standin.counts(), standin.metadata_calls
                out = run.cold_run(p.env[mode], request, logfile)
                calls = standin.since(before)
                if out["status"] != 200:
                    fail(f"a cold sign-in with --firebase-auth {mode} answered "
                         f"{out['status']}; see {logfile}")
                if calls != EXPECT[what]:
                    fail(f"a cold sign-in with --firebase-auth {mode} made {calls}")
                if i > 0:
                    cold[mode]["done"].append(out["done_ms"])
                    cold[mode]["accept"].append(out["accept_ms"])
                    cold[mode]["listening"].append(listening_ms(run, logfile, out["wall0_ns"]))
                    cold[mode]["metadata_calls"].append(standin.metadata_calls - meta0)
                time.sleep(0.05)
        for mode in cold:
            cold[mode]["done"] = run.summary(cold[mode]["done"])
            cold[mode]["accept"] = run.summary(cold[mode]["accept"])
            cold[mode]["listening"] = run.summary(cold[mode]["listening"])
        r["cold"] = cold

        log("a Firestore round trip as firegate sees it (run.py's server_components)")
        r["firestore_read"] = p.firestore_round_trip()
        r["calls_total"] = standin.counts()
        r["metadata_calls_total"] = standin.metadata_calls
        if standin.refused_auth:
            fail(f"{standin.refused_auth} admin calls came without the metadata server's token")
        if standin.metadata_unknown:
            fail(f"metadata requests the stand-in cannot answer: {standin.metadata_unknown}")
        if r["calls_total"]["other"]:
            fail(f"{r['calls_total']['other']} calls to methods firegate does not use")
        r["load"]["end"] = os.getloadavg()
    finally:
        if off_server:
            off_server.stop()
        standin.stop()
        p.firestore.close()
    return r


# ---------------------------------------------------------------------------------------------
# Report


def ms(s: dict) -> str:
    return f"{s['median']:.1f} ms"


def left(pair: dict, latency_ms: float) -> str:
    """A path's median less its baseline's less the stand-in's latency per call."""
    beyond = (pair["path"]["median"] - pair["base"]["median"]
              - latency_ms * sum(pair["calls"].values()))
    return f"{beyond:+.1f} ms"


def summary_rows(p: dict) -> list[tuple[str, ...]]:
    """The bridge's and password reset's rows of the new-paths summary (run.py's
    `paths_summary`): (path, measured, baseline, calls, what firegate adds)."""
    lat, mirror, grad, reset = p["latency_ms"], p["mirror"], p["graduate"], p["reset"]

    def row(label: str, pair: dict, base: str) -> tuple[str, ...]:
        return (label, ms(pair["path"]), f"{ms(pair['base'])} ({base})",
                calls_text(pair["calls"]), left(pair, lat))

    return [
        row("mirror, warm sign-in of an account in step", mirror["warm"], "bridge off"),
        row("mirror, an account's first sign-in", mirror["first"], "bridge off"),
        row("graduate, warm sign-in of a graduated account", grad["warm"], "bridge off"),
        row("graduate, an account's first sign-in (graduation)", grad["first"], "bridge off"),
        ("password-reset request answered", ms(reset["answer"]),
         f"{p['floor_ms']} ms (the failure floor)", "0",
         f"{reset['answer']['median'] - p['floor_ms']:+.1f} ms"),
        row("password-reset confirmation", reset["confirm_off"], "a warm sign-in"),
    ]


def paths_report(p: dict, command: str) -> str:
    """The markdown section: one table per path (the figure, its baseline measured alongside,
    the calls per request by Identity Toolkit method, and what is left beyond the baseline and
    the stand-in's latency)."""
    lat, n = p["latency_ms"], p["n"]
    mirror, grad, reset, cold = p["mirror"], p["graduate"], p["reset"], p["cold"]
    mail = reset["mail_steps"]

    def row(label: str, pair: dict, p90: bool = False) -> list[str]:
        out = [f"| {label} | {ms(pair['base'])} | {ms(pair['path'])} | "
               f"{calls_text(pair['calls'])} | {left(pair, lat)} |"]
        if p90:
            out.append(f"| … p90 | {pair['base']['p90']:.1f} ms | {pair['path']['p90']:.1f} ms "
                       "| | |")
        return out

    def cold_pair(mode: str, what: str) -> dict:
        return {"base": cold["off"]["done"], "path": cold[mode]["done"], "calls": EXPECT[what]}

    first = f"median of {n}, a different account each"
    warm = f"p50 of {p['warm_n']} sequential"
    head = ["| figure | `--firebase-auth off` | {} | Identity Toolkit calls (each request) | "
            "left beyond off and the stand-in |", "|---|---|---|---|---|"]
    load = p["load"]
    out = [
        "# New paths: the Firebase Auth bridge and password reset",
        "",
        f"Command: `{command}`. Commit {p['commit']}. Generated "
        f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC. Binary: `{p['binary']}`. Load average (1 min) {load['start'][0]:.2f} at the start, "
        f"{load.get('end', load['start'])[0]:.2f} at the end.",
        "",
        "Identity Toolkit is a local stand-in (`scripts/bench/google_standin.py`, "
        f"`IdentityStandIn`) that adds {lat:.0f} ms to every call and keeps its users in "
        "memory. firegate reaches it the production way: `--identity-toolkit-url` and an "
        "access token from the metadata server (`GCE_METADATA_HOST`, answered at once by the "
        "same stand-in), not the Auth emulator's `FIREBASE_AUTH_EMULATOR_HOST`. The accounts "
        "are made with `firegate accounts create` (an email whose state is unknown) and hash "
        f"with argon2id {p['argon2']}, as every server here does, so no sign-in rehashes and "
        "the bridge is a visible part of a sign-in. The baseline is a `--firebase-auth off` "
        "server that runs throughout, on accounts of the same kind; its requests alternate "
        "one by one with the path's, so load changes weigh on both. Warm: "
        f"{p['warmup']} untimed sign-ins first. The last column is the path's median less the "
        f"baseline's less {lat:.0f} ms per call: firegate's own work on the path (Firestore "
        "round trips, mostly). Every request's calls were counted at the stand-in and checked "
        "(the run stops on any other count; create is `POST v1/projects/P/accounts`, update "
        "`accounts:update`, lookup `accounts:lookup`, signInWithPassword "
        "`v1/accounts:signInWithPassword` with the web API key); none came while a server idled "
        f"({p['idle_s']} s), every admin call carried the metadata server's token, and no "
        "write was queued for a retry.",
        "",
        "## Bridge, mirror",
        "",
        *[h.format("`mirror`") for h in head],
        *row(f"warm sign-in, account in step ({warm})", mirror["warm"], p90=True),
        *row(f"first sign-in of an account not yet mirrored ({first})", mirror["first"]),
        *row(f"exec → first sign-in, account in step (cold, median of {cold['off']['done']['n']})",
             cold_pair("mirror", "mirror_warm")),
        "",
        "A first sign-in creates the Firebase user (`accounts`: email, display name, disabled "
        "flag) before the token is minted; around the call firegate re-reads the account (so "
        "a sign-in racing a change writes nothing stale) and records the mirrored state (one "
        "conditioned write): two Firestore round trips. An account in step makes no call and "
        "no extra Firestore round trip.",
        "",
        "## Bridge, graduate",
        "",
        *[h.format("`graduate`") for h in head],
        *row(f"warm sign-in, graduated account ({warm})", grad["warm"], p90=True),
        *row(f"first sign-in, never mirrored: graduation ({first})", grad["first"]),
        *row(f"first sign-in, mirrored before: graduation ({first})", grad["first_mirrored"]),
        *row(f"second sign-in, just graduated ({first})", grad["second"]),
        *row(f"first sign-in with a password changed inside Firebase Auth (median of "
             f"{grad['changed_new']['path']['n']})", grad["changed_new"]),
        *row("the sign-in after it", grad["changed_after"]),
        *row(f"exec → first sign-in, graduated account (cold, median of "
             f"{cold['off']['done']['n']})", cold_pair("graduate", "graduate_warm")),
        "",
        "Graduation creates the Firebase user with the password just checked (a mirrored "
        "account's gets it with `accounts:update`), then looks the user up once for its "
        "`passwordUpdatedAt`, which firegate records. From then on every sign-in looks the "
        "user up once, during the password check, to see whether the password changed inside "
        "Firebase Auth; while `passwordUpdatedAt` is the recorded one, firegate's own hash "
        "decides. After a change made there, the old password was refused (`400` after the "
        f"{p['floor_ms']} ms failure floor, {grad['changed_old_ms']:.0f} ms; "
        f"{calls_text(EXPECT['graduate_changed_old'])}), and the new one was checked with "
        "Firebase and then looked up; firegate's copy follows (a new argon2id hash and a "
        "write), so the sign-in after it is one lookup again. Access tokens: "
        f"{grad['metadata_calls']} metadata request(s) over the warm graduate server's life, "
        f"{mirror['metadata_calls']} over the mirror server's; per cold start "
        f"{sorted(set(cold['graduate']['metadata_calls']))} (graduated account) and "
        f"{sorted(set(cold['mirror']['metadata_calls']))} (mirror, in step).",
        "",
        "Cold starts, exec → `listening` logged (the recorded key state read; the server "
        "serves from before, and a sign-in's reads and password check run meanwhile), median: "
        + ", ".join(f"{mode} {cold[mode]['listening']['median']:.1f} ms" for mode in cold)
        + ". With the bridge on, start-up also builds the Identity Toolkit HTTP client, "
        "which loads the system's CA roots for rustls (`Bridge::new` → "
        "`IdentityToolkit::new` → `api_client()`: src/service/mod.rs, src/google/identity.rs, "
        "src/google/mod.rs), before serving, so a cold first "
        "sign-in waits for it even when it makes no call; the "
        "mirror row's remainder is that and the retry-queue drain's first Firestore query, "
        "which starts with the server and runs alongside the first sign-in.",
        "",
        "## Password reset",
        "",
        "Mail goes to a Firestore collection (`--mail-url firestore:COLLECTION`, the format of "
        "Firebase's Trigger Email extension; no SMTP). A request is answered after the "
        f"failure floor ({p['floor_ms']} ms, `--failure-floor-ms`) whether or not the account "
        "exists; the lookup, the mail allowance, the token and the mail document are written "
        "by a task of their own meanwhile. The confirmation uses the token of the mailed link.",
        "",
        "| figure | baseline | measured | Identity Toolkit calls | left beyond the baseline and the stand-in |",
        "|---|---|---|---|---|",
        f"| `POST /password-reset/` answered ({first}) | {p['floor_ms']} ms (the floor) | "
        f"{ms(reset['answer'])} (max {reset['answer']['max']:.1f}) | 0 | "
        f"{reset['answer']['median'] - p['floor_ms']:+.1f} ms |",
        f"| its mail document written, after the request was sent (firegate's log) | — | "
        f"{ms(mail['mail'])} (max {mail['mail']['max']:.1f}) | 0 | see below |",
        f"| `POST /password-reset/confirm/`, bridge off ({first}) | "
        f"{ms(reset['confirm_off']['base'])} (warm sign-in) | {ms(reset['confirm_off']['path'])} "
        f"| 0 | {left(reset['confirm_off'], lat)} |",
        f"| … with `mirror` ({first}) | {ms(reset['confirm_mirror']['base'])} (confirm, off) | "
        f"{ms(reset['confirm_mirror']['path'])} | {calls_text(reset['confirm_mirror']['calls'])} "
        f"| {left(reset['confirm_mirror'], lat)} |",
        f"| … with `graduate` ({first}) | {ms(reset['confirm_graduate']['base'])} (confirm, off) "
        f"| {ms(reset['confirm_graduate']['path'])} | "
        f"{calls_text(reset['confirm_graduate']['calls'])} | {left(reset['confirm_graduate'], lat)} |",
        "",
        "The mail task makes six Firestore round trips in a row (src/service/reset.rs, "
        "src/store/tokens.rs). When each step ended, in ms after the request was sent (median "
        f"of {n}; these requests went to a server logging its Firestore calls, "
        "`firestore::db=debug`): "
        + ", ".join(f"{label} {mail[key]['median']:.1f}" for key, label in MAIL_STEPS)
        + ". Every gap is one Firestore call (two for the allowance: a read, then a "
        "conditioned write; the emulator's writes are slower than its reads: a read as "
        f"firegate makes it took {p['firestore_read']['median']:.2f} ms median "
        "in this run, over gRPC, from its own log: run.py's `server_components`); the last is "
        "firegate's own work after the mail document is written. A confirmation reads "
        "the token and the account, hashes the new password and commits one transaction (new "
        "hash, token used, failure record gone): four round trips and a hash, against a "
        "sign-in's two round trips, a verify and a signature. With the bridge on it also ends "
        "the Firebase user's sessions (`validSince`, checked) and, in graduate mode, sets the "
        "new password there (checked: `signInWithEmailAndPassword` takes it) and looks the "
        "user up once for its `passwordUpdatedAt`; the sign-in after it makes no call "
        "(mirror) or one lookup (graduate).",
        "",
    ]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# Standalone: own emulator and key, then paths()


def driver():
    """run.py as a module: the running one when run.py imported us, else imported."""
    main = sys.modules.get("__main__")
    if Path(getattr(main, "__file__", "") or "").name == "run.py" and hasattr(main, "cold_run"):
        return main
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    import run
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    default_bin = ROOT / "target/release"
    if not (default_bin / "firegate").exists():
        default_bin = ROOT / "target/debug"
    parser.add_argument("--bin", type=Path, default=default_bin,
                        help=f"directory with firegate (default {default_bin.relative_to(ROOT)})")
    parser.add_argument("--cold-runs", type=int, default=11)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--output", type=Path, help="also write the report here")
    parser.add_argument("--command", default="python3 scripts/bench/paths.py")
    args = parser.parse_args()

    import signal
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    run = driver()
    run.BIN_DIR = args.bin.resolve()
    run.BINARY = run.BIN_DIR / "firegate"
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="firegate-paths-"))
    workdir.mkdir(parents=True, exist_ok=True)
    log(f"work directory {workdir}; binary {run.BINARY}; load average {os.getloadavg()[0]:.2f}")
    emulator = None
    try:
        emulator = run.Emulator(workdir, None)
        keys_dir = workdir / "keys"
        run.write_key(keys_dir)
        result = paths(run, emulator, keys_dir, workdir, args.cold_runs)
    finally:
        run.stop_all()
        if emulator:
            emulator.log.close()
    (workdir / "paths.json").write_text(json.dumps(result, indent=2))
    text = paths_report(result, args.command)
    if args.output:
        args.output.write_text(text)
    print(text)
    log(f"raw results and logs in {workdir}")


if __name__ == "__main__":
    try:
        main()
    finally:
        if "run" in sys.modules:
            sys.modules["run"].stop_all()
