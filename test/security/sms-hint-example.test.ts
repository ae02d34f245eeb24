import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { catalogues } from '../../src/i18n';
import { DEMO } from '../helpers/kit';

/**
 * Issue 10, "Also": the SMS hint's example ID number was "12345678", a demo citizen's ID number and
 * a plausible real one. No screen or SMS text, in either language, carries a citizen's ID number
 * as an example: the demo data's (seeds/data/demo.json), the test citizens', nor any 7–8-digit run
 * after the word "ID" or "kitambulisho".
 */
const demo = JSON.parse(readFileSync(join(__dirname, '../../seeds/data/demo.json'), 'utf8')) as { citizens: Array<{ id_number: string }> };
const citizenIds = [...new Set([...demo.citizens.map((c) => c.id_number), ...Object.values(DEMO).map((c) => c.id)])];

test.each(['en', 'sw'] as const)('no %s catalogue string holds an ID number', (lang) => {
  expect(citizenIds.length).toBeGreaterThan(2);
  const found: string[] = [];
  for (const [key, text] of Object.entries(catalogues[lang])) {
    for (const id of citizenIds) if (text.includes(id)) found.push(`${key}: ${id}`);
    if (/(\bID\b|kitambulisho)[^\n]*\b\d{7,8}\b/i.test(text)) found.push(`${key}: an ID-like example`);
  }
  expect(found).toEqual([]);
});
