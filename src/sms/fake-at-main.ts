import { startFakeAt } from './fake-at';
import { DEV_SECRETS } from '../config';

/**
 * The fake AT server as a process of its own (the SMS bench runs it so the fake's CPU is not the
 * worker's, as AT's is not in production; also handy beside `npm run worker`).
 *   FAKE_AT_PORT (default 0: any free port), FAKE_AT_KEY (default fake-at-key),
 *   FAKE_AT_DELIVERY_URL (post Sent+Success reports there after 1.5 s), FAKE_AT_PRINT=1 (print each SMS).
 * Prints `fake AT listening on <url>` first.
 */
async function main(): Promise<void> {
  const print = process.env.FAKE_AT_PRINT === '1';
  const deliveryUrl = process.env.FAKE_AT_DELIVERY_URL;
  const fake = await startFakeAt({
    port: Number(process.env.FAKE_AT_PORT ?? 0),
    apiKey: process.env.FAKE_AT_KEY ?? DEV_SECRETS.AT_API_KEY,
    ...(deliveryUrl ? { deliveryUrl, autoDeliver: { delayMs: 1500, statuses: ['Sent', 'Success'] } } : {}),
    ...(print ? { onMessage: (m) => process.stdout.write(`[fake AT] SMS to ${m.to}: ${m.message}\n`) } : {}),
  });
  process.stdout.write(`fake AT listening on ${fake.url}\n`);
  const stop = () => void fake.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  process.stderr.write(`fake AT could not start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
