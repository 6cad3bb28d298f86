// What a Firebase developer writes instead of firegate, as a benchmark peer: a plain node:http
// server (the shape of an HTTP Cloud Function) with firebase-admin.
//
//   GOOGLE_APPLICATION_CREDENTIALS=key.json FIRESTORE_EMULATOR_HOST=127.0.0.1:8080 \
//       PORT=8000 node server.mjs
//
// POST /login/ {"email", "password"}: reads firegate_logins/{login} -> {uid} and
// firegate_accounts/{uid}, checks the Werkzeug pbkdf2 hash with node:crypto and answers
// {"token": <custom token>, "uid"}. firebase-admin signs the token with the key file's private
// key (no network); Firestore goes to FIRESTORE_EMULATOR_HOST when it is set.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { pbkdf2, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";
import { initializeApp, cert, applicationDefault } from "firebase-admin/app";
import { getAuth } from "firebase-admin/auth";
import { getFirestore } from "firebase-admin/firestore";

const pbkdf2Async = promisify(pbkdf2);

const keyFile = process.env.GOOGLE_APPLICATION_CREDENTIALS;
const projectId = keyFile
  ? JSON.parse(readFileSync(keyFile, "utf8")).project_id
  : process.env.GOOGLE_CLOUD_PROJECT || process.env.GCLOUD_PROJECT;
initializeApp({ credential: keyFile ? cert(keyFile) : applicationDefault(), projectId });
const db = getFirestore();
const auth = getAuth();

// Werkzeug's "pbkdf2:sha256:260000$salt$hexdigest" (the salt is used as its UTF-8 text).
async function checkWerkzeug(stored, password) {
  const [method, salt, hex] = stored.split("$");
  const [kind, digest, rounds] = method.split(":");
  if (kind !== "pbkdf2" || !salt || !hex || !rounds) return false;
  const expected = Buffer.from(hex, "hex");
  const actual = await pbkdf2Async(password, salt, Number(rounds), expected.length, digest);
  return expected.length > 0 && timingSafeEqual(actual, expected);
}

async function login(email, password) {
  if (typeof email !== "string" || typeof password !== "string" || !email) return null;
  const loginDoc = await db.collection("firegate_logins").doc(email).get();
  if (!loginDoc.exists) return null;
  const uid = loginDoc.get("uid");
  const account = await db.collection("firegate_accounts").doc(uid).get();
  if (!account.exists) return null;
  const { password_hash: hash, disabled } = account.data();
  if (disabled || typeof hash !== "string" || !(await checkWerkzeug(hash, password))) return null;
  return { token: await auth.createCustomToken(uid), uid };
}

function send(res, status, body) {
  const data = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(data) });
  res.end(data);
}

const server = createServer(async (req, res) => {
  if (req.method !== "POST" || req.url !== "/login/") return send(res, 404, { error: "not_found" });
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  let body;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    return send(res, 400, { error: "invalid_request" });
  }
  try {
    const result = await login(body?.email, body?.password);
    if (result) send(res, 200, result);
    else send(res, 400, { error: "invalid_credentials" });
  } catch (error) {
    console.error(error);
    send(res, 500, { error: "internal" });
  }
});

// `server.mjs serve --listen 127.0.0.1:PORT` (how the benchmark driver starts a server) or PORT.
const listen = process.argv.indexOf("--listen");
const port = Number(listen > 0 ? process.argv[listen + 1].split(":").pop() : process.env.PORT || 8000);
server.listen(port, "127.0.0.1");
