import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createTestApp, type TestApp } from './helpers/test-app';
import { UssdPhone } from './helpers/phone';
import { parseTranscript } from './helpers/transcripts';

/** Plays every conversation in test/transcripts/*.txt over HTTP against the real gateway. */
const dir = join(__dirname, 'transcripts');
const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();

describe.each(files)('transcript %s', (file) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  const cases = parseTranscript(join(dir, file));
  test.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    if (c.lang) await t.rt.services.preferences.setLanguage(c.phone, c.lang);
    const phone = new UssdPhone(t.app, c.phone);
    for (const step of c.steps) {
      const got = step.retry ? await phone.retry() : step.input === null ? await phone.dial() : await phone.reply(step.input);
      // A step with no reply lines written under it is played but not checked.
      if (step.expect !== '') expect(`${file}:${step.line}\n${got}`).toBe(`${file}:${step.line}\n${step.expect}`);
    }
  });
});
