"""Stand-ins for the Google services firegate calls that have no emulator on the benchmark's
path, each with a fixed added latency (standard library only):

- `StandIn`: the metadata server and IAM Credentials `signBlob`, for `--signer iam`. It answers
  the documented shapes; signatures are random bytes, since nothing in the benchmark verifies
  them (the tests' stand-in, tests/it/google_standin.rs, signs for real).
- `IdentityStandIn`: Identity Toolkit v1, Firebase Auth's admin REST API as firegate calls it
  (src/google/identity.rs), for the Firebase Auth bridge (`--firebase-auth mirror|graduate`),
  plus the metadata server's access token. firegate reaches it the production way,
  `--identity-toolkit-url` with an Application Default Credentials bearer from the metadata
  server, not the Auth emulator's `FIREBASE_AUTH_EMULATOR_HOST` path (`Bearer owner`, another
  base URL). Users live in memory, by localId.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EMAIL = "bench-runtime@demo-bench.iam.gserviceaccount.com"


class Answering(BaseHTTPRequestHandler):
    """What both stand-ins' handlers share: quiet, kept-alive, one write per answer."""
    protocol_version = "HTTP/1.1"  # keep-alive, as Google's front ends
    # Headers and body go out as separate writes: with Nagle's algorithm the body would wait
    # for the client's delayed ACK (40 ms), which Google does not add.
    disable_nagle_algorithm = True

    def log_message(self, *args) -> None:  # quiet
        pass

    def answer(self, status: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except BrokenPipeError:  # a server stopped mid-call (cold runs)
            pass


class StandIn:
    def __init__(self, latency_ms: float, project: str):
        latency = latency_ms / 1000
        self.sign_calls = 0
        self.metadata_calls = 0
        standin = self

        class Handler(Answering):

            def do_GET(self) -> None:  # noqa: N802
                standin.metadata_calls += 1
                if self.headers.get("Metadata-Flavor") != "Google":
                    return self.answer(403, b"missing Metadata-Flavor", "text/plain")
                path = self.path.split("?")[0]
                if path.endswith("/service-accounts/default/email"):
                    return self.answer(200, EMAIL.encode(), "text/plain")
                if path.endswith("/project/project-id"):
                    return self.answer(200, project.encode(), "text/plain")
                if path.endswith("/service-accounts/default/token"):
                    body = {"access_token": "bench-token", "expires_in": 3600,
                            "token_type": "Bearer"}
                    return self.answer(200, json.dumps(body).encode())
                self.answer(404, b"{}")

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                self.rfile.read(length)
                standin.sign_calls += 1
                time.sleep(latency)
                signature = base64.b64encode(os.urandom(256)).decode()
                self.answer(200, json.dumps({"keyId": "bench-key", "signedBlob": signature}).encode())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def env(self, home: str) -> dict[str, str]:
        return {"FIREGATE_SIGNER": "iam", "GCE_METADATA_HOST": self.host,
                "FIREGATE_IAM_CREDENTIALS_URL": f"http://{self.host}", "HOME": home}

    def stop(self) -> None:
        self.server.shutdown()


# ---------------------------------------------------------------------------------------------
# Identity Toolkit

API_KEY = "bench-web-api-key"
ACCESS_TOKEN = "bench-token"  # what the metadata server hands out, both stand-ins alike

# The methods firegate calls (src/google/identity.rs): admin ones under /v1/projects/P/, the
# password check under /v1/ with the web API key. Calls are counted per method.
ADMIN_METHODS = ("accounts", "accounts:update", "accounts:lookup", "accounts:delete",
                 "accounts:batchCreate")
METHODS = (*ADMIN_METHODS, "accounts:signInWithPassword")
MIN_PASSWORD_CHARS = 6


def _password_hash(password: str, salt: bytes) -> str:
    """The stand-in's password hash (Firebase's is a modified scrypt; nothing here reads it
    but the stand-in itself)."""
    return base64.b64encode(hashlib.sha256(salt + password.encode()).digest()).decode()


def _error(message: str, code: int = 400) -> tuple[int, dict]:
    """Google's error body; firegate reads the code from the message's first word."""
    status = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 404: "NOT_FOUND"}.get(code, "")
    return code, {"error": {"code": code, "message": message, "status": status,
                            "errors": [{"message": message, "domain": "global",
                                        "reason": "invalid"}]}}


class IdentityStandIn:
    """Identity Toolkit v1 with a fixed added latency on every call (the metadata server's
    token answers at once, as in `StandIn`). `calls` counts the calls per method (`METHODS`;
    anything else under `other`), `metadata_calls` the metadata requests (`metadata_unknown`
    the paths of those it could not answer), `refused_auth` admin calls without the metadata
    server's token. The behaviour firegate's bridge relies on is
    Firebase's: `DUPLICATE_LOCAL_ID`, `EMAIL_EXISTS`, `USER_NOT_FOUND`, `WEAK_PASSWORD`;
    setting a password sets `passwordUpdatedAt` (ms) and `validSince` (s); `accounts:lookup`
    omits `users` when none is found; `accounts:signInWithPassword` refuses with
    `INVALID_LOGIN_CREDENTIALS` (email enumeration protection, the default of new projects)
    or `USER_DISABLED`."""

    def __init__(self, latency_ms: float, project: str, api_key: str = API_KEY):
        latency = latency_ms / 1000
        self.latency_ms = latency_ms
        self.project = project
        self.api_key = api_key
        self.calls: dict[str, int] = {m: 0 for m in (*METHODS, "other")}
        self.metadata_calls = 0
        self.metadata_unknown: list[str] = []  # metadata paths it does not answer
        self.refused_auth = 0
        self.users: dict[str, dict] = {}  # by localId
        self.lock = threading.Lock()
        standin = self
        admin_prefix = f"/v1/projects/{project}/"

        class Handler(Answering):

            def do_GET(self) -> None:  # noqa: N802
                with standin.lock:
                    standin.metadata_calls += 1
                if self.headers.get("Metadata-Flavor") != "Google":
                    return self.answer(403, b"missing Metadata-Flavor", "text/plain")
                path = self.path.split("?")[0]
                if path.endswith("/service-accounts/default/email"):
                    return self.answer(200, EMAIL.encode(), "text/plain")
                if path.endswith("/project/project-id"):
                    return self.answer(200, project.encode(), "text/plain")
                if path.endswith("/service-accounts/default/token"):
                    body = {"access_token": ACCESS_TOKEN, "expires_in": 3600,
                            "token_type": "Bearer"}
                    return self.answer(200, json.dumps(body).encode())
                with standin.lock:
                    standin.metadata_unknown.append(self.path)
                self.answer(404, b"{}")

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                path, _, query = self.path.partition("?")
                if path.startswith(admin_prefix):
                    method, admin = path[len(admin_prefix):], True
                elif path.startswith("/v1/"):
                    method, admin = path[len("/v1/"):], False
                else:
                    method, admin = "", False
                known = method in (ADMIN_METHODS if admin else ("accounts:signInWithPassword",))
                with standin.lock:
                    standin.calls[method if known else "other"] += 1
                time.sleep(latency)
                if not known:
                    status, body = _error(f"unknown method {self.path.split('?')[0]}", 404)
                elif admin and self.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
                    with standin.lock:
                        standin.refused_auth += 1
                    status, body = _error("Request had invalid authentication credentials.", 401)
                elif not admin and f"key={standin.api_key}" not in query.split("&"):
                    status, body = _error("API key not valid. Please pass a valid API key.")
                else:
                    try:
                        request = json.loads(raw or b"{}")
                    except ValueError:
                        request = None
                    if not isinstance(request, dict):
                        status, body = _error("INVALID_JSON")
                    else:
                        with standin.lock:
                            status, body = standin._handle(method, request)
                self.answer(status, json.dumps(body).encode())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def env(self, home: str) -> dict[str, str]:
        """The settings that point firegate's bridge here the production way: the base URL,
        the web API key, and Application Default Credentials from the metadata server (an
        empty HOME, so no gcloud file is found first). The mode is the caller's."""
        return {"FIREGATE_IDENTITY_TOOLKIT_URL": f"http://{self.host}",
                "FIREGATE_FIREBASE_API_KEY": self.api_key,
                "GCE_METADATA_HOST": self.host, "HOME": home}

    def counts(self) -> dict[str, int]:
        with self.lock:
            return dict(self.calls)

    def since(self, before: dict[str, int]) -> dict[str, int]:
        """The calls made since `before` (a `counts()`), methods with none left out."""
        now = self.counts()
        return {m: now[m] - before.get(m, 0) for m in now if now[m] != before.get(m, 0)}

    def user(self, uid: str) -> dict | None:
        with self.lock:
            user = self.users.get(uid)
            return dict(user) if user else None

    def check_password(self, email: str, password: str) -> str | None:
        """What `signInWithEmailAndPassword` would say, without a call: the uid or None."""
        with self.lock:
            user = self._by_email(email)
            if user and "passwordHash" in user and not user.get("disabled") and \
                    user["passwordHash"] == _password_hash(password, user["_salt"]):
                return user["localId"]
            return None

    def change_password(self, uid: str, password: str) -> None:
        """A password change made inside Firebase Auth (a client's `updatePassword`, the
        console), without a counted call."""
        with self.lock:
            self._set_password(self.users[uid], password)

    def stop(self) -> None:
        self.server.shutdown()

    # Inside the lock.

    def _by_email(self, email: str | None) -> dict | None:
        if not email:
            return None
        email = email.lower()
        return next((u for u in self.users.values() if u.get("email") == email), None)

    def _set_password(self, user: dict, password: str) -> None:
        now = time.time()
        user["_salt"] = os.urandom(12)
        user["passwordHash"] = _password_hash(password, user["_salt"])
        user["passwordUpdatedAt"] = int(now * 1000)
        # Firebase ends a user's sessions when its password changes.
        user["validSince"] = str(int(now))

    def _public(self, user: dict) -> dict:
        """A user as `accounts:lookup` gives it (int64 fields as Google writes them:
        `passwordUpdatedAt` a number, the others strings)."""
        out = {k: v for k, v in user.items() if not k.startswith("_")}
        if "passwordHash" in user:
            out["salt"] = base64.b64encode(user["_salt"]).decode()
            out["providerUserInfo"] = [{"providerId": "password", "email": user.get("email"),
                                        "federatedId": user.get("email"),
                                        "rawId": user.get("email")}]
        else:
            out["providerUserInfo"] = []
        return out

    def _handle(self, method: str, r: dict) -> tuple[int, dict]:
        if method == "accounts":
            return self._create(r)
        if method == "accounts:update":
            return self._update(r)
        if method == "accounts:lookup":
            ids = r.get("localId") or []
            emails = [e.lower() for e in r.get("email") or []]
            found = [self._public(u) for u in self.users.values()
                     if u["localId"] in ids or u.get("email") in emails]
            body: dict = {"kind": "identitytoolkit#GetAccountInfoResponse"}
            if found:
                body["users"] = found
            return 200, body
        if method == "accounts:delete":
            if self.users.pop(r.get("localId", ""), None) is None:
                return _error("USER_NOT_FOUND")
            return 200, {"kind": "identitytoolkit#DeleteAccountResponse"}
        if method == "accounts:batchCreate":
            return self._batch_create(r)
        return self._sign_in(r)

    def _create(self, r: dict) -> tuple[int, dict]:
        uid = r.get("localId") or base64.urlsafe_b64encode(os.urandom(21)).decode()
        if uid in self.users:
            return _error("DUPLICATE_LOCAL_ID")
        email = (r.get("email") or "").lower() or None
        if email and self._by_email(email):
            return _error("EMAIL_EXISTS")
        password = r.get("password")
        if password is not None and len(password) < MIN_PASSWORD_CHARS:
            return _error("WEAK_PASSWORD : Password should be at least 6 characters")
        now = time.time()
        user = {"localId": uid, "emailVerified": bool(r.get("emailVerified", False)),
                "disabled": bool(r.get("disabled", False)),
                "createdAt": str(int(now * 1000)), "validSince": str(int(now))}
        if email:
            user["email"] = email
        if r.get("displayName"):
            user["displayName"] = r["displayName"]
        if password is not None:
            self._set_password(user, password)
        self.users[uid] = user
        body = {"kind": "identitytoolkit#SignupNewUserResponse", "localId": uid}
        if email:
            body["email"] = email
        return 200, body

    def _update(self, r: dict) -> tuple[int, dict]:
        user = self.users.get(r.get("localId", ""))
        if user is None:
            return _error("USER_NOT_FOUND")
        email = (r.get("email") or "").lower() or None
        if email and email != user.get("email"):
            other = self._by_email(email)
            if other and other is not user:
                return _error("EMAIL_EXISTS")
        password = r.get("password")
        if password is not None and len(password) < MIN_PASSWORD_CHARS:
            return _error("WEAK_PASSWORD : Password should be at least 6 characters")
        if email:
            user["email"] = email
        if "emailVerified" in r:
            user["emailVerified"] = bool(r["emailVerified"])
        if r.get("displayName") is not None:
            user["displayName"] = r["displayName"]
        if "disableUser" in r:
            user["disabled"] = bool(r["disableUser"])
        if "DISPLAY_NAME" in (r.get("deleteAttribute") or []):
            user.pop("displayName", None)
        if "password" in (r.get("deleteProvider") or []):
            for key in ("passwordHash", "_salt", "passwordUpdatedAt"):
                user.pop(key, None)
        if password is not None:
            self._set_password(user, password)
        if r.get("validSince") is not None:
            user["validSince"] = str(int(r["validSince"]))
        body = {"kind": "identitytoolkit#SetAccountInfoResponse", "localId": user["localId"],
                "emailVerified": user["emailVerified"],
                "providerUserInfo": self._public(user)["providerUserInfo"]}
        for key in ("email", "displayName"):
            if key in user:
                body[key] = user[key]
        if "passwordHash" in user:
            body["passwordHash"] = "UkVEQUNURUQ="  # "REDACTED", as Google answers
        return 200, body

    def _batch_create(self, r: dict) -> tuple[int, dict]:
        """Imported users keep their hash as given; the stand-in cannot check it, so such a
        user's password sign-in is refused until a password is set."""
        errors = []
        for i, u in enumerate(r.get("users") or []):
            uid = u.get("localId")
            email = (u.get("email") or "").lower() or None
            if not uid:
                errors.append({"index": i, "message": "localId is missing"})
                continue
            other = self._by_email(email)
            if other and other["localId"] != uid:
                errors.append({"index": i, "message": "email exists in other account"})
                continue
            now = time.time()
            user = {"localId": uid, "emailVerified": bool(u.get("emailVerified", False)),
                    "disabled": bool(u.get("disabled", False)),
                    "createdAt": str(int(now * 1000)), "validSince": str(int(now)),
                    "_imported": True}
            if email:
                user["email"] = email
            if u.get("displayName"):
                user["displayName"] = u["displayName"]
            if u.get("passwordHash"):
                try:
                    user["_salt"] = base64.b64decode(u.get("salt") or "")
                except ValueError:
                    errors.append({"index": i, "message": "salt is not base64"})
                    continue
                user["passwordHash"] = "imported:" + u["passwordHash"]
                user["passwordUpdatedAt"] = int(now * 1000)
            self.users[uid] = user  # an existing uid is overwritten, as Firebase does
        body: dict = {"kind": "identitytoolkit#UploadAccountResponse"}
        if errors:
            body["error"] = errors
        return 200, body

    def _sign_in(self, r: dict) -> tuple[int, dict]:
        user = self._by_email(r.get("email"))
        password = r.get("password") or ""
        if user is None or "passwordHash" not in user or \
                user["passwordHash"] != _password_hash(password, user["_salt"]):
            return _error("INVALID_LOGIN_CREDENTIALS")
        if user.get("disabled"):
            return _error("USER_DISABLED : The user account has been disabled by an administrator.")
        user["lastLoginAt"] = str(int(time.time() * 1000))
        body = {"kind": "identitytoolkit#VerifyPasswordResponse", "localId": user["localId"],
                "email": user.get("email", ""), "displayName": user.get("displayName", ""),
                "registered": True}
        if r.get("returnSecureToken"):
            body.update({"idToken": "bench-id-token", "refreshToken": "bench-refresh-token",
                         "expiresIn": "3600"})
        else:
            body["idToken"] = "bench-id-token"
        return 200, body
