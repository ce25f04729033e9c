import postgres from 'postgres';

export type PostgresOptions = postgres.Options<Record<string, postgres.PostgresType>>;

/** PostgreSQL's oid of text[]: the type of every array the queries send (`${digests}::text[]`). */
const TEXT_ARRAY_OID = 1009;

/** A text[] literal: each element quoted, its quotes and backslashes escaped. */
function textArrayLiteral(value: unknown): string {
  const items = value as readonly (string | null)[];
  return `{${items.map((x) => (x === null ? 'NULL' : `"${x.replace(/[\\"]/g, (c) => `\\${c}`)}"`)).join(',')}}`;
}

/**
 * A client of the `postgres` library as every part of Lading opens one: `name` shows in
 * pg_stat_activity, `max` connections at most.
 *
 * - `fetch_types: false`: otherwise the client (3.4.10) asks each new connection for the server's
 *   array types from a promise nobody awaits, and a server that goes away during that query
 *   (pg_ctl stop just after a reconnect) rejects it unhandled, which ends the process. The one
 *   array type the queries send, text[], is declared instead; no query reads an array back.
 * - `backoff`: the client's default waits up to 20 s between attempts once the server has been
 *   away a while; requests would hang, not fail, and recovery would lag. At most 1 s here.
 */
export function postgresClient(url: string, name: string, max: number, more: PostgresOptions = {}): postgres.Sql {
  return postgres(url, clientOptions(name, max, more));
}

/** The options of postgresClient, for a caller that opens more clients alike (the change feed). */
export function clientOptions(name: string, max: number, more: PostgresOptions = {}): PostgresOptions {
  return {
    max,
    connect_timeout: 10,
    backoff: (retries) => Math.min(0.1 * retries, 1),
    onnotice: () => {},
    fetch_types: false,
    types: { textArray: { to: TEXT_ARRAY_OID, from: [], serialize: textArrayLiteral, parse: (x: string) => x } },
    ...more,
    connection: { application_name: name, ...more.connection },
  };
}
