import { connect } from 'node:net';
import path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded';
import { withoutPassword } from '.';

/**
 * Which PostgreSQL the gateway (and `npm test`) uses:
 * 1. DATABASE_URL when it is set;
 * 2. in production, nothing else: a missing DATABASE_URL is an error (data must not end up in a
 *    directory of the checkout by accident);
 * 3. the local server on 127.0.0.1:5432 when something answers there (SIMU_PG_PROBE=host:port
 *    moves the probe, e.g. to a closed port to force the embedded server);
 * 4. else the embedded PostgreSQL 18 of this checkout (`.simu/pg`, see embedded.ts).
 */
export interface ChosenDatabase {
  url: string;
  /** For the banner and logs: the URL without its password, or the embedded server's directory and port. */
  description: string;
  embedded: EmbeddedPostgres | null;
  /** Stops the embedded server if this process owns it. */
  stop(): Promise<void>;
}

export const DEFAULT_PROBE = '127.0.0.1:5432';
export const DEFAULT_EMBEDDED_DIR = '.simu/pg';

export async function chooseDatabase(
  env: Record<string, string | undefined>,
  opts: { database: string; dataDir?: string; onLog?: (line: string) => void; settings?: Record<string, string>; trustLocalhost?: boolean },
): Promise<ChosenDatabase> {
  if (env.DATABASE_URL) return external(env.DATABASE_URL);
  if (env.NODE_ENV === 'production') {
    throw new Error('DATABASE_URL is not set. In production Simu needs an external PostgreSQL (postgres://user:password@host:5432/simu); the embedded database is for development and tests only.');
  }
  const probe = env.SIMU_PG_PROBE || DEFAULT_PROBE;
  if (await answersTcp(probe)) return external(`postgres://postgres@${probe}/${opts.database}`);
  const t0 = Date.now();
  const pg = await startEmbeddedPostgres({
    dataDir: opts.dataDir ?? path.resolve(DEFAULT_EMBEDDED_DIR),
    ...(opts.onLog ? { onLog: opts.onLog } : {}),
    ...(opts.settings ? { settings: opts.settings } : {}),
    ...(opts.trustLocalhost ? { trustLocalhost: true } : {}),
  });
  const seconds = ((Date.now() - t0) / 1000).toFixed(1);
  const how = {
    initialised: `initialised and started in ${seconds} s`,
    started: `started in ${seconds} s`,
    adopted: 'adopted: left running by a gateway that was killed',
    shared: 'shared with the process that started it',
  }[pg.how];
  return {
    url: pg.url(opts.database),
    description: `embedded PostgreSQL 18 in ${path.relative(process.cwd(), pg.dataDir) || pg.dataDir} on 127.0.0.1:${pg.port} (${how}; nothing answered on ${probe})`,
    embedded: pg,
    stop: () => pg.stop(),
  };
}

function external(url: string): ChosenDatabase {
  return { url, description: withoutPassword(url), embedded: null, stop: async () => undefined };
}

/** Whether anything accepts a TCP connection at host:port within a second. */
export function answersTcp(hostPort: string, timeoutMs = 1000): Promise<boolean> {
  const at = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, at).replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = Number(hostPort.slice(at + 1));
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
