"""firegate's legacy verify hook for a Flask application (Werkzeug password hashes).

Add the route to the old app; replace `find_user` with its own user lookup. Run alone:
    FIREGATE_LEGACY_VERIFY_SECRET=... LEGACY_USERS=users.json PORT=8001 python flask_hook.py
"""
import hashlib
import hmac
import json
import os
import time

from flask import Flask, abort, jsonify, request
from werkzeug.security import check_password_hash, generate_password_hash

SECRET = os.environ.get("FIREGATE_LEGACY_VERIFY_SECRET", "").encode()
if len(SECRET) < 32:
    # An empty or short key would let anyone sign a request: refuse to start.
    raise SystemExit("FIREGATE_LEGACY_VERIFY_SECRET must hold the hook's secret (32 bytes or more)")
app = Flask(__name__)
# Checked for a login nobody holds, so that takes as long as a wrong password.
DUMMY_HASH = generate_password_hash("no user has this password")
app.config["MAX_CONTENT_LENGTH"] = 16 * 1024  # bounds the body read before the signature check


def signed(req):
    """The request came from firegate: HMAC-SHA256 of "<timestamp>.<body>", at most 5 minutes old."""
    stamp = req.headers.get("X-Firegate-Timestamp", "")
    if not stamp.isdigit() or abs(time.time() - int(stamp)) > 300:
        return False
    mac = hmac.new(SECRET, stamp.encode() + b"." + req.get_data(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(req.headers.get("X-Firegate-Signature", ""), "v1=" + mac)


def find_user(login):
    """Stands for the app's own query, e.g. User.query.filter_by(username=login).first()."""
    with open(os.environ["LEGACY_USERS"]) as users:
        return json.load(users).get(login)


@app.post("/firegate-verify")
def firegate_verify():
    if not signed(request):
        abort(401)
    asked = request.get_json()
    user = find_user(asked["login"])
    if user is None:
        check_password_hash(DUMMY_HASH, asked["password"])
        return jsonify(valid=False)
    if not check_password_hash(user["hash"], asked["password"]):
        return jsonify(valid=False)
    return jsonify(valid=True, uid=user["uid"], email=user.get("email"), disabled=not user.get("active", True))


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ["PORT"]))
