"""The seed's design, as a benchmark peer of firegate: a FastAPI app that signs users in against
the same Firestore documents and answers with a Firebase custom token.

    GOOGLE_APPLICATION_CREDENTIALS=key.json FIRESTORE_EMULATOR_HOST=127.0.0.1:8080 \
        PORT=8000 python server.py

Reads `firegate_logins/{login}` -> {uid} and `firegate_accounts/{uid}` (`password_hash` in
Werkzeug's format, `disabled`), checks the password with Werkzeug and mints the token with
firebase_admin, which signs it with the key file's private key (no network).
"""

import os
import sys

import firebase_admin
import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from firebase_admin import auth, credentials, firestore
from pydantic import BaseModel
from werkzeug.security import check_password_hash

cred = credentials.Certificate(os.environ["GOOGLE_APPLICATION_CREDENTIALS"])
firebase_admin.initialize_app(cred, {"projectId": cred.project_id})
db = firestore.client()

app = FastAPI()


class Login(BaseModel):
    email: str
    password: str


def invalid_credentials() -> JSONResponse:
    return JSONResponse({"error": "invalid_credentials"}, status_code=400)


@app.post("/login/")
def login(body: Login):
    login_doc = db.collection("firegate_logins").document(body.email).get()
    if not login_doc.exists:
        return invalid_credentials()
    uid = login_doc.get("uid")
    account = db.collection("firegate_accounts").document(uid).get()
    if not account.exists:
        return invalid_credentials()
    data = account.to_dict()
    if data.get("disabled") or not check_password_hash(data.get("password_hash", ""), body.password):
        return invalid_credentials()
    token = auth.create_custom_token(uid)
    return {"token": token.decode(), "uid": uid}


def listen_port() -> int:
    # `server.py serve --listen 127.0.0.1:PORT` (how the benchmark driver starts a server) or PORT.
    if "--listen" in sys.argv:
        return int(sys.argv[sys.argv.index("--listen") + 1].rsplit(":", 1)[1])
    return int(os.environ.get("PORT", "8000"))


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=listen_port())
