import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Db } from '../../db';
import type { Logger } from '../../log';
import { audit } from '../../services/audit';
import type { AuditFilters, AuditQuery } from '../../services/audit-query';
import type { AssistService, PhoneChangeView, VisitInfo } from '../../services/assist';
import { actorOf, tokenDetail, type Actor, type Role, type StaffMember, type StaffService } from '../../services/staff';

export interface ApiDeps {
  staff: StaffService;
  assist: AssistService;
  auditQuery: AuditQuery;
  db: Db;
  logger: Logger;
}

const actorOfRes = (res: Response): Actor => res.locals.actor as Actor;
const num = (v: unknown): number => (typeof v === 'string' && /^\d{1,15}$/.test(v) ? Number(v) : NaN);

const fail = (res: Response, status: number, error: string, extra: Record<string, unknown> = {}) => void res.status(status).json({ error, ...extra });

/** One status per refusal, the same everywhere. */
const STATUS: Record<string, number> = {
  forbidden: 403, not_found: 404, consent_required: 403, closed: 410, expired: 410, gone: 404,
  too_soon: 429, too_many_sends: 429, citizen_limit: 429, too_many_attempts: 429, too_many_resets: 429, rate_limited: 429, limit: 429,
  already_open: 409, already_pending: 409, taken: 409, duplicate: 409, not_pending: 409, stale: 409, own_request: 403, no_code: 409, not_awaiting_code: 409,
  wrong_code: 422, bad_id: 400, bad_phone: 400, same_phone: 400, id_card_not_checked: 400, bad_service: 400, unavailable: 503,
};

const refuse = (res: Response, r: { kind: string } & Record<string, unknown>) => {
  const { kind, ...rest } = r;
  fail(res, STATUS[kind] ?? 400, kind, rest);
};

const staffJson = (s: StaffMember) => ({ id: s.id, username: s.username, name: s.name, role: s.role, centre: s.centreCode, centreName: s.centreName, active: s.active, lockedUntil: s.lockedUntil });

const visitJson = (v: VisitInfo) => ({
  id: v.id, state: v.state, phoneMasked: v.phoneMasked, codeExpiresAt: v.codeExpiresAt, expiresAt: v.expiresAt, attemptsLeft: v.attemptsLeft, sendsLeft: v.sendsLeft, resendAt: v.resendAt,
});

/** The full new number only to a supervisor deciding on it; masked for everyone else. */
const changeJson = (c: PhoneChangeView, actor: Actor) => {
  const { newPhone, ...rest } = c;
  return { ...rest, ...(actor.role === 'supervisor' && c.status === 'pending' ? { newPhone } : {}) };
};

function parse<T>(schema: z.ZodType<T>, req: Request, res: Response): T | null {
  const r = schema.safeParse(req.body ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  fail(res, 400, 'bad_request', { field: issue?.path.join('.') ?? '', message: issue?.message ?? 'invalid body' });
  return null;
}

const LookupBody = z.object({ idNumber: z.string().min(1).max(20) });
const CodeBody = z.object({ code: z.string().min(1).max(12) });
const BookBody = z.object({ service: z.string().min(1).max(40), day: z.string().max(10), time: z.string().max(5) });
const MoveBody = z.object({ day: z.string().max(10), time: z.string().max(5) });
const PushBody = z.object({ flow: z.string().min(1).max(40) });
const PhoneChangeBody = z.object({ newPhone: z.string().min(1).max(20), idCardChecked: z.literal(true, { message: 'check the ID card in person and send idCardChecked: true' }) });
const NoteBody = z.object({ note: z.string().max(200).optional() });
const StaffBody = z.object({ username: z.string().max(64), name: z.string().max(120), role: z.string().max(16), centre: z.string().max(64), password: z.string().max(300) });
const TokenBody = z.object({ label: z.string().max(80).optional() });
const AuditBody = z.object({
  from: z.string().max(10).optional(), to: z.string().max(10).optional(), action: z.string().max(48).optional(), outcome: z.string().max(32).optional(),
  staff: z.string().max(64).optional(), channel: z.string().max(16).optional(), centre: z.string().max(64).optional(), idNumber: z.string().max(20).optional(),
  before: z.number().int().positive().optional(), format: z.enum(['json', 'csv']).optional(),
});

/**
 * The JSON API: the console's powers for integrations, under /staff/api. Authenticated by a bearer
 * token per staff member (never by the console's cookie, so no CSRF exposure); the same services
 * enforce the same consent, scope and audit rules, with channel `api` in the audit log.
 */
export function apiRouter(deps: ApiDeps): Router {
  const router = Router();
  router.use(express.json({ limit: '16kb' }));

  router.use(async (req, res, next) => {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    const auth = m ? await deps.staff.authenticateToken(m[1] as string) : null;
    if (!auth) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="simu-staff"');
      return fail(res, 401, 'unauthorized');
    }
    // The actor carries the token (id and issuer): every audit row of this request names it.
    res.locals.actor = actorOf(auth.member, 'api', auth.token);
    res.locals.member = auth.member;
    next();
  });

  const requireRole = (...roles: Role[]) => async (req: Request, res: Response, next: NextFunction) => {
    const actor = actorOfRes(res);
    if (roles.includes(actor.role)) return next();
    await audit(deps.db, { actorType: 'staff', staffId: actor.staffId, centreCode: actor.centreCode, channel: 'api', action: 'access_denied', outcome: 'denied', detail: { path: req.path.slice(0, 100), role: actor.role, ...tokenDetail(actor) } });
    fail(res, 403, 'forbidden');
  };

  router.get('/me', (_req, res) => void res.json({ staff: staffJson(res.locals.member as StaffMember) }));

  // ---- visits: consent, then the citizen -----------------------------------------------------------
  router.post('/citizens/lookup', async (req, res) => {
    const body = parse(LookupBody, req, res);
    if (!body) return;
    const r = await deps.assist.lookup(actorOfRes(res), body.idNumber);
    if (r.kind !== 'found') return refuse(res, r);
    res.status(201).json({ visit: visitJson(r.visit) });
  });

  router.get('/visits/:id', async (req, res) => {
    const r = await deps.assist.visit(actorOfRes(res), num(req.params.id));
    if (r.kind !== 'ok') return refuse(res, r);
    res.json({ visit: visitJson(r.visit) });
  });

  router.post('/visits/:id/consent-code', async (req, res) => {
    const r = await deps.assist.sendConsentCode(actorOfRes(res), num(req.params.id));
    if (r.kind !== 'sent') return refuse(res, r);
    res.status(202).json({ visit: visitJson(r.visit) });
  });

  router.post('/visits/:id/consent', async (req, res) => {
    const body = parse(CodeBody, req, res);
    if (!body) return;
    const r = await deps.assist.verifyConsent(actorOfRes(res), num(req.params.id), body.code);
    if (r.kind !== 'ok') return refuse(res, r);
    res.json({ visit: visitJson(r.visit) });
  });

  router.get('/visits/:id/citizen', async (req, res) => {
    const r = await deps.assist.citizenView(actorOfRes(res), num(req.params.id));
    if (r.kind === 'consent_required') return fail(res, 403, 'consent_required', { visit: visitJson(r.visit) });
    if (r.kind !== 'ok') return refuse(res, r);
    res.json({ visit: visitJson(r.visit), citizen: r.citizen });
  });

  router.post('/visits/:id/close', async (req, res) => {
    const r = await deps.assist.closeVisit(actorOfRes(res), num(req.params.id));
    if (r.kind !== 'closed') return refuse(res, r);
    res.json({ closed: true });
  });

  router.post('/visits/:id/login-code-reset', async (req, res) => {
    const r = await deps.assist.resetLoginCode(actorOfRes(res), num(req.params.id));
    if (r.kind !== 'issued') return refuse(res, r);
    // The code itself went to the citizen's phone; it is not in this response.
    res.status(202).json({ status: 'issued', validUntil: r.validUntil });
  });

  router.post('/visits/:id/push', async (req, res) => {
    const body = parse(PushBody, req, res);
    if (!body) return;
    const r = await deps.assist.pushFlow(actorOfRes(res), num(req.params.id), body.flow);
    if (r.kind !== 'sent') return refuse(res, r);
    res.status(202).json({ status: 'sent', to: r.phoneMasked });
  });

  router.get('/visits/:id/booking-options', async (req, res) => {
    const service = typeof req.query.service === 'string' ? req.query.service.slice(0, 40) : undefined;
    const day = typeof req.query.day === 'string' ? req.query.day.slice(0, 10) : undefined;
    const r = await deps.assist.bookingOptions(actorOfRes(res), num(req.params.id), service, day);
    if (r.kind !== 'ok') return refuse(res, r);
    res.json({ centre: actorOfRes(res).centreCode, services: r.services, days: r.days, times: r.times });
  });

  router.post('/visits/:id/bookings', async (req, res) => {
    const body = parse(BookBody, req, res);
    if (!body) return;
    const r = await deps.assist.book(actorOfRes(res), num(req.params.id), body.service, body.day, body.time);
    if (r.kind !== 'booked') return refuse(res, r);
    res.status(201).json({ booking: { code: r.code } });
  });

  router.post('/visits/:id/bookings/:bid/move', async (req, res) => {
    const body = parse(MoveBody, req, res);
    if (!body) return;
    const r = await deps.assist.moveBooking(actorOfRes(res), num(req.params.id), num(req.params.bid), body.day, body.time);
    if (r.kind !== 'moved') return refuse(res, r);
    res.json({ booking: { code: r.code } });
  });

  router.post('/visits/:id/bookings/:bid/cancel', async (req, res) => {
    const r = await deps.assist.cancelBooking(actorOfRes(res), num(req.params.id), num(req.params.bid));
    if (r.kind !== 'cancelled') return refuse(res, r);
    res.json({ cancelled: true });
  });

  // ---- phone changes ------------------------------------------------------------------------------
  router.post('/visits/:id/phone-change', async (req, res) => {
    const body = parse(PhoneChangeBody, req, res);
    if (!body) return;
    const actor = actorOfRes(res);
    const r = await deps.assist.requestPhoneChange(actor, num(req.params.id), body.newPhone, body.idCardChecked);
    if (r.kind !== 'code_sent') return refuse(res, r);
    res.status(202).json({ phoneChange: changeJson(r.change, actor) });
  });

  router.get('/phone-changes', async (req, res) => {
    const actor = actorOfRes(res);
    const status = typeof req.query.status === 'string' ? req.query.status.slice(0, 16) : undefined;
    const rows = await deps.assist.listPhoneChanges(actor, status);
    res.json({ phoneChanges: rows.map((c) => changeJson(c, actor)) });
  });

  router.get('/phone-changes/:id', async (req, res) => {
    const actor = actorOfRes(res);
    const r = await deps.assist.phoneChange(actor, num(req.params.id));
    if (r.kind !== 'ok') return refuse(res, r);
    res.json({ phoneChange: changeJson(r.change, actor) });
  });

  router.post('/phone-changes/:id/verify', async (req, res) => {
    const body = parse(CodeBody, req, res);
    if (!body) return;
    const actor = actorOfRes(res);
    const r = await deps.assist.verifyPhoneChange(actor, num(req.params.id), body.code);
    if (r.kind !== 'pending') return refuse(res, r);
    res.json({ phoneChange: changeJson(r.change, actor) });
  });

  for (const decision of ['approve', 'reject'] as const) {
    router.post(`/phone-changes/:id/${decision}`, async (req, res) => {
      const body = parse(NoteBody, req, res);
      if (!body) return;
      const actor = actorOfRes(res);
      const r = await deps.assist.decidePhoneChange(actor, num(req.params.id), decision, body.note ?? '');
      if (r.kind !== 'approved' && r.kind !== 'rejected') return refuse(res, r);
      res.json({ phoneChange: changeJson(r.change, actor) });
    });
  }

  // ---- audit log -----------------------------------------------------------------------------------
  const filtersOf = (q: Request['query'], actor: Actor): AuditFilters => {
    const f: AuditFilters = {};
    for (const k of ['from', 'to', 'action', 'outcome', 'staff', 'channel', 'idHash'] as const) {
      if (typeof q[k] === 'string' && q[k]) f[k] = (q[k] as string).slice(0, 64);
    }
    if (actor.role === 'admin' && typeof q.centre === 'string' && q.centre) f.centre = q.centre.slice(0, 64);
    return f;
  };

  router.get('/audit', requireRole('supervisor', 'admin'), async (req, res) => {
    const actor = actorOfRes(res);
    const before = num(req.query.before);
    const r = await deps.auditQuery.page(actor, filtersOf(req.query, actor), Number.isNaN(before) ? undefined : before);
    res.json({ rows: r.rows, next: r.next });
  });

  // The same with the filters in a JSON body, the only way to filter by ID number (never in a URL).
  router.post('/audit/query', requireRole('supervisor', 'admin'), async (req, res) => {
    const body = parse(AuditBody, req, res);
    if (!body) return;
    const actor = actorOfRes(res);
    const { before, format, centre, ...rest } = body;
    const f: AuditFilters = { ...rest, ...(actor.role === 'admin' && centre ? { centre } : {}) };
    if (format === 'csv') return void res.status(200).type('text/csv; charset=utf-8').send(await deps.auditQuery.csv(actor, f));
    const r = await deps.auditQuery.page(actor, f, before);
    res.json({ rows: r.rows, next: r.next });
  });

  router.get('/audit.csv', requireRole('supervisor', 'admin'), async (req, res) => {
    const actor = actorOfRes(res);
    res.status(200).type('text/csv; charset=utf-8').send(await deps.auditQuery.csv(actor, filtersOf(req.query, actor)));
  });

  // ---- staff accounts (admins) ------------------------------------------------------------------------
  router.get('/staff', requireRole('admin'), async (_req, res) => void res.json({ staff: (await deps.staff.list()).map(staffJson) }));

  router.post('/staff', requireRole('admin'), async (req, res) => {
    const body = parse(StaffBody, req, res);
    if (!body) return;
    const r = await deps.staff.create({ username: body.username, name: body.name, role: body.role, centreCode: body.centre, password: body.password }, actorOfRes(res));
    if (r.kind !== 'created') return fail(res, r.kind === 'username_taken' ? 409 : 400, r.kind);
    res.status(201).json({ staff: staffJson(r.staff) });
  });

  router.post('/staff/:id/:change', requireRole('admin'), async (req, res) => {
    const id = num(req.params.id);
    const change = req.params.change;
    if (change === 'tokens') {
      const body = parse(TokenBody, req, res);
      if (!body) return;
      const issued = await deps.staff.issueToken(actorOfRes(res), id, body.label ?? 'api');
      if (issued.kind === 'not_own') return fail(res, 403, 'own_tokens_only', { message: 'an API token can be issued only for yourself' });
      if (issued.kind !== 'issued') return fail(res, 404, 'not_found');
      return void res.status(201).json({ token: issued.token, id: issued.id, expiresAt: issued.expiresAt });
    }
    if (change !== 'activate' && change !== 'deactivate' && change !== 'unlock') return fail(res, 404, 'not_found');
    const r = await deps.staff.update(actorOfRes(res), id, change);
    if (r !== 'ok') return fail(res, r === 'self' ? 409 : 404, r);
    res.json({ staff: staffJson((await deps.staff.byId(id)) as StaffMember) });
  });

  router.post('/tokens/:id/revoke', requireRole('admin'), async (req, res) => {
    const r = await deps.staff.revokeToken(actorOfRes(res), num(req.params.id));
    if (r !== 'ok') return fail(res, 404, 'not_found');
    res.json({ revoked: true });
  });

  router.use((_req, res) => fail(res, 404, 'not_found'));
  // Malformed JSON and the like: a JSON answer, not the console's page.
  router.use((err: { status?: number; type?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (typeof err?.status === 'number' && err.status >= 400 && err.status < 500) return fail(res, err.status, 'bad_request', { type: err.type ?? 'malformed body' });
    next(err);
  });
  return router;
}
