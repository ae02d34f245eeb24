import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Knex } from 'knex';
import type { Logger } from '../../src/log';
import { AfricasTalkingSender } from '../../src/sms/africastalking';
import { FakeAt, startFakeAt, type FakeAtOptions } from '../../src/sms/fake-at';
import type { Throttle } from '../../src/sms/throttle';
import { SmsWorker, type SmsWorkerOptions } from '../../src/sms/worker';
import { TEST_WEBHOOK_SECRET } from './env';

/**
 * The real SMS pipeline against a fake Africa's Talking on a loopback port:
 *
 *   const sms = await startSmsHarness(t.rt.db, t.rt.logger, { app: t.app });   // app: DLRs reach it
 *   … enqueueSms(trx, …) in the code under test …
 *   await sms.drain();                         // sends everything due now, returns counts
 *   sms.fake.messagesTo('+254712345678')       // what "AT" received: to, message, from, messageId …
 *   await sms.fake.deliver(messageId, 'Failed') // a delivery report to the gateway
 *   await sms.close();
 *
 * Workers here have no backoff (retries are due at once) and no throttle unless asked, so tests
 * drain deterministically instead of sleeping.
 */
export const TEST_AT_USERNAME = 'simu-test';
export const TEST_AT_SENDER_ID = 'ECITIZEN';

export interface SmsHarness {
  fake: FakeAt;
  sender: AfricasTalkingSender;
  worker: SmsWorker;
  /** Another worker over the same database and fake (two workers at once, a restart after a crash). */
  newWorker(options?: Partial<SmsWorkerOptions>, throttle?: Throttle): SmsWorker;
  /** One worker round after another until nothing is due now. */
  drain(): ReturnType<SmsWorker['drain']>;
  /** The gateway's delivery-report URL the fake posts to (when `app` was given). */
  deliveryUrl: string | null;
  close(): Promise<void>;
}

export interface SmsHarnessOptions {
  /** The gateway under test: listened on a loopback port so the fake can post delivery reports to it. */
  app?: Express;
  fake?: FakeAtOptions;
  worker?: Partial<SmsWorkerOptions>;
  throttle?: Throttle;
  /** The sender's timeout (default 500 ms; the fake's 'timeout' failure holds the call past it). */
  timeoutMs?: number;
  /** The key the sender presents (default: the fake's). */
  apiKey?: string;
  isOptedOut?: (phone: string, kind: string) => Promise<boolean>;
}

export const TEST_WORKER_OPTIONS: Partial<SmsWorkerOptions> = { retryBaseMs: 0, pollMs: 20, concurrency: 4, batchSize: 20, leaseMs: 60_000 };

export async function listen(app: Express): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function startSmsHarness(db: Knex, logger: Logger, opts: SmsHarnessOptions = {}): Promise<SmsHarness> {
  const gateway = opts.app ? await listen(opts.app) : null;
  const deliveryUrl = gateway ? `${gateway.url}/sms/delivery?token=${TEST_WEBHOOK_SECRET}` : null;
  const fake = await startFakeAt({ username: TEST_AT_USERNAME, ...(deliveryUrl ? { deliveryUrl } : {}), ...opts.fake });
  const sender = new AfricasTalkingSender({
    baseUrl: fake.url,
    username: TEST_AT_USERNAME,
    apiKey: opts.apiKey ?? fake.apiKey,
    senderId: TEST_AT_SENDER_ID,
    timeoutMs: opts.timeoutMs ?? 500,
  });
  const workers: SmsWorker[] = [];
  const newWorker = (options: Partial<SmsWorkerOptions> = {}, throttle?: Throttle) => {
    const w = new SmsWorker({
      db,
      sender,
      logger,
      ...(throttle ?? opts.throttle ? { throttle: throttle ?? opts.throttle } : {}),
      ...(opts.isOptedOut ? { isOptedOut: opts.isOptedOut } : {}),
      options: { ...TEST_WORKER_OPTIONS, ...opts.worker, ...options },
    });
    workers.push(w);
    return w;
  };
  const worker = newWorker();
  return {
    fake,
    sender,
    worker,
    newWorker,
    drain: () => worker.drain(),
    deliveryUrl,
    async close() {
      await Promise.all(workers.map((w) => w.stop()));
      sender.close();
      await fake.close();
      await gateway?.close();
    },
  };
}

/** Polls `check` until it returns true (for the started worker loop); fails after `ms`. Not a timing assertion. */
export async function eventually(check: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
