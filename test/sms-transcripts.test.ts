import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { createTestApp, type TestApp } from './helpers/test-app';
import { startSmsHarness, type SmsHarness } from './helpers/sms';
import { parseTranscript } from './helpers/transcripts';
import { TEST_WEBHOOK_SECRET } from './helpers/env';

/**
 * SMS conversations as data (test/sms-transcripts/*.txt, the same format as the USSD transcripts):
 * `> text` is an SMS the citizen sends (through POST /sms/inbound, as AT posts it); the lines under
 * it are every SMS the citizen receives in return, as the fake Africa's Talking server got them from
 * the real outbox worker (several messages are separated by a line `---`).
 */
const dir = join(__dirname, 'sms-transcripts');
const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();
const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const toPattern = (expected: string) => expected.split(/\{\{\w+\}\}/).map(escapeRegex).join('\\S+');

describe.each(files)('sms transcript %s', (file) => {
  let t: TestApp;
  let sms: SmsHarness;
  beforeAll(async () => {
    t = await createTestApp();
    // The worker keeps the transcript's time: a reminder for tomorrow is not due at 09:00 today.
    sms = await startSmsHarness(t.rt.db, t.rt.logger, { app: t.app, worker: { now: () => t.now().getTime() }, isOptedOut: (phone, kind) => t.rt.services.optOuts.isOptedOut(phone).then((o) => o && kind !== 'essential') });
  });
  afterAll(async () => {
    await sms.close();
    await t.close();
  });

  test.each(parseTranscript(join(dir, file)).map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    if (c.lang) await t.rt.services.preferences.setLanguage(c.phone, c.lang);
    t.setNow(c.clock ?? null);
    for (const step of c.steps) {
      const seen = sms.fake.messagesTo(c.phone).length;
      const res = await request(t.app)
        .post(`/sms/inbound?token=${TEST_WEBHOOK_SECRET}`)
        .type('form')
        .send({ id: `ATXid_${randomBytes(8).toString('hex')}`, from: c.phone, to: '22384', text: step.input ?? '', date: '2026-11-25 09:00:00', networkCode: '63902' });
      expect(res.status).toBe(200);
      await sms.drain();
      const got = sms.fake.messagesTo(c.phone).slice(seen).map((m) => m.message).join('\n---\n');
      const where = `${file}:${step.line}\n`;
      if (step.expect.includes('{{')) expect(where + got).toMatch(new RegExp(`^${escapeRegex(where)}${toPattern(step.expect)}$`));
      else expect(where + got).toBe(where + step.expect);
    }
  });
});
