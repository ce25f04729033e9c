import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type postgres from 'postgres';
import { sharedPostgres, skipWithoutPostgres } from '../../../test/support/postgres.js';
import { postgresClient } from './postgres-client.js';

const execFileAsync = promisify(execFile);

/**
 * A loopback proxy to the database that resets each connection (as a server that went away)
 * when its client sends anything after the server's first ReadyForQuery: the first query a new
 * connection sends fails with ECONNRESET.
 */
async function resetAfterReady(url: string): Promise<{ url: string; close(): Promise<void> }> {
  const target = new URL(url);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    let ready = false;
    client.on('data', (chunk: Buffer) => {
      if (!ready) upstream.write(chunk);
      else {
        client.resetAndDestroy();
        upstream.destroy();
      }
    });
    let pending = Buffer.alloc(0);
    upstream.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      // Messages: a type byte and a length that counts itself; 'Z' is ReadyForQuery.
      for (let at = 0; pending.length - at >= 5; ) {
        const end = at + 1 + pending.readInt32BE(at + 1);
        if (pending.length < end) break;
        if (pending[at] === 0x5a) {
          ready = true;
          client.write(pending.subarray(0, end));
          return;
        }
        at = end;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxied = new URL(url);
  proxied.port = String((server.address() as net.AddressInfo).port);
  return {
    url: proxied.toString(),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * One query through `url` in a process of its own (the test runner fails a test on any unheard
 * rejection, the thing looked for), with the library's default options or ours: how it failed,
 * and how many rejections went unheard within a moment after.
 */
async function queryAlone(url: string, options: 'defaults' | 'ours'): Promise<{ failure: string; unheard: number }> {
  const postgresUrl = pathToFileURL(path.join(here, '../../../../node_modules/postgres/src/index.js')).href;
  const clientUrl = pathToFileURL(path.join(here, 'postgres-client.js')).href;
  const script = `
import postgres from ${JSON.stringify(postgresUrl)};
import { clientOptions } from ${JSON.stringify(clientUrl)};
let unheard = 0;
process.on('unhandledRejection', () => unheard++);
const sql = postgres(${JSON.stringify(url)}, ${options === 'ours' ? "clientOptions('lading test', 1)" : '{ max: 1, onnotice: () => {} }'});
const failure = await sql\`SELECT 1\`.then(() => 'none', (err) => String(err.code));
await new Promise((r) => setTimeout(r, 200));
console.log(JSON.stringify({ failure, unheard }));
process.exit(0);
`;
  const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', script], { timeout: 30_000 });
  return JSON.parse(stdout) as { failure: string; unheard: number };
}

describe('postgresClient', { skip: skipWithoutPostgres() }, () => {
  let url: string;
  let sql: postgres.Sql;
  before(async () => {
    url = await (await sharedPostgres()).createDatabase();
    sql = postgresClient(url, 'lading test', 1);
  });
  after(async () => {
    await sql?.end({ timeout: 1 });
  });

  it('sends text[] parameters element for element, quotes, backslashes, commas and NULL too', async () => {
    const values = ['sha256:ab', 'a "quoted" one', 'back\\slash', 'comma, brace {}', '', null];
    const rows = await sql<Array<{ v: string | null; n: string }>>`SELECT v, ordinality::text AS n FROM unnest(${values as string[]}::text[]) WITH ORDINALITY AS t(v)`;
    assert.deepEqual(rows.map((r) => r.v), values);
    const [any] = await sql<Array<{ hit: boolean }>>`SELECT 'a "quoted" one' = ANY(${values as string[]}::text[]) AS hit`;
    assert.equal(any?.hit, true);
  });

  it('a connection reset just as it is ready fails the query in hand, and leaves no rejection unheard', async () => {
    const proxy = await resetAfterReady(url);
    try {
      // The library's defaults first fetch the array types, from a promise nobody awaits: the reset rejects it unheard.
      const byDefault = await queryAlone(proxy.url, 'defaults');
      assert.ok(byDefault.unheard > 0, `the library's defaults leave the reset unheard (when they stop, fetch_types can come back): ${JSON.stringify(byDefault)}`);
      assert.deepEqual(await queryAlone(proxy.url, 'ours'), { failure: 'ECONNRESET', unheard: 0 });
    } finally {
      await proxy.close();
    }
  });
});
