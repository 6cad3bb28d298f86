// Service-account keys made the way Google shapes them, but generated locally: the suite
// signs nothing itself, it only checks firegate's signatures against the public half.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A fresh RSA-2048 service-account key for `projectId`:
 * { json (the key file's object), privateKey, publicKey (KeyObjects), kid, clientEmail }.
 */
export function serviceAccountKey(projectId, accountName = 'firegate-e2e') {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomBytes(20).toString('hex');
  const clientEmail = `${accountName}@${projectId}.iam.gserviceaccount.com`;
  const json = {
    type: 'service_account',
    project_id: projectId,
    private_key_id: kid,
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    client_email: clientEmail,
    client_id: randomBytes(10).readBigUInt64BE().toString(),
    token_uri: 'https://oauth2.googleapis.com/token',
  };
  return { json, privateKey, publicKey, kid, clientEmail };
}

/** Writes `key` as `<dir>/key.json`, mode 0600 as firegate requires, and returns `dir`. */
export function writeKeysDir(dir, key) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'key.json'), JSON.stringify(key.json, null, 2), { mode: 0o600 });
  return dir;
}
