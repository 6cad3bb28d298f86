// A stand-in for Google's service-account certificate endpoint
// (https://www.googleapis.com/robot/v1/metadata/x509/<client_email>: a JSON map of key id to
// PEM certificate), which firegate's key activation checks before a key may sign. firegate
// reaches it through `--x509-base-url`. It runs inside the test process, so it needs no reaper.

import { createServer } from 'node:http';

/**
 * Starts the endpoint on a free 127.0.0.1 port. Resolves
 * { url, publish(clientEmail, kid, pem), requests, close() }; `requests` lists the paths asked for.
 */
export async function startCertificateEndpoint() {
  const published = new Map();
  const requests = [];
  const server = createServer((request, response) => {
    requests.push(request.url);
    const email = decodeURIComponent(new URL(request.url, 'http://x').pathname.slice(1));
    if (request.method !== 'GET' || !published.has(email)) {
      // What Google answers for a service account it does not know.
      response.writeHead(404, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify({ error: 'Not Found' }));
      return;
    }
    response.writeHead(200, { 'Content-Type': 'application/json; charset=UTF-8' });
    response.end(JSON.stringify(Object.fromEntries(published.get(email))));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    /** Publishes `pem` as key `kid` of the service account `clientEmail`. */
    publish(clientEmail, kid, pem) {
      if (!published.has(clientEmail)) published.set(clientEmail, new Map());
      published.get(clientEmail).set(kid, pem);
    },
    close() {
      return new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
