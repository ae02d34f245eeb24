import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import { SingleBar, Presets } from 'cli-progress';
import { loadConfig, withDevDefaults } from '../config';
import { createDb, migrate } from '../db';
import { createServices } from '../services';
import { PostgresStore } from '../store';
import type { StatusChange } from '../services/status-updates';

/**
 * `npm run import -- changes.csv [--agency immigration]`: batch status changes from an agency back
 * office. Columns (header row): reference,status[,reason][,collection_centre]. Each batch of 500 is
 * one transaction: the history rows and the resulting SMS commit together; the SMS then drain at
 * the throttled rate through the outbox worker, so an import never blocks the gateway.
 * With --agency, rows for another agency's references are refused, as the API would refuse them.
 */
export async function readChanges(file: string): Promise<StatusChange[]> {
  const rows: StatusChange[] = [];
  const parser = createReadStream(file).pipe(parse({ columns: true, trim: true, skip_empty_lines: true }));
  for await (const r of parser as AsyncIterable<Record<string, string>>) {
    rows.push({
      reference: String(r.reference ?? ''),
      status: String(r.status ?? '').toUpperCase(),
      ...(r.reason !== undefined ? { reason: r.reason === '' ? null : r.reason } : {}),
      ...(r.collection_centre !== undefined ? { collectionCentre: r.collection_centre === '' ? null : r.collection_centre } : {}),
    });
  }
  return rows;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  const agencyIdx = args.indexOf('--agency');
  const agency = agencyIdx >= 0 ? args[agencyIdx + 1] : undefined;
  if (!file) throw new Error('usage: npm run import -- changes.csv [--agency <agency>]');
  const env = withDevDefaults();
  const config = loadConfig(env);
  const db = createDb(config.DATABASE_URL);
  // The import uses no ephemeral state (no sessions, no rate limits): no Redis needed, none opened.
  const store = new PostgresStore(db, config.REDIS_PREFIX, { sweepEveryMs: 0 });
  try {
    await migrate(db);
    const services = createServices({ db, store, idHashKey: config.ID_HASH_KEY });
    let agencyCode: string | null = null;
    if (agency) {
      const row = await db('agencies').where({ code: agency }).first('agency_code');
      if (!row) throw new Error(`unknown agency: ${agency}`);
      agencyCode = row.agency_code as string;
    }
    const changes = await readChanges(file);
    const bar = new SingleBar({ format: 'importing [{bar}] {value}/{total} changes  {eta_formatted} left' }, Presets.shades_classic);
    bar.start(changes.length, 0);
    const started = Date.now();
    const counts = await services.statusUpdates.applyMany(changes, { agencyCode, onProgress: (done) => bar.update(done) });
    bar.stop();
    const seconds = (Date.now() - started) / 1000;
    console.log(`updated ${counts.updated}, unchanged ${counts.unchanged}, not found ${counts.not_found}, refused ${counts.invalid + counts.forbidden}; ${counts.notified} SMS queued; ${(changes.length / seconds).toFixed(0)} changes/s`);
  } finally {
    await store.close();
    await db.destroy();
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
