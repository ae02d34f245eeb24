import type { Knex } from 'knex';
import type { Db } from './index';

/**
 * A query of the USSD hot path, compiled once. knex builds the SQL at start-up from the same
 * builder code as ever; each call then sends it to PostgreSQL as a named prepared statement over a
 * connection of knex's own pool, so neither side builds, parses or plans it again.
 *
 * Measured (bench, 10 concurrent calls): the dial's query cost 390 µs of our CPU through the knex
 * builder, 107 µs as knex.raw, 37 µs prepared; the server's throughput for it went from 1,800 to
 * 20,800 a second. knex's 'query' event is still emitted, so counting statements keeps working.
 *
 * The builder is given stand-ins for the parameters (`p.phone`, `p.now` …): unique strings that
 * knex passes through as bindings, replaced by the call's values. Constants the builder writes
 * itself (`'failed'`, `limit 1`) stay as they are.
 */
export type Prepared<P, Row> = (params: P) => Promise<Row[]>;

const STAND_IN = '\u0000simu-param:';

interface PgConnection {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}
interface PoolClient {
  acquireConnection(): Promise<PgConnection>;
  releaseConnection(conn: PgConnection): Promise<unknown>;
}

export function prepare<P extends Record<string, unknown>, Row>(
  db: Db,
  name: string,
  names: ReadonlyArray<keyof P & string>,
  build: (p: P) => Knex.QueryBuilder | Knex.Raw,
): Prepared<P, Row> {
  const standIns = Object.fromEntries(names.map((n) => [n, `${STAND_IN}${n}`])) as unknown as P;
  const { sql, bindings } = build(standIns).toSQL().toNative();
  /** Per binding: the parameter it stands for, or the constant the builder wrote. */
  const slots: Array<{ param: keyof P & string } | { value: unknown }> = bindings.map((b) =>
    typeof b === 'string' && b.startsWith(STAND_IN) ? { param: b.slice(STAND_IN.length) as keyof P & string } : { value: b },
  );
  for (const n of names) if (!slots.some((s) => 'param' in s && s.param === n)) throw new Error(`prepared ${name}: parameter ${n} is not used`);
  const client = db.client as unknown as PoolClient;
  const statement = `simu_${name}`;
  return async (params) => {
    const values = slots.map((s) => ('param' in s ? params[s.param] : s.value));
    // For whoever counts or logs statements (the bench); no event object built when nobody listens.
    if (db.listenerCount('query') > 0) db.emit('query', { method: 'prepared', name: statement, sql, bindings: values });
    const conn = await client.acquireConnection();
    try {
      return (await conn.query({ name: statement, text: sql, values })).rows as Row[];
    } finally {
      await client.releaseConnection(conn);
    }
  };
}
