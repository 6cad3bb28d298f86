// Privileged access to the Firestore emulator through its REST API with the emulator's
// `Authorization: Bearer owner` token, which bypasses security rules — what a server with
// service-account credentials can do, and what no client can.

/** A JavaScript value as a Firestore REST `Value`; Date becomes a timestamp. */
function toValue(value) {
  if (value === null) return { nullValue: null };
  if (value instanceof Date) return { timestampValue: value.toISOString() };
  if (Array.isArray(value)) return { arrayValue: { values: value.map(toValue) } };
  switch (typeof value) {
    case 'string':
      return { stringValue: value };
    case 'boolean':
      return { booleanValue: value };
    case 'number':
      return Number.isInteger(value) ? { integerValue: String(value) } : { doubleValue: value };
    case 'object':
      return { mapValue: { fields: toFields(value) } };
    default:
      throw new Error(`cannot store ${typeof value} in Firestore`);
  }
}

function toFields(object) {
  return Object.fromEntries(Object.entries(object).map(([k, v]) => [k, toValue(v)]));
}

/** Owner access to one project's default database on the emulator at `firestoreUrl`. */
export function ownerClient(firestoreUrl, projectId) {
  const documents = `${firestoreUrl}/v1/projects/${projectId}/databases/(default)/documents`;
  const headers = { Authorization: 'Bearer owner', 'Content-Type': 'application/json' };
  return {
    /** Creates `collection/id` with `data`; fails if it exists. */
    async create(collection, id, data) {
      const url = `${documents}/${collection}?documentId=${encodeURIComponent(id)}`;
      const response = await fetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ fields: toFields(data) }),
      });
      if (!response.ok) {
        throw new Error(
          `creating ${collection}/${id} failed (${response.status}): ${await response.text()}`,
        );
      }
    },
    /** The raw REST documents of `collection` (up to 300). */
    async list(collection) {
      const response = await fetch(`${documents}/${collection}?pageSize=300`, { headers });
      if (!response.ok) {
        throw new Error(
          `listing ${collection} failed (${response.status}): ${await response.text()}`,
        );
      }
      return (await response.json()).documents ?? [];
    },
    /** The raw REST document at `path`, or null when missing. */
    async get(path) {
      const response = await fetch(`${documents}/${path}`, { headers });
      if (response.status === 404) return null;
      if (!response.ok) {
        throw new Error(`reading ${path} failed (${response.status}): ${await response.text()}`);
      }
      return response.json();
    },
  };
}
