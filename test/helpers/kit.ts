import request from 'supertest';
import type { Express } from 'express';
import type { Config } from '../../src/config';
import type { Runtime } from '../../src/runtime';
import { luhnValid } from '../../src/domain/reference';
import { fits } from '../../src/engine/gsm7';
import type { SessionRecord } from '../../src/engine/session-store';
import type { TestApp } from './test-app';
import { TEST_WEBHOOK_SECRET } from './env';

/**
 * Small tools shared by the engine, webhook and redaction tests: raw hops, session records,
 * fixtures inserted through the test's own database, and a runtime built by hand (for a dead
 * Postgres or Redis, where createTestApp cannot be used).
 */

/** A valid 13-digit reference: agency, YYMMDD, serial, Luhn check digit. */
export function makeReference(agency: string, yymmdd: string, serial: number): string {
  const body = `${agency}${yymmdd}${String(serial).padStart(4, '0')}`;
  for (let d = 0; d <= 9; d++) if (luhnValid(body + d)) return body + d;
  throw new Error('unreachable');
}

export interface HopResult {
  status: number;
  body: string;
  ms: number;
}

/** One AT callback, as raw as AT sends it. */
export async function hop(app: Express, sessionId: string, phoneNumber: string, text: string): Promise<HopResult> {
  const started = Date.now();
  const res = await request(app)
    .post(`/ussd?token=${TEST_WEBHOOK_SECRET}`)
    .type('form')
    .send({ sessionId, serviceCode: '*384*2222#', phoneNumber, networkCode: '63902', text });
  return { status: res.status, body: res.text, ms: Date.now() - started };
}

/** The page the phone shows, without AT's `CON `/`END ` prefix. */
export const pageOf = (body: string): string => body.replace(/^(CON|END) /, '');

/** Every reply must fit the screen budget in the encoding it travels in. */
export function expectFits(body: string, limit: number): void {
  const page = pageOf(body);
  if (!fits(page, limit)) throw new Error(`screen over ${limit}:\n${page}`);
  expect(page.trim().length).toBeGreaterThan(0);
}

/** The store key of a USSD session's record (relative: the store adds the test's prefix). */
export const sessionKey = (_t: { config: Config }, sessionId: string) => `ussd:s:${sessionId}`;

export async function readRecord(t: { rt: Runtime; config: Config }, sessionId: string): Promise<SessionRecord | null> {
  const raw = await t.rt.store.get(sessionKey(t, sessionId));
  return raw ? (JSON.parse(raw) as SessionRecord) : null;
}

/** The ways a Kenyan phone number can be written: +254712345678, 254712345678, 0712345678, 712345678. */
export function phoneForms(e164: string): string[] {
  const national = e164.replace(/^\+254/, '');
  return [e164, e164.slice(1), `0${national}`, national];
}

/** A citizen with a registered phone, inserted into the test's database. */
export async function insertCitizen(t: TestApp, c: { idNumber: string; phone: string; firstName?: string; lang?: 'en' | 'sw' }): Promise<number> {
  const [row] = await t.rt
    .db('citizens')
    .insert({ id_hash: t.rt.services.blind.idNumber(c.idNumber), first_name: c.firstName ?? 'Test', last_name: 'Citizen', birth_date: '1990-01-01', phone: c.phone })
    .returning('id');
  if (c.lang) await t.rt.services.preferences.setLanguage(c.phone, c.lang);
  return row.id as number;
}

export async function insertApplication(
  t: TestApp,
  a: { citizenId: number; reference: string; type: string; status: string; reason?: string | null; centre?: string | null; submittedOn?: string },
): Promise<void> {
  await t.rt.db('applications').insert({
    reference: a.reference,
    citizen_id: a.citizenId,
    type: a.type,
    status: a.status,
    reason: a.reason ?? null,
    collection_centre: a.centre ?? null,
    submitted_on: a.submittedOn ?? '2026-11-01',
  });
}


/** Demo citizens (seeds/data/demo.json) the tests dial as. */
export const DEMO = {
  wanjiku: { phone: '+254712345678', id: '23456789', passport: '1026100200488' },
  otieno: { phone: '+254722000111', id: '30123456' },
  amina: { phone: '+254733222333', id: '12345678' },
  kiprono: { phone: '+254110123456', id: '28765432' },
  mutua: { phone: '+254701987654', id: '7654321' },
  achieng: { phone: '+254799000111', id: '33445566', passport: '1026111105122' },
  hussein: { phone: '+254745678901', id: '29887766' },
} as const;
