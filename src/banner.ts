/**
 * What `npm start` prints once the gateway listens: the callback URLs to paste into AT's dashboard.
 * In production the token is elided (`?token=…`): whoever reads the start-up output (a log
 * collector, a shared terminal) must not learn the webhook secret, with which anyone can post
 * as any phone number. The operator already has it where it was set. Outside production the dev
 * banner shows it, so a newcomer can paste the URLs as they are.
 */
export interface BannerInput {
  production: boolean;
  port: number;
  webhookSecret: string;
  /** The SMS line: the fake AT's URL, or AT's base URL (and whether this process sends). */
  sms: { fakeAtUrl: string } | { atUrl: string; workerOn: boolean };
  /** Where sessions and limits live (src/store). */
  store?: 'redis' | 'postgres';
}

export function startBanner(b: BannerInput): string {
  const base = `http://127.0.0.1:${b.port}`;
  const token = b.production ? '…' : encodeURIComponent(b.webhookSecret);
  return [
    '',
    `Simu is listening on ${base}`,
    `  USSD callback (paste into AT's dashboard):  ${base}/ussd?token=${token}`,
    `  USSD end-of-session notifications:           ${base}/ussd/events?token=${token}`,
    `  Health: ${base}/healthz   Ready: ${base}/readyz${b.store ? `   Sessions and limits: ${b.store === 'redis' ? 'Redis' : 'PostgreSQL (no Redis)'}` : ''}`,
    `  SMS delivery reports (AT's dashboard):      ${base}/sms/delivery?token=${token}`,
    `  Incoming SMS (AT's dashboard):              ${base}/sms/inbound?token=${token}`,
    'fakeAtUrl' in b.sms
      ? `  SMS: fake Africa's Talking at ${b.sms.fakeAtUrl} (no AT_API_KEY); every SMS it "sends" is printed here`
      : `  SMS: Africa's Talking at ${b.sms.atUrl}${b.sms.workerOn ? '' : ' (worker off here: run npm run worker)'}`,
    `  Dial it from a terminal phone:  npm run simulate -- --phone +254712345678`,
    b.production
      ? '  (token=… is WEBHOOK_SECRET, not printed in production)'
      : '  (dev secrets in use: set WEBHOOK_SECRET and ID_HASH_KEY for anything real)',
    '',
  ].join('\n');
}
