// The `postgres` client's throw the guard exists for, reproduced with the client in package-lock: a
// query sent in a transaction whose connection the database closed (an outage) never settles, and the
// client's deferred write of it throws where no caller can catch it. Without the guard that ends the
// process; with it, the process goes on. When a client release stops throwing, the first test fails:
// remove the guard then.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tempDir } from '../../test/support/paths.js';
import { skipWithoutPostgres, startPostgres, type PostgresCluster } from '../../test/support/postgres.js';
import { isClosedSocketWrite } from './postgres-write-guard.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** A script that sends a query in a transaction after the database stopped, then reports whether it survived. */
function script(url: string, guarded: boolean): string {
  const guard = pathToFileURL(path.join(here, 'postgres-write-guard.js')).href;
  const postgres = pathToFileURL(path.join(here, '../../../node_modules/postgres/src/index.js')).href;
  return `
import postgres from ${JSON.stringify(postgres)};
import { guardPostgresWrites } from ${JSON.stringify(guard)};
if (${guarded}) guardPostgresWrites({ debugEnabled: false, debug() {}, info() {}, warn(m) { console.log('warned: ' + m); }, error() {} });
const sql = postgres(${JSON.stringify(url)}, { max: 1, onnotice: () => {} });
await sql.begin(async (tx) => {
  await tx\`SELECT 1\`;
  console.log('stop');
  await new Promise((r) => process.stdin.once('data', r));
  void tx\`SELECT 2\`.catch(() => {});
}).catch((err) => console.log('transaction failed: ' + err.code));
await new Promise((r) => setTimeout(r, 500));
console.log('survived');
process.exit(0);
`;
}

describe('guardPostgresWrites', { skip: skipWithoutPostgres(), timeout: 120_000 }, () => {
  let pg: PostgresCluster;
  before(async () => {
    pg = await startPostgres();
  });
  after(async () => {
    await pg?.remove();
  });

  /** Runs the script: it connects, we stop the database, then it sends its second query. */
  async function run(guarded: boolean): Promise<{ status: number | null; output: string }> {
    await pg.start().catch(() => undefined);
    const file = path.join(tempDir('write-guard'), 'repro.mjs');
    writeFileSync(file, script(pg.url(), guarded));
    const child = spawn(process.execPath, [file], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (output.includes('stop')) {
          clearInterval(poll);
          resolve();
        }
      }, 20);
    });
    await pg.stop();
    child.stdin.write('go\n');
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    return { status, output };
  }

  it('without the guard, the client ends the process with its TypeError from nextWrite', async () => {
    const { status, output } = await run(false);
    assert.notEqual(status, 0, output);
    assert.match(output, /TypeError: Cannot read properties of null \(reading 'write'\)\n\s+at Immediate\.nextWrite .*postgres\/src\/connection\.js/);
    assert.doesNotMatch(output, /survived/);
  });

  it('with the guard, the process goes on and says why', async () => {
    const { status, output } = await run(true);
    assert.equal(status, 0, output);
    assert.match(output, /transaction failed: CONNECTION_CLOSED/);
    assert.match(output, /warned: PostgreSQL connection closed under a buffered write/);
    assert.match(output, /survived/);
  });

  it('recognises only that throw', () => {
    const theirs = new TypeError("Cannot read properties of null (reading 'write')");
    theirs.stack = `${theirs.message}\n    at Immediate.nextWrite (file:///app/node_modules/postgres/src/connection.js:258:22)`;
    assert.equal(isClosedSocketWrite(theirs), true);
    const ours = new TypeError("Cannot read properties of null (reading 'write')");
    ours.stack = `${ours.message}\n    at flush (file:///app/dist/src/registry/blob-upload.js:10:3)`;
    assert.equal(isClosedSocketWrite(ours), false);
  });
});
