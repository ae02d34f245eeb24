import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createTestApp, type TestApp } from './helpers/test-app';
import { UssdPhone } from './helpers/phone';
import { parseTranscript } from './helpers/transcripts';

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** `{{code}}` (any name) in an expected reply stands for text that varies, e.g. a fresh login code: one run of non-space characters. */
const toPattern = (expected: string) => expected.split(/\{\{\w+\}\}/).map(escapeRegex).join('\\S+');

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
    t.setNow(c.clock ?? null);
    const phone = new UssdPhone(t.app, c.phone);
    for (const step of c.steps) {
      const got = step.retry ? await phone.retry() : step.input === null ? await phone.dial() : await phone.reply(step.input);
      // A step with no reply lines written under it is played but not checked.
      if (step.expect === '') continue;
      const where = `${file}:${step.line}\n`;
      if (step.expect.includes('{{')) expect(where + got).toMatch(new RegExp(`^${escapeRegex(where)}${toPattern(step.expect)}$`));
      else expect(where + got).toBe(where + step.expect);
    }
  });
});
