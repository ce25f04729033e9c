import postgres from 'postgres';
import { sharedPostgres } from '../../../test/support/postgres.js';
import type { Harness } from '../../util/conformance.js';
import { PostgresMetadataStore } from '../postgres/postgres-metadata-store.js';

let schemas = 0;
let admin: { url: string; sql: postgres.Sql } | undefined;

/**
 * A new empty schema in the test process's database (test/support/postgres.ts), and the URL that
 * makes it the store's (search_path): a CREATE SCHEMA takes milliseconds where a CREATE DATABASE
 * takes half a second, and each schema has its own change channel and migration lock.
 */
export async function freshPostgresSchema(): Promise<string> {
  if (!admin) {
    const url = await (await sharedPostgres()).createDatabase();
    // Closed when idle, so that it never keeps the test process alive.
    admin = { url, sql: postgres(url, { max: 1, idle_timeout: 1, onnotice: () => {} }) };
  }
  const schema = `t${process.pid}_${++schemas}`;
  await admin.sql.unsafe(`CREATE SCHEMA ${schema}`);
  const url = new URL(admin.url);
  url.searchParams.set('search_path', schema);
  return url.toString();
}

/** A PostgresMetadataStore on a schema of its own (the cluster goes when the test process exits). */
export async function postgresHarness(): Promise<Harness<PostgresMetadataStore>> {
  const store = await PostgresMetadataStore.open(await freshPostgresSchema());
  return { store, close: () => store.close() };
}
