import type { FakeAt } from './fake-at';
import { startFakeAt } from './fake-at';

/**
 * The dev default for SMS: outside production, with neither AT_API_KEY nor AT_API_URL set, start
 * the fake AT server in this process (port PORT+1, or any free port if taken), point the sender at
 * it (by filling AT_API_URL / AT_API_KEY in `env` before the config is read), and print every SMS
 * it "sends" so a newcomer sees the codes and confirmations. Its delivery reports (Sent, then
 * Success) come back to the gateway once `setDeliveryUrl` is called. Returns null otherwise.
 */
export async function startDevFakeAt(env: Record<string, string | undefined>, production: boolean, print: (line: string) => void): Promise<FakeAt | null> {
  if (production || env.AT_API_KEY || env.AT_API_URL) return null;
  const base = Number(env.PORT ?? 3000);
  const opts = {
    autoDeliver: { delayMs: 1500, statuses: ['Sent', 'Success'] },
    onMessage: (m: { to: string; message: string; parts: number }) =>
      print(`[fake AT] SMS to ${m.to} (${m.parts} part${m.parts === 1 ? '' : 's'}): ${m.message}`),
  };
  let fake: FakeAt;
  try {
    fake = await startFakeAt({ ...opts, port: base > 0 && base < 65535 ? base + 1 : 0 });
  } catch {
    fake = await startFakeAt({ ...opts, port: 0 });
  }
  env.AT_API_URL = fake.url;
  env.AT_API_KEY = fake.apiKey;
  return fake;
}
