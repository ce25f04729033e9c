import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { makePki } from '../../test/support/certs.js';
import { isResponseTimeout, readBody, requestErrorText, send } from './http-client.js';

/** A TCP server on loopback whose connections `onConnection` answers by hand (or not at all). */
async function tcpServer(onConnection: (socket: net.Socket) => void): Promise<{ url: (path: string) => URL; close: () => void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path) => new URL(`http://127.0.0.1:${port}${path}`),
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** Writes `text` one byte every `everyMs`, then calls `done`. */
function trickle(socket: net.Socket, text: string, everyMs: number, done?: () => void): void {
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed) return clearInterval(timer);
    socket.write(text.slice(i, i + 1));
    if (++i >= text.length) {
      clearInterval(timer);
      done?.();
    }
  }, everyMs);
}

const servers: Array<{ close: () => void }> = [];
let closedPort = 0;
before(async () => {
  // A port that was just free: nothing listens there.
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
});
after(() => servers.forEach((s) => s.close()));

test('a registry that takes the connection and says nothing fails after the response timeout, named', async () => {
  const silent = await tcpServer((socket) => socket.resume());
  servers.push(silent);
  const url = silent.url('/v2/x/y/manifests/1');
  const started = Date.now();
  const err = await send({ method: 'HEAD', url, headers: {}, responseTimeoutMs: 300 }).then(
    () => assert.fail('a silent registry answered'),
    (e: unknown) => e,
  );
  assert.ok(isResponseTimeout(err), String(err));
  assert.equal(requestErrorText('HEAD', url, err), `Head "${url}": registry ${url.host} sent no response headers within 300ms`);
  // Generous: the point is that it ends, not when exactly.
  assert.ok(Date.now() - started < 10_000);
});

test('headers and a body sent a byte at a time, for longer than the response timeout, are not cut', async () => {
  const body = 'slow but steady';
  const slow = await tcpServer((socket) => {
    socket.once('data', () => {
      const head = `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nContent-Type: text/plain\r\n\r\n`;
      trickle(socket, head, 5, () => trickle(socket, body, 40));
    });
  });
  servers.push(slow);
  const started = Date.now();
  const res = await send({ method: 'GET', url: slow.url('/v2/x/y/blobs/sha256:0'), headers: {}, responseTimeoutMs: 150 });
  assert.equal(res.status, 200);
  assert.equal((await readBody(res.body)).toString(), body);
  assert.ok(Date.now() - started > 150 * 2, 'the exchange outlasted the response timeout');
});

test('0 disables the response timeout', async () => {
  const late = await tcpServer((socket) => {
    socket.once('data', () => setTimeout(() => socket.end('HTTP/1.1 204 No Content\r\n\r\n'), 300));
  });
  servers.push(late);
  const res = await send({ method: 'GET', url: late.url('/v2/'), headers: {}, responseTimeoutMs: 0 });
  assert.equal(res.status, 204);
  res.body.resume();
});

test('network errors in Go\'s words: refused, unknown host, closed without an answer', async () => {
  const refusedUrl = new URL(`https://127.0.0.1:${closedPort}/v2/x/y/manifests/1`);
  const refused = await send({ method: 'HEAD', url: refusedUrl, headers: {} }).catch((e: unknown) => e);
  assert.equal(requestErrorText('HEAD', refusedUrl, refused), `Head "${refusedUrl}": dial tcp 127.0.0.1:${closedPort}: connect: connection refused`);

  const unknownUrl = new URL('https://nosuch.invalid/v2/');
  const unknown = await send({ method: 'GET', url: unknownUrl, headers: {} }).catch((e: unknown) => e);
  assert.equal(requestErrorText('GET', unknownUrl, unknown), 'Get "https://nosuch.invalid/v2/": dial tcp: lookup nosuch.invalid: no such host');

  const hangUp = await tcpServer((socket) => socket.once('data', () => socket.end()));
  servers.push(hangUp);
  const hangUpUrl = hangUp.url('/v2/');
  const eof = await send({ method: 'GET', url: hangUpUrl, headers: {} }).catch((e: unknown) => e);
  assert.equal(requestErrorText('GET', hangUpUrl, eof), `Get "${hangUpUrl}": EOF`);

  const reset = await tcpServer((socket) => socket.once('data', () => socket.resetAndDestroy()));
  servers.push(reset);
  const resetUrl = reset.url('/v2/');
  const rst = await send({ method: 'GET', url: resetUrl, headers: {} }).catch((e: unknown) => e);
  assert.match(requestErrorText('GET', resetUrl, rst), new RegExp(`^Get "${resetUrl}": read tcp 127\\.0\\.0\\.1:\\d+->${resetUrl.host.replace(/\./g, '\\.')}: read: connection reset by peer$`));
});

test('a certificate no trusted CA signed: Go\'s `x509: certificate signed by unknown authority`', async () => {
  const pki = await makePki();
  const server = https.createServer({ cert: readFileSync(pki.server.cert), key: readFileSync(pki.server.key) }, (_req, res) => res.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push({ close: () => server.close() });
  const url = new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}/v2/`);
  const err = await send({ method: 'GET', url, headers: {}, tls: { verify: true, ca: [] } }).catch((e: unknown) => e);
  assert.equal(requestErrorText('GET', url, err), `Get "${url}": tls: failed to verify certificate: x509: certificate signed by unknown authority`);
  // With the CA it is trusted: the text above was the verification's, not another failure's.
  const res = await send({ method: 'GET', url, headers: {}, tls: { verify: true, ca: [readFileSync(pki.ca.cert)] } });
  assert.equal(res.status, 200);
  res.body.resume();
});
