// Fetch claims of replicas on one PostgreSQL: a second claim on a digest waits for the first to be
// let go, claims on other digests do not wait, and a wait is given up when its pull is cancelled.
// (A holder killed with kill -9: test/e2e/cluster-fetch.test.ts.)
import assert from 'node:assert/strict';
import net from 'node:net';
import { before, describe, it } from 'node:test';
import { sharedPostgres, skipWithoutPostgres, startPostgres } from '../../test/support/postgres.js';
import { PostgresFetchClaims } from './postgres-fetch-claims.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('PostgresFetchClaims', { skip: skipWithoutPostgres() }, () => {
  let url: string;
  before(async () => {
    url = await (await sharedPostgres()).createDatabase();
  });

  it('a claim on a digest held by another replica is granted once that one lets it go', async () => {
    const [a, b] = [new PostgresFetchClaims(url), new PostgresFetchClaims(url)];
    const held = await a.claim(DIGEST);
    let granted = false;
    const waiting = b.claim(DIGEST).then((claim) => {
      granted = true;
      return claim;
    });
    const other = await b.claim(`sha256:${'cd'.repeat(32)}`);
    other.release();
    await sleep(500);
    assert.equal(granted, false, 'B waits while A holds it');
    held.release();
    (await waiting).release();
    assert.equal(granted, true);
  });

  it('a wait is given up when its pull is cancelled', async () => {
    const [a, b] = [new PostgresFetchClaims(url), new PostgresFetchClaims(url)];
    const held = await a.claim(DIGEST);
    const cancel = new AbortController();
    const waiting = b.claim(DIGEST, cancel.signal);
    await sleep(200);
    cancel.abort(new Error('client gone'));
    await assert.rejects(waiting, /client gone/);
    held.release();
    // The cancelled wait left nothing behind: the digest is free for the next.
    (await b.claim(DIGEST)).release();
  });

  it('the database unreachable, a claim fails at once rather than hanging (the pull then fetches without it)', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = server.address() as net.AddressInfo;
        server.close(() => resolve(p));
      });
    });
    const claims = new PostgresFetchClaims(`postgres://postgres@127.0.0.1:${port}/lading`);
    await assert.rejects(claims.claim(DIGEST), /ECONNREFUSED|CONNECT/);
  });

  it('a claim held through a database outage is let go without a hang, and claims are granted again once it is back', async () => {
    const pg = await startPostgres();
    try {
      const claims = new PostgresFetchClaims(await pg.createDatabase());
      const held = await claims.claim(DIGEST);
      await pg.stop();
      held.release();
      await pg.start();
      // Every one of a replica's claim slots comes back: more claims than slots, one after the other.
      for (let i = 0; i < 10; i++) (await claims.claim(DIGEST)).release();
    } finally {
      await pg.remove();
    }
  });
});
