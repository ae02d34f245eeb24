import request from 'supertest';
import type { Response } from 'supertest';
import type { TestApp } from '../helpers/test-app';
import type { StaffMember } from '../../src/services/staff';
import { StaffService } from '../../src/services/staff';

/**
 * Staff test helpers: accounts made through the real service, a browser-like supertest agent that
 * keeps the session cookie and reads the CSRF token from each page, and the consent code read from
 * the SMS outbox (the only place it exists in clear).
 */
export const PASSWORD = 'counter-pass-2026';

/** Demo citizens (seeds/data/demo.json). */
export const WANJIKU = { id: '23456789', phone: '+254712345678', name: 'Wanjiku Kamau' };
export const OTIENO = { id: '30123456', phone: '+254722000111', name: 'Otieno Ochieng' };
export const MUTUA = { id: '7654321', phone: '+254701987654', name: 'Mutua Nzioka' };
export const ACHIENG = { id: '33445566', phone: '+254799000111', name: 'Achieng Akinyi' };

export const GPO = 'nairobi-gpo';
export const CITY_SQUARE = 'nairobi-city-square';

export function staffService(t: TestApp): StaffService {
  return new StaffService({ db: t.rt.db, store: t.rt.store, blind: t.rt.services.blind });
}

export async function addStaff(t: TestApp, username: string, role: 'agent' | 'supervisor' | 'admin', centre: string): Promise<StaffMember> {
  const r = await staffService(t).create({ username, name: `${username} Test`, role, centreCode: centre, password: PASSWORD }, null);
  if (r.kind !== 'created') throw new Error(`could not create ${username}: ${r.kind}`);
  return r.staff;
}

export async function tokenFor(t: TestApp, staffId: number): Promise<string> {
  const issued = await staffService(t).issueToken(null, staffId, 'test');
  if (issued.kind !== 'issued') throw new Error('no token');
  return issued.token;
}

export const csrfOf = (html: string): string => {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error(`no CSRF token in page:\n${html.slice(0, 500)}`);
  return m[1] as string;
};

/** Every response body a test saw, to check afterwards that no login code ever reached staff. */
export const seen: string[] = [];
const keep = (r: Response): Response => {
  seen.push(r.text ?? JSON.stringify(r.body));
  return r;
};

/** A staff member's browser: cookies kept, CSRF token taken from the last page. */
export class Console {
  readonly agent: ReturnType<typeof request.agent>;
  csrf = '';

  constructor(private readonly t: TestApp) {
    this.agent = request.agent(t.app);
  }

  async get(path: string): Promise<Response> {
    const r = keep(await this.agent.get(path));
    const m = /name="_csrf" value="([^"]+)"/.exec(r.text ?? '');
    if (m) this.csrf = m[1] as string;
    return r;
  }

  /** A form post with the page's CSRF token (unless `_csrf` is given, or null to leave it out). */
  async post(path: string, form: Record<string, string | null> = {}): Promise<Response> {
    const body: Record<string, string> = {};
    if (!('_csrf' in form)) body._csrf = this.csrf;
    for (const [k, v] of Object.entries(form)) if (v !== null) body[k] = v;
    const r = keep(await this.agent.post(path).type('form').send(body));
    const m = /name="_csrf" value="([^"]+)"/.exec(r.text ?? '');
    if (m) this.csrf = m[1] as string;
    return r;
  }

  async login(username: string, password = PASSWORD): Promise<Response> {
    await this.get('/staff/login');
    return this.post('/staff/login', { username, password });
  }

  /** Find a citizen and return the visit id (from the redirect). */
  async find(idNumber: string): Promise<number> {
    await this.get('/staff/find');
    const r = await this.post('/staff/find', { id_number: idNumber });
    const m = /^\/staff\/visits\/(\d+)$/.exec(String(r.headers.location ?? ''));
    if (r.status !== 303 || !m) throw new Error(`find answered ${r.status} ${r.headers.location ?? ''}`);
    return Number(m[1]);
  }

  /** Find, send the consent code, read it from the outbox, type it: the visit is open. */
  async openVisit(idNumber: string): Promise<number> {
    const visit = await this.find(idNumber);
    await this.get(`/staff/visits/${visit}`);
    const sent = await this.post(`/staff/visits/${visit}/send-code`);
    if (sent.status !== 303) throw new Error(`send-code answered ${sent.status}`);
    const code = await consentCode(this.t, visit);
    await this.get(`/staff/visits/${visit}`);
    const ok = await this.post(`/staff/visits/${visit}/verify`, { code });
    if (ok.status !== 303) throw new Error(`verify answered ${ok.status}: ${ok.text}`);
    return visit;
  }
}

/** The code in the newest consent SMS of a visit, as the citizen reads it from their phone. */
export async function consentCode(t: TestApp, visitId: number): Promise<string> {
  const row = await t.rt.db('sms_outbound').where({ ref: `consent:${visitId}` }).orderBy('id', 'desc').first('body');
  const m = /(?<!\d)(\d{6})(?!\d)/.exec(String(row?.body ?? ''));
  if (!m) throw new Error(`no consent SMS for visit ${visitId}`);
  return m[1] as string;
}

/** A JSON API client with a bearer token. */
export class Api {
  constructor(private readonly t: TestApp, private readonly token: string) {}

  async get(path: string): Promise<Response> {
    return keep(await request(this.t.app).get(`/staff/api${path}`).set('Authorization', `Bearer ${this.token}`));
  }

  async post(path: string, body: Record<string, unknown> = {}): Promise<Response> {
    return keep(await request(this.t.app).post(`/staff/api${path}`).set('Authorization', `Bearer ${this.token}`).send(body));
  }

  /** Lookup, consent code from the outbox, consent: returns the open visit id. */
  async openVisit(idNumber: string): Promise<number> {
    const found = await this.post('/citizens/lookup', { idNumber });
    if (found.status !== 201) throw new Error(`lookup answered ${found.status}`);
    const id = found.body.visit.id as number;
    const sent = await this.post(`/visits/${id}/consent-code`);
    if (sent.status !== 202) throw new Error(`consent-code answered ${sent.status}`);
    const ok = await this.post(`/visits/${id}/consent`, { code: await consentCode(this.t, id) });
    if (ok.status !== 200) throw new Error(`consent answered ${ok.status}`);
    return id;
  }
}

/** Every login code ever queued by SMS (the only place one exists in clear). */
export async function loginCodesSent(t: TestApp): Promise<string[]> {
  const rows = await t.rt.db('sms_outbound').where({ kind: 'login_code' }).select('body');
  return rows.map((r) => /(?<!\d)(\d{6})(?!\d)/.exec(String(r.body))?.[1]).filter((c): c is string => !!c);
}

export async function auditRows(t: TestApp, where: Record<string, unknown>): Promise<Array<Record<string, unknown>>> {
  return t.rt.db('audit_log').where(where).orderBy('id');
}
