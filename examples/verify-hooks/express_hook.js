// firegate's legacy verify hook for an Express application (Node's scrypt hashes here; use
// the app's own check, e.g. bcrypt.compare). Replace `findUser` with the app's own lookup.
//   FIREGATE_LEGACY_VERIFY_SECRET=... LEGACY_USERS=users.json PORT=8003 node express_hook.js
const crypto = require('node:crypto');
const fs = require('node:fs');
const express = require('express');

const SECRET = process.env.FIREGATE_LEGACY_VERIFY_SECRET || '';
if (Buffer.byteLength(SECRET) < 32) {
  // An empty or short key would let anyone sign a request: refuse to start.
  console.error("FIREGATE_LEGACY_VERIFY_SECRET must hold the hook's secret (32 bytes or more)");
  process.exit(1);
}
const app = express();

// The request came from firegate: HMAC-SHA256 of "<timestamp>.<body>", at most 5 minutes old.
function signed(req) {
  const stamp = req.get('X-Firegate-Timestamp') || '';
  if (!Buffer.isBuffer(req.body)) return false;
  if (!/^\d+$/.test(stamp) || Math.abs(Date.now() / 1000 - Number(stamp)) > 300) return false;
  const mac = crypto.createHmac('sha256', SECRET).update(`${stamp}.`).update(req.body).digest('hex');
  const expected = Buffer.from(`v1=${mac}`);
  const given = Buffer.from(req.get('X-Firegate-Signature') || '');
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}

// Stands for the app's own query (e.g. `await User.findOne({ username: login })`).
function findUser(login) {
  return JSON.parse(fs.readFileSync(process.env.LEGACY_USERS, 'utf8'))[login];
}

// No user has this password (scrypt of a random one).
const DUMMY_HASH = `scrypt$${crypto.randomBytes(16).toString('hex')}$${crypto.randomBytes(64).toString('hex')}`;

// `scrypt$<salt hex>$<key hex>`, as this sample's old app stored passwords.
function passwordMatches(stored, password) {
  const [scheme, salt, key] = stored.split('$');
  if (scheme !== 'scrypt') return false;
  const derived = crypto.scryptSync(password, Buffer.from(salt, 'hex'), key.length / 2);
  return crypto.timingSafeEqual(derived, Buffer.from(key, 'hex'));
}

// The raw body: the signature covers the bytes as sent.
app.post('/firegate-verify', express.raw({ type: 'application/json', limit: '16kb' }), (req, res) => {
  if (!signed(req)) return res.sendStatus(401);
  const asked = JSON.parse(req.body);
  const user = findUser(asked.login);
  // An unknown login is checked against a dummy hash, so it takes as long as a wrong password.
  if (!passwordMatches(user ? user.hash : DUMMY_HASH, asked.password) || !user) return res.json({ valid: false });
  res.json({ valid: true, uid: user.uid, email: user.email, disabled: user.active === false });
});

app.listen(Number(process.env.PORT), '127.0.0.1');
