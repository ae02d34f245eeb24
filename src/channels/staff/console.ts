import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { Lang } from '../../../flows/types';
import { dayMsg, serviceMsg } from '../../../flows/booking-common';
import type { MessageKey } from '../../i18n';
import { isMessageKey } from '../../i18n';
import type { Logger } from '../../log';
import { audit } from '../../services/audit';
import type { AuditFilters, AuditQuery } from '../../services/audit-query';
import type { AssistService, CitizenView, Denied, PhoneChangeView, VisitInfo } from '../../services/assist';
import { ROLES, actorOf, type Actor, type StaffMember, type StaffService } from '../../services/staff';
import { clock, csrfField, field, html, page, postButton, select, tr, trMsg, when, type Html, type PageCtx } from './html';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { cookies, csrfMatches, type Flash, type StaffSession, type StaffSessions } from './session';

export interface ConsoleDeps {
  staff: StaffService;
  assist: AssistService;
  auditQuery: AuditQuery;
  sessions: StaffSessions;
  logger: Logger;
  db: import('../../db').Db;
  /** Requests without a signed-in staff member, per client address (config STAFF_CONSOLE_ANON_PER_IP_PER_MIN). */
  anonymousLimiter: RateLimiterAbstract;
}

interface Local {
  sid: string | null;
  session: StaffSession | null;
  /** The login form's token (a double-submit cookie), on the login pages only. */
  loginCsrf?: string;
  /** A message shown on this page only (no session to keep a flash in before login). */
  flashNow?: Flash;
  lang: Lang;
  staff: StaffMember | null;
  actor: Actor | null;
}

const LANG_COOKIE = 'simu_lang';
const local = (res: Response): Local => res.locals as unknown as Local;
const actorOfRes = (res: Response): Actor => local(res).actor as Actor;
const num = (v: unknown): number => (typeof v === 'string' && /^\d{1,15}$/.test(v) ? Number(v) : NaN);
const str = (v: unknown, max = 200): string => (typeof v === 'string' ? v.slice(0, max) : '');

/**
 * The console: server-rendered HTML, no script, English and Kiswahili. Post/redirect/get with a
 * one-shot flash message in the session; every POST carries the session's CSRF token.
 */
export function consoleRouter(deps: ConsoleDeps): Router {
  const router = Router();
  const { sessions } = deps;
  router.use(express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 50 }));

  // ---- request state: session, language, staff member ----------------------------------------
  router.use(async (req, res, next) => {
    const l = local(res);
    const jar = cookies(req);
    l.lang = jar[LANG_COOKIE] === 'sw' ? 'sw' : 'en';
    l.sid = jar[sessions.cookieName] ?? null;
    l.session = l.sid ? await sessions.load(l.sid) : null;
    l.staff = null;
    l.actor = null;
    if (l.session?.staffId) {
      const member = await deps.staff.byId(l.session.staffId);
      if (member?.active) {
        l.staff = member;
        l.actor = actorOf(member, 'staff');
      } else {
        // Deactivated since login: the session ends now.
        await sessions.destroy(l.sid as string);
        l.session = null;
      }
    }
    if (l.staff) return next();
    // Anyone not signed in: a per-address budget, so a flood costs the console little.
    try {
      await deps.anonymousLimiter.consume(req.ip ?? 'unknown');
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) return next(err);
      res.set('Retry-After', String(Math.ceil(err.msBeforeNext / 1000)));
      return void res.status(429).type('text/plain').send(tr(l.lang, 'staff.too_many_requests'));
    }
    next();
  });

  const ctxOf = (req: Request, res: Response, flash?: Flash): PageCtx => {
    const l = local(res);
    return { lang: l.lang, staff: l.staff, csrf: l.loginCsrf ?? l.session?.csrf ?? '', here: req.method === 'GET' ? req.originalUrl : '/staff/', ...(flash ? { flash } : {}) };
  };

  /** Renders a page, taking (and clearing) the session's flash message. */
  const render = async (req: Request, res: Response, status: number, title: MessageKey | string, body: (ctx: PageCtx) => Html | Html[], errors: string[] = []) => {
    const l = local(res);
    let flash: Flash | undefined = l.flashNow;
    if (!flash && l.session?.flash && l.sid) {
      flash = l.session.flash;
      delete l.session.flash;
      await sessions.save(l.sid, l.session);
    }
    const ctx = ctxOf(req, res, flash);
    const heading = isMessageKey(title) ? tr(l.lang, title) : title;
    res.status(status).type('html').send(page(ctx, heading, body(ctx), errors));
  };

  const redirectWith = async (res: Response, to: string, flash: Flash) => {
    const l = local(res);
    if (l.session && l.sid) {
      l.session.flash = flash;
      await sessions.save(l.sid, l.session);
    }
    res.redirect(303, to);
  };

  const denied = (req: Request, res: Response, d: Denied) =>
    d.kind === 'forbidden'
      ? render(req, res, 403, 'staff.forbidden', () => html`<p><a href="/staff/find">${tr(local(res).lang, 'staff.nav.find')}</a></p>`)
      : render(req, res, 404, 'staff.not_found', () => html`<p><a href="/staff/find">${tr(local(res).lang, 'staff.nav.find')}</a></p>`);

  // ---- public: stylesheet, language switch ---------------------------------------------------
  router.get('/lang', (req, res) => {
    const to = req.query.to === 'sw' ? 'sw' : 'en';
    const back = typeof req.query.back === 'string' && /^\/staff(\/|$|\?)/.test(req.query.back) && !req.query.back.startsWith('//') ? req.query.back : '/staff/';
    res.cookie(LANG_COOKIE, to, { httpOnly: true, sameSite: 'lax', secure: req.secure, path: '/', maxAge: 365 * 86_400_000 });
    res.redirect(303, back);
  });

  // ---- CSRF: every POST carries the session's token (the login form: its cookie's) -------------
  router.use(async (req, res, next) => {
    if (req.method !== 'POST') return next();
    const l = local(res);
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (req.path === '/login') {
      if (sessions.loginTokenMatches(req, body._csrf)) return next();
      // A login form left open too long, or a cross-site post: the form again, with the reason.
      // The session cookie is left alone (a forged post must not log anyone out).
      l.loginCsrf = sessions.loginToken(req, res);
      return render(req, res, 403, 'staff.login.title', (ctx) => loginForm(ctx), [tr(l.lang, 'staff.csrf')]);
    }
    if (csrfMatches(l.session, body._csrf)) return next();
    // Audited only for a signed-in member (a forged post against them); anonymous refusals write
    // nothing, so a flood cannot grow the append-only audit log. The path is cut short.
    if (l.staff) {
      await audit(deps.db, {
        actorType: 'staff', staffId: l.staff.id, centreCode: l.staff.centreCode, channel: 'staff', action: 'csrf_refused', outcome: 'denied', detail: { path: req.path.slice(0, 100) },
      });
    }
    return render(req, res, 403, 'staff.error_title', () => html`<p><a href="/staff/">${tr(l.lang, 'staff.back')}</a></p>`, [tr(l.lang, 'staff.csrf')]);
  });

  // ---- login / logout -------------------------------------------------------------------------
  const loginForm = (ctx: PageCtx, username = '') => html`<form method="post" action="/staff/login" novalidate>
${csrfField(ctx)}
${field({ name: 'username', label: tr(ctx.lang, 'staff.login.username'), value: username, autocomplete: 'username', required: true, maxlength: 64, autofocus: !username })}
${field({ name: 'password', label: tr(ctx.lang, 'staff.login.password'), type: 'password', autocomplete: 'current-password', required: true, maxlength: 200, autofocus: !!username })}
<button type="submit">${tr(ctx.lang, 'staff.login.submit')}</button>
</form>`;

  // No session before a login succeeds: the form's token lives in its own cookie.
  router.get('/login', async (req, res) => {
    const l = local(res);
    if (l.staff) return void res.redirect(303, '/staff/find');
    l.loginCsrf = sessions.loginToken(req, res);
    if (req.query.bye === '1') l.flashNow = { level: 'ok', key: 'staff.logged_out' };
    await render(req, res, 200, 'staff.login.title', (ctx) => loginForm(ctx));
  });

  router.post('/login', async (req, res) => {
    const l = local(res);
    l.loginCsrf = sessions.loginToken(req, res);
    const username = str(req.body?.username, 64);
    const password = str(req.body?.password, 200);
    const fail = (status: number, key: MessageKey) => render(req, res, status, 'staff.login.title', (ctx) => loginForm(ctx, username), [tr(l.lang, key)]);
    if (!username || !password) return fail(400, 'staff.login.missing');
    const r = await deps.staff.login(username, password, { ip: req.ip ?? '' });
    // A deactivated account answers like a wrong password: nothing confirms the password.
    if (r.kind === 'bad') return fail(401, 'staff.login.bad');
    if (r.kind === 'locked') return fail(423, 'staff.login.locked');
    if (r.kind === 'throttled') return fail(429, 'staff.login.throttled');
    // A new session id at login: a session id planted before login is worth nothing after it.
    if (l.sid) await sessions.destroy(l.sid);
    const { sid } = await sessions.create(r.staff.id);
    sessions.setCookie(res, sid);
    res.redirect(303, '/staff/find');
  });

  router.post('/logout', async (_req, res) => {
    const l = local(res);
    if (l.actor) await deps.staff.logout(l.actor);
    if (l.sid) await sessions.destroy(l.sid);
    sessions.clearCookie(res);
    res.redirect(303, '/staff/login?bye=1');
  });

  // ---- everything below needs a signed-in staff member ---------------------------------------
  router.use((req, res, next) => {
    if (local(res).staff) return next();
    if (req.method === 'GET') return void res.redirect(303, '/staff/login');
    res.status(401).type('text/plain').send('log in first');
  });

  const requireRole = (...roles: Array<StaffMember['role']>) => async (req: Request, res: Response, next: NextFunction) => {
    const actor = actorOfRes(res);
    if (roles.includes(actor.role)) return next();
    await audit(deps.db, { actorType: 'staff', staffId: actor.staffId, centreCode: actor.centreCode, channel: 'staff', action: 'access_denied', outcome: 'denied', detail: { path: req.path.slice(0, 100), role: actor.role } });
    await render(req, res, 403, 'staff.forbidden', () => html``);
  };

  router.get('/', (_req, res) => void res.redirect(303, '/staff/find'));

  // ---- find a citizen --------------------------------------------------------------------------
  // The ID number is never echoed back into a page, and the field is not remembered by the browser.
  const findForm = (ctx: PageCtx, error = false) => html`<form method="post" action="/staff/find" novalidate>
${csrfField(ctx)}
${field({ name: 'id_number', label: tr(ctx.lang, 'staff.find.id'), hint: tr(ctx.lang, 'staff.find.hint'), inputmode: 'numeric', autocomplete: 'off', required: true, maxlength: 12, error, autofocus: true })}
<button type="submit">${tr(ctx.lang, 'staff.find.submit')}</button>
</form>`;

  // ---- own password ------------------------------------------------------------------------------
  const passwordForm = (ctx: PageCtx, errorField = '') => {
    const t = (k: MessageKey) => tr(ctx.lang, k);
    return html`<form method="post" action="/staff/password" novalidate>
${csrfField(ctx)}
${field({ name: 'current', label: t('staff.pw.current'), type: 'password', autocomplete: 'current-password', required: true, maxlength: 200, error: errorField === 'current', autofocus: true })}
${field({ name: 'next', label: t('staff.pw.next'), hint: t('staff.pw.rules'), type: 'password', autocomplete: 'new-password', required: true, maxlength: 200, error: errorField === 'next' })}
${field({ name: 'again', label: t('staff.pw.again'), type: 'password', autocomplete: 'new-password', required: true, maxlength: 200, error: errorField === 'again' })}
<button type="submit">${t('staff.pw.submit')}</button>
</form>`;
  };

  router.get('/password', (req, res) => render(req, res, 200, 'staff.pw.title', (ctx) => passwordForm(ctx)));

  router.post('/password', async (req, res) => {
    const l = local(res);
    const next = str(req.body?.next, 200);
    if (next !== str(req.body?.again, 200)) return render(req, res, 400, 'staff.pw.title', (ctx) => passwordForm(ctx, 'again'), [tr(l.lang, 'staff.pw.mismatch')]);
    const actor = actorOfRes(res);
    const r = await deps.staff.changePassword(actor, str(req.body?.current, 200), next);
    if (r === 'locked') {
      // Too many wrong current passwords (someone at an unattended PC?): the account locks and this session ends.
      if (l.sid) await sessions.destroy(l.sid);
      sessions.clearCookie(res);
      l.staff = null;
      l.session = null;
      l.loginCsrf = sessions.loginToken(req, res);
      return render(req, res, 423, 'staff.login.title', (ctx) => loginForm(ctx), [tr(l.lang, 'staff.pw.locked')]);
    }
    if (r === 'ok') {
      // Every other session of this member ends (API tokens were revoked by the service); this one goes on under a new id.
      await sessions.endAllBefore(actor.staffId);
      if (l.sid) await sessions.destroy(l.sid);
      const fresh = await sessions.create(actor.staffId);
      sessions.setCookie(res, fresh.sid);
      l.sid = fresh.sid;
      l.session = fresh.session;
      return redirectWith(res, '/staff/find', { level: 'ok', key: 'staff.pw.changed' });
    }
    const key: MessageKey = r === 'bad_current' ? 'staff.pw.bad_current' : r === 'too_short' ? 'staff.pw.too_short' : r === 'same_as_username' ? 'staff.pw.same_as_username' : 'staff.pw.too_long';
    await render(req, res, 400, 'staff.pw.title', (ctx) => passwordForm(ctx, r === 'bad_current' ? 'current' : 'next'), [tr(l.lang, key)]);
  });

  router.get('/find', (req, res) => render(req, res, 200, 'staff.find.title', (ctx) => findForm(ctx)));

  router.post('/find', async (req, res) => {
    const l = local(res);
    const r = await deps.assist.lookup(actorOfRes(res), str(req.body?.id_number, 20));
    if (r.kind === 'found') return void res.redirect(303, `/staff/visits/${r.visit.id}`);
    const key: MessageKey = r.kind === 'bad_id' ? 'staff.find.bad_id' : r.kind === 'rate_limited' ? 'staff.find.rate_limited' : 'staff.find.not_found';
    const status = r.kind === 'bad_id' ? 400 : r.kind === 'rate_limited' ? 429 : 404;
    await render(req, res, status, 'staff.find.title', (ctx) => findForm(ctx, true), [tr(l.lang, key)]);
  });

  // ---- a visit: consent, then the citizen --------------------------------------------------------
  const codeForm = (ctx: PageCtx, action: string, label: string, error = false) => html`<form method="post" action="${action}" novalidate>
${csrfField(ctx)}
${field({ name: 'code', label, inputmode: 'numeric', autocomplete: 'off', required: true, maxlength: 7, pattern: '[0-9 ]*', error, autofocus: true })}
<button type="submit">${tr(ctx.lang, 'staff.visit.verify')}</button>
</form>`;

  const consentBody = (ctx: PageCtx, v: VisitInfo, codeError = false): Html => {
    const t = (k: MessageKey, p?: Record<string, string | number>) => tr(ctx.lang, k, p);
    const base = `/staff/visits/${v.id}`;
    const lost = html`<p><a href="${base}/phone-change">${t('staff.visit.lost_phone')}</a></p>`;
    const resend = postButton(ctx, `${base}/send-code`, t('staff.visit.resend'), {}, 'secondary');
    switch (v.state) {
      case 'found':
        return html`<p>${t('staff.visit.found', { phone: v.phoneMasked })}</p><p>${t('staff.visit.explain')}</p>
<div class="actions">${postButton(ctx, `${base}/send-code`, t('staff.visit.send'))}</div>${lost}`;
      case 'code_sent':
        return html`<p>${t('staff.visit.sent', { phone: v.phoneMasked, until: clock(v.codeExpiresAt) })}</p>
${codeForm(ctx, `${base}/verify`, t('staff.visit.code'), codeError)}
<div class="actions">${resend}</div>${lost}`;
      case 'failed':
        return html`<p>${t('staff.visit.too_many')}</p><div class="actions">${resend}</div>${lost}`;
      case 'expired':
        return html`<p>${t('staff.visit.expired')}</p><div class="actions">${resend}</div>`;
      case 'closed':
      default:
        return html`<p>${t('staff.visit.closed')}</p><p><a href="/staff/find">${t('staff.nav.find')}</a></p>`;
    }
  };

  const citizenBody = (ctx: PageCtx, v: VisitInfo, c: CitizenView): Html => {
    const lang = ctx.lang;
    const t = (k: MessageKey, p?: Record<string, string | number>) => tr(lang, k, p);
    const base = `/staff/visits/${v.id}`;
    const label = (prefix: string, code: string) => (isMessageKey(`${prefix}.${code}`) ? tr(lang, `${prefix}.${code}` as MessageKey) : code);
    const apps = c.applications.length === 0
      ? html`<p>${t('staff.citizen.no_applications')}</p>`
      : html`<table><thead><tr><th scope="col">${t('staff.col.reference')}</th><th scope="col">${t('staff.col.type')}</th><th scope="col">${t('staff.col.status')}</th><th scope="col">${t('staff.col.submitted')}</th><th scope="col">${t('staff.col.collect')}</th><th scope="col">${t('staff.col.reason')}</th></tr></thead><tbody>
${c.applications.map((a) => html`<tr><td>${a.reference}</td><td>${label('type', a.type)}</td><td>${label('st', a.status)}</td><td>${a.submittedOn}</td><td>${a.collectionCentre ?? ''}</td><td>${a.reason ? label('reason', a.reason) : ''}</td></tr>`)}
</tbody></table>`;
    const bookings = c.bookings.length === 0
      ? html`<p>${t('staff.bookings.none')}</p>`
      : html`<table><thead><tr><th scope="col">${t('staff.col.code')}</th><th scope="col">${t('staff.col.service')}</th><th scope="col">${t('staff.col.centre')}</th><th scope="col">${t('staff.col.when')}</th><th scope="col">${t('staff.col.change')}</th></tr></thead><tbody>
${c.bookings.map((b) => html`<tr><td>${b.code}</td><td>${trMsg(lang, serviceMsg(b.service))}</td><td>${b.centre.name}</td><td>${trMsg(lang, dayMsg(b.day))} ${b.time}</td><td>${b.mine
        ? html`<a href="${base}/bookings/${b.id}/move">${t('staff.bookings.move')}</a> <a href="${base}/bookings/${b.id}/cancel">${t('staff.bookings.cancel')}</a>`
        : t('staff.bookings.other_centre')}</td></tr>`)}
</tbody></table>`;
    return html`<div class="ok" role="status"><p>${t('staff.visit.open_until', { until: clock(v.expiresAt) })}</p></div>
<h2>${t('staff.citizen.title')}</h2>
<dl><dt>${t('staff.citizen.name')}</dt><dd>${c.firstName} ${c.lastName}</dd><dt>${t('staff.citizen.born')}</dt><dd>${c.birthYear}</dd><dt>${t('staff.citizen.phone')}</dt><dd>${c.phoneMasked}</dd><dt>${t('staff.citizen.language')}</dt><dd>${c.language === 'sw' ? 'Kiswahili' : 'English'}</dd></dl>
${c.openPhoneChange ? html`<p><a href="/staff/phone-changes/${c.openPhoneChange.id}">${t('staff.citizen.phone_change_open', { phone: c.openPhoneChange.newPhoneMasked, status: t(`staff.pc.status.${c.openPhoneChange.status}` as MessageKey) })}</a></p>` : ''}
<h2>${t('staff.citizen.applications')}</h2>
${apps}
<h2>${t('staff.bookings.title')}</h2>
${bookings}
<p><a href="${base}/book">${t('staff.book.link')}</a></p>
<h2>${t('staff.citizen.actions')}</h2>
<div class="actions">${postButton(ctx, `${base}/reset-login-code`, t('staff.reset.button'))}</div>
<p><a href="${base}/phone-change">${t('staff.pc.title')}</a></p>
<h2>${t('staff.push.title')}</h2>
<div class="actions">${postButton(ctx, `${base}/push`, t('staff.push.book'), { flow: 'book-appointment' }, 'secondary')} ${postButton(ctx, `${base}/push`, t('staff.push.status'), { flow: 'check-status' }, 'secondary')}</div>
<div class="actions">${postButton(ctx, `${base}/close`, t('staff.visit.end'), {}, 'secondary')}</div>`;
  };

  const showVisit = async (req: Request, res: Response, visitId: number, status = 200, errors: string[] = [], codeError = false) => {
    const actor = actorOfRes(res);
    const r = await deps.assist.visit(actor, visitId);
    if (r.kind !== 'ok') return denied(req, res, r);
    if (r.visit.state === 'open') {
      const view = await deps.assist.citizenView(actor, visitId);
      if (view.kind === 'ok') return render(req, res, status, 'staff.citizen.title', (ctx) => citizenBody(ctx, view.visit, view.citizen), errors);
    }
    await render(req, res, status, 'staff.visit.title', (ctx) => consentBody(ctx, r.visit, codeError), errors);
  };

  router.get('/visits/:id', (req, res) => showVisit(req, res, num(req.params.id)));

  router.post('/visits/:id/send-code', async (req, res) => {
    const id = num(req.params.id);
    const r = await deps.assist.sendConsentCode(actorOfRes(res), id);
    if (r.kind === 'forbidden' || r.kind === 'not_found') return denied(req, res, r);
    const flash: Record<string, Flash> = {
      too_soon: { level: 'error', key: 'staff.visit.too_soon' },
      too_many_sends: { level: 'error', key: 'staff.visit.too_many_sends' },
      citizen_limit: { level: 'error', key: 'staff.visit.citizen_limit' },
      closed: { level: 'error', key: 'staff.visit.closed' },
    };
    const f = flash[r.kind];
    if (f) return redirectWith(res, `/staff/visits/${id}`, f);
    res.redirect(303, `/staff/visits/${id}`);
  });

  router.post('/visits/:id/verify', async (req, res) => {
    const id = num(req.params.id);
    const l = local(res);
    const r = await deps.assist.verifyConsent(actorOfRes(res), id, str(req.body?.code, 12));
    if (r.kind === 'forbidden' || r.kind === 'not_found') return denied(req, res, r);
    if (r.kind === 'ok') return void res.redirect(303, `/staff/visits/${id}`);
    const error =
      r.kind === 'wrong_code' ? tr(l.lang, 'staff.visit.wrong_code', { left: r.attemptsLeft })
      : r.kind === 'expired' ? tr(l.lang, 'staff.visit.expired_code')
      : r.kind === 'closed' ? tr(l.lang, 'staff.visit.closed')
      : tr(l.lang, 'staff.visit.too_many');
    await showVisit(req, res, id, 422, [error], true);
  });

  router.post('/visits/:id/close', async (req, res) => {
    const r = await deps.assist.closeVisit(actorOfRes(res), num(req.params.id));
    if (r.kind !== 'closed') return denied(req, res, r);
    await redirectWith(res, '/staff/find', { level: 'ok', key: 'staff.visit.closed' });
  });

  router.post('/visits/:id/reset-login-code', async (req, res) => {
    const id = num(req.params.id);
    const r = await deps.assist.resetLoginCode(actorOfRes(res), id);
    if (r.kind === 'forbidden' || r.kind === 'not_found') return denied(req, res, r);
    if (r.kind === 'consent_required') return redirectWith(res, `/staff/visits/${id}`, { level: 'error', key: 'staff.visit.consent_required' });
    const view = await deps.assist.visit(actorOfRes(res), id);
    const phone = view.kind === 'ok' ? view.visit.phoneMasked : '';
    await redirectWith(res, `/staff/visits/${id}`, r.kind === 'issued'
      ? { level: 'ok', key: 'staff.reset.issued', params: { phone, until: r.validUntil } }
      : { level: 'error', key: 'staff.reset.too_many' });
  });

  router.post('/visits/:id/push', async (req, res) => {
    const id = num(req.params.id);
    const r = await deps.assist.pushFlow(actorOfRes(res), id, str(req.body?.flow, 40));
    if (r.kind === 'forbidden' || r.kind === 'not_found') return denied(req, res, r);
    const flash: Flash = r.kind === 'sent' ? { level: 'ok', key: 'staff.push.sent', params: { phone: r.phoneMasked } }
      : r.kind === 'consent_required' ? { level: 'error', key: 'staff.visit.consent_required' }
      : { level: 'error', key: 'staff.push.unavailable' };
    await redirectWith(res, `/staff/visits/${id}`, flash);
  });

  // ---- appointments at this centre ------------------------------------------------------------
  router.get('/visits/:id/book', async (req, res) => {
    const id = num(req.params.id);
    const service = str(req.query.service, 40);
    const day = str(req.query.day, 10);
    const r = await deps.assist.bookingOptions(actorOfRes(res), id, service || undefined, day || undefined);
    if (r.kind === 'forbidden' || r.kind === 'not_found') return denied(req, res, r);
    if (r.kind === 'consent_required') return void res.redirect(303, `/staff/visits/${id}`);
    await render(req, res, 200, 'staff.book.title', (ctx) => bookingForm(ctx, `/staff/visits/${id}/book`, r.services, service, r.days, day, r.times));
  });

  const bookingForm = (ctx: PageCtx, action: string, services: string[] | null, service: string, days: string[], day: string, times: string[]): Html => {
    const t = (k: MessageKey) => tr(ctx.lang, k);
    const dayOptions: Array<[string, string]> = days.map((d) => [d, trMsg(ctx.lang, dayMsg(d))]);
    const steps: Html[] = [];
    // Step by step with GET forms (no script): service, then day, then time (a POST).
    steps.push(html`<form method="get" action="${action}">
${services ? select({ name: 'service', label: t('staff.book.service'), options: services.map((s) => [s, trMsg(ctx.lang, serviceMsg(s))]), value: service, required: true }) : ''}
${service && days.length > 0 ? select({ name: 'day', label: t('staff.book.day'), options: dayOptions, value: day, required: true }) : ''}
<button type="submit" class="secondary">${t('staff.book.next')}</button></form>`);
    if (service && days.length === 0) steps.push(html`<p>${t('staff.book.no_days')}</p>`);
    if (service && day && times.length > 0) {
      steps.push(html`<form method="post" action="${action}">${csrfField(ctx)}
<input type="hidden" name="service" value="${service}"><input type="hidden" name="day" value="${day}">
${select({ name: 'time', label: t('staff.book.time'), options: times.map((x) => [x, x]), required: true })}
<button type="submit">${services ? t('staff.book.submit') : t('staff.move.submit')}</button></form>`);
    }
    return html`${steps}<p><a href="${action.replace(/\/(book|bookings\/\d+\/move)$/, '')}">${t('staff.back')}</a></p>`;
  };

  router.post('/visits/:id/book', async (req, res) => {
    const id = num(req.params.id);
    const service = str(req.body?.service, 40);
    const day = str(req.body?.day, 10);
    const r = await deps.assist.book(actorOfRes(res), id, service, day, str(req.body?.time, 5));
    if (r.kind === 'forbidden' || r.kind === 'not_found') return denied(req, res, r);
    if (r.kind === 'booked') return redirectWith(res, `/staff/visits/${id}`, { level: 'ok', key: 'staff.book.booked', params: { code: r.code } });
    if (r.kind === 'consent_required') return redirectWith(res, `/staff/visits/${id}`, { level: 'error', key: 'staff.visit.consent_required' });
    const key: MessageKey = r.kind === 'duplicate' ? 'staff.book.duplicate' : r.kind === 'limit' ? 'staff.book.limit' : 'staff.book.taken';
    await redirectWith(res, `/staff/visits/${id}/book?service=${encodeURIComponent(service)}&day=${encodeURIComponent(day)}`, { level: 'error', key });
  });

  router.get('/visits/:id/bookings/:bid/move', async (req, res) => {
    const id = num(req.params.id);
    const bid = num(req.params.bid);
    const day = str(req.query.day, 10);
    const r = await deps.assist.moveOptions(actorOfRes(res), id, bid, day || undefined);
    if (r.kind === 'forbidden' || r.kind === 'not_found') return denied(req, res, r);
    if (r.kind === 'consent_required') return void res.redirect(303, `/staff/visits/${id}`);
    const code = await deps.db('bookings').where({ id: bid }).first('code');
    await render(req, res, 200, tr(local(res).lang, 'staff.move.title', { code: code?.code ?? '' }), (ctx) => bookingForm(ctx, `/staff/visits/${id}/bookings/${bid}/move`, null, r.service, r.days, day, r.times));
  });

  router.post('/visits/:id/bookings/:bid/move', async (req, res) => {
    const id = num(req.params.id);
    const bid = num(req.params.bid);
    const r = await deps.assist.moveBooking(actorOfRes(res), id, bid, str(req.body?.day, 10), str(req.body?.time, 5));
    if (r.kind === 'forbidden' || r.kind === 'not_found') return denied(req, res, r);
    const flash: Flash = r.kind === 'moved' ? { level: 'ok', key: 'staff.bookings.moved', params: { code: r.code } }
      : r.kind === 'taken' ? { level: 'error', key: 'staff.book.taken' }
      : r.kind === 'consent_required' ? { level: 'error', key: 'staff.visit.consent_required' }
      : { level: 'error', key: 'staff.bookings.gone' };
    await redirectWith(res, `/staff/visits/${id}`, flash);
  });

  // A cancel is asked once more, with what is being cancelled: one stray click must not cost a citizen their slot.
  router.get('/visits/:id/bookings/:bid/cancel', async (req, res) => {
    const id = num(req.params.id);
    const bid = num(req.params.bid);
    const view = await deps.assist.citizenView(actorOfRes(res), id);
    if (view.kind === 'forbidden' || view.kind === 'not_found') return denied(req, res, view);
    const b = view.kind === 'ok' ? view.citizen.bookings.find((x) => x.id === bid && x.mine) : undefined;
    if (!b) return redirectWith(res, `/staff/visits/${id}`, { level: 'error', key: view.kind === 'ok' ? 'staff.bookings.gone' : 'staff.visit.consent_required' });
    await render(req, res, 200, 'staff.cancel.title', (ctx) => {
      const t = (k: MessageKey, p?: Record<string, string | number>) => tr(ctx.lang, k, p);
      return html`<p>${t('staff.cancel.question', { code: b.code, service: trMsg(ctx.lang, serviceMsg(b.service)), centre: b.centre.name, when: `${trMsg(ctx.lang, dayMsg(b.day))} ${b.time}` })}</p>
${postButton(ctx, `/staff/visits/${id}/bookings/${bid}/cancel`, t('staff.cancel.yes'))}
<p><a href="/staff/visits/${id}">${t('staff.cancel.keep')}</a></p>`;
    });
  });

  router.post('/visits/:id/bookings/:bid/cancel', async (req, res) => {
    const id = num(req.params.id);
    const r = await deps.assist.cancelBooking(actorOfRes(res), id, num(req.params.bid));
    if (r.kind === 'forbidden' || r.kind === 'not_found') return denied(req, res, r);
    const flash: Flash = r.kind === 'cancelled' ? { level: 'ok', key: 'staff.bookings.cancelled' }
      : r.kind === 'consent_required' ? { level: 'error', key: 'staff.visit.consent_required' }
      : { level: 'error', key: 'staff.bookings.gone' };
    await redirectWith(res, `/staff/visits/${id}`, flash);
  });

  // ---- phone changes ----------------------------------------------------------------------------
  const phoneChangeForm = (ctx: PageCtx, visitId: number, value = '', errorField = '') => {
    const t = (k: MessageKey) => tr(ctx.lang, k);
    return html`<p>${t('staff.pc.explain')}</p>
<form method="post" action="/staff/visits/${visitId}/phone-change" novalidate>
${csrfField(ctx)}
${field({ name: 'new_phone', label: t('staff.pc.new_phone'), hint: t('staff.pc.new_phone_hint'), type: 'tel', value, autocomplete: 'off', inputmode: 'tel', required: true, maxlength: 20, error: errorField === 'new_phone', autofocus: true })}
<div class="check"><input type="checkbox" id="f-id_card_checked" name="id_card_checked" value="yes"${errorField === 'id_card_checked' ? html` aria-invalid="true"` : ''} required><label for="f-id_card_checked">${t('staff.pc.id_checked')}</label></div>
<button type="submit">${t('staff.pc.submit')}</button>
</form>
<p><a href="/staff/visits/${visitId}">${t('staff.back')}</a></p>`;
  };

  router.get('/visits/:id/phone-change', async (req, res) => {
    const id = num(req.params.id);
    const r = await deps.assist.visit(actorOfRes(res), id);
    if (r.kind !== 'ok') return denied(req, res, r);
    await render(req, res, 200, 'staff.pc.title', (ctx) => phoneChangeForm(ctx, id));
  });

  router.post('/visits/:id/phone-change', async (req, res) => {
    const id = num(req.params.id);
    const l = local(res);
    const raw = str(req.body?.new_phone, 20);
    const r = await deps.assist.requestPhoneChange(actorOfRes(res), id, raw, req.body?.id_card_checked === 'yes');
    if (r.kind === 'forbidden' || r.kind === 'not_found') return denied(req, res, r);
    if (r.kind === 'code_sent') return redirectWith(res, `/staff/phone-changes/${r.change.id}`, { level: 'ok', key: 'staff.pc.code_sent', params: { phone: r.change.newPhoneMasked } });
    if (r.kind === 'already_pending') return redirectWith(res, `/staff/phone-changes/${r.id}`, { level: 'error', key: 'staff.pc.already' });
    const [key, fieldName]: [MessageKey, string] =
      r.kind === 'id_card_not_checked' ? ['staff.pc.id_not_checked', 'id_card_checked']
      : r.kind === 'same_phone' ? ['staff.pc.same_phone', 'new_phone']
      : r.kind === 'closed' ? ['staff.visit.closed', '']
      : ['staff.pc.bad_phone', 'new_phone'];
    await render(req, res, 422, 'staff.pc.title', (ctx) => phoneChangeForm(ctx, id, raw, fieldName), [tr(l.lang, key)]);
  });

  const changeBody = (ctx: PageCtx, c: PhoneChangeView, codeError = false): Html => {
    const t = (k: MessageKey, p?: Record<string, string | number>) => tr(ctx.lang, k, p);
    const actor = ctx.staff as StaffMember;
    const parts: Array<Html | string> = [html`<dl>
<dt>${t('staff.col.citizen')}</dt><dd>${c.citizenName}</dd>
<dt>${t('staff.col.old_phone')}</dt><dd>${c.oldPhoneMasked}</dd>
<dt>${t('staff.col.new_phone')}</dt><dd>${c.status === 'pending' && actor.role === 'supervisor' ? c.newPhone : c.newPhoneMasked}</dd>
<dt>${t('staff.col.requested_by')}</dt><dd>${c.requestedByUsername}, ${when(c.createdAt)}</dd>
<dt>${t('staff.col.status')}</dt><dd>${t(`staff.pc.status.${c.status}` as MessageKey)}</dd>
${c.approvedByUsername ? html`<dt>${t('staff.col.decision')}</dt><dd>${c.approvedByUsername}, ${when(c.decidedAt)}${c.decisionNote ? html` - ${c.decisionNote}` : ''}</dd>` : ''}
</dl>`];
    if (c.status === 'unverified' && c.requestedBy === actor.id) parts.push(codeForm(ctx, `/staff/phone-changes/${c.id}/verify`, t('staff.pc.code'), codeError));
    if (c.status === 'pending' && c.requestedBy === actor.id) parts.push(html`<p>${t('staff.pc.pending')}</p>`);
    if (c.status === 'pending' && actor.role === 'supervisor' && c.requestedBy !== actor.id) {
      parts.push(html`<form method="post" action="/staff/phone-changes/${c.id}/decide" novalidate>${csrfField(ctx)}
${field({ name: 'note', label: t('staff.changes.note'), maxlength: 200 })}
<div class="actions"><button type="submit" name="decision" value="approve">${t('staff.changes.approve')}</button> <button type="submit" name="decision" value="reject" class="secondary">${t('staff.changes.reject')}</button></div></form>`);
    }
    parts.push(html`<p><a href="/staff/phone-changes">${t('staff.nav.changes')}</a></p>`);
    return html`${parts}`;
  };

  const showChange = async (req: Request, res: Response, id: number, status = 200, errors: string[] = [], codeError = false) => {
    const r = await deps.assist.phoneChange(actorOfRes(res), id);
    if (r.kind !== 'ok') return denied(req, res, r);
    await render(req, res, status, 'staff.pc.title', (ctx) => changeBody(ctx, r.change, codeError), errors);
  };

  router.get('/phone-changes/:id', (req, res) => showChange(req, res, num(req.params.id)));

  router.post('/phone-changes/:id/verify', async (req, res) => {
    const id = num(req.params.id);
    const l = local(res);
    const r = await deps.assist.verifyPhoneChange(actorOfRes(res), id, str(req.body?.code, 12));
    if (r.kind === 'forbidden' || r.kind === 'not_found') return denied(req, res, r);
    if (r.kind === 'pending') return redirectWith(res, `/staff/phone-changes/${id}`, { level: 'ok', key: 'staff.pc.pending' });
    const error =
      r.kind === 'wrong_code' ? tr(l.lang, 'staff.visit.wrong_code', { left: r.attemptsLeft })
      : r.kind === 'expired' ? tr(l.lang, 'staff.visit.expired_code')
      : r.kind === 'not_awaiting_code' ? tr(l.lang, 'staff.pc.not_awaiting')
      : tr(l.lang, 'staff.visit.too_many');
    await showChange(req, res, id, 422, [error], true);
  });

  router.post('/phone-changes/:id/decide', async (req, res) => {
    const id = num(req.params.id);
    const decision = req.body?.decision === 'approve' ? 'approve' : 'reject';
    const r = await deps.assist.decidePhoneChange(actorOfRes(res), id, decision, str(req.body?.note, 200));
    if (r.kind === 'forbidden' || r.kind === 'not_found') return denied(req, res, r);
    const flash: Flash = r.kind === 'approved' ? { level: 'ok', key: 'staff.changes.approved' }
      : r.kind === 'rejected' ? { level: 'ok', key: 'staff.changes.rejected' }
      : r.kind === 'own_request' ? { level: 'error', key: 'staff.changes.own' }
      : r.kind === 'stale' ? { level: 'error', key: 'staff.changes.stale' }
      : { level: 'error', key: 'staff.changes.not_pending' };
    await redirectWith(res, `/staff/phone-changes/${id}`, flash);
  });

  router.get('/phone-changes', async (req, res) => {
    const actor = actorOfRes(res);
    const status = typeof req.query.status === 'string' && ['unverified', 'pending', 'approved', 'rejected', 'cancelled'].includes(req.query.status) ? req.query.status : req.query.status === 'all' ? '' : 'pending';
    const rows = await deps.assist.listPhoneChanges(actor, status || undefined);
    await render(req, res, 200, 'staff.changes.title', (ctx) => {
      const t = (k: MessageKey) => tr(ctx.lang, k);
      const statuses: Array<[string, string]> = [['all', t('staff.changes.all')], ...['pending', 'unverified', 'approved', 'rejected', 'cancelled'].map((s) => [s, t(`staff.pc.status.${s}` as MessageKey)] as [string, string])];
      return html`<form method="get" action="/staff/phone-changes" class="filters">${select({ name: 'status', label: t('staff.changes.show'), options: statuses, value: status || 'all' })}<div class="field"><button type="submit" class="secondary">${t('staff.audit.filter')}</button></div></form>
${rows.length === 0 ? html`<p>${t('staff.changes.none')}</p>` : html`<table><thead><tr><th scope="col">${t('staff.col.citizen')}</th><th scope="col">${t('staff.col.old_phone')}</th><th scope="col">${t('staff.col.new_phone')}</th><th scope="col">${t('staff.col.requested_by')}</th><th scope="col">${t('staff.col.requested_at')}</th><th scope="col">${t('staff.col.status')}</th></tr></thead><tbody>
${rows.map((c) => html`<tr><td><a href="/staff/phone-changes/${c.id}">${c.citizenName}</a></td><td>${c.oldPhoneMasked}</td><td>${c.newPhoneMasked}</td><td>${c.requestedByUsername}</td><td>${when(c.createdAt)}</td><td>${t(`staff.pc.status.${c.status}` as MessageKey)}</td></tr>`)}
</tbody></table>`}`;
    });
  });

  // ---- audit log (supervisors: their centre; admins: all) -------------------------------------
  const filtersOf = (q: Request['query'], actor: Actor): AuditFilters => {
    const f: AuditFilters = {};
    for (const k of ['from', 'to', 'action', 'outcome', 'staff', 'channel', 'idHash'] as const) {
      const v = typeof q[k] === 'string' ? (q[k] as string).trim().slice(0, 64) : '';
      if (v) f[k] = v;
    }
    if (actor.role === 'admin' && typeof q.centre === 'string' && q.centre) f.centre = q.centre.slice(0, 64);
    return f;
  };

  router.get('/audit', requireRole('supervisor', 'admin'), async (req, res) => {
    const actor = actorOfRes(res);
    const f = filtersOf(req.query, actor);
    const before = num(req.query.before);
    const [{ rows, next }, actions] = await Promise.all([deps.auditQuery.page(actor, f, Number.isNaN(before) ? undefined : before), deps.auditQuery.actions(actor)]);
    const qs = new URLSearchParams(f as Record<string, string>).toString();
    await render(req, res, 200, 'staff.audit.title', (ctx) => {
      const t = (k: MessageKey) => tr(ctx.lang, k);
      return html`<form method="get" action="/staff/audit" class="filters">
${field({ name: 'from', label: t('staff.audit.from'), type: 'date', value: f.from ?? '' })}
${field({ name: 'to', label: t('staff.audit.to'), type: 'date', value: f.to ?? '' })}
${select({ name: 'action', label: t('staff.audit.action'), options: actions.map((a) => [a, a]), value: f.action ?? '', any: t('staff.any') })}
${field({ name: 'outcome', label: t('staff.audit.outcome'), value: f.outcome ?? '', maxlength: 32 })}
${field({ name: 'staff', label: t('staff.audit.staff'), value: f.staff ?? '', maxlength: 64 })}
${actor.role === 'admin' ? field({ name: 'centre', label: t('staff.audit.centre'), value: f.centre ?? '', maxlength: 64 }) : ''}
${f.idHash ? html`<input type="hidden" name="idHash" value="${f.idHash}">` : ''}
<div class="field"><button type="submit">${t('staff.audit.filter')}</button></div>
</form>
<form method="post" action="/staff/audit/by-id" class="filters" novalidate>${csrfField(ctx)}
${field({ name: 'id_number', label: t('staff.audit.id'), inputmode: 'numeric', autocomplete: 'off', maxlength: 12 })}
<div class="field"><button type="submit" class="secondary">${t('staff.audit.filter')}</button></div>
</form>
${f.idHash ? html`<p>${t('staff.col.citizen_ref')}: <code>${f.idHash.slice(0, 10)}</code> <a href="/staff/audit">${t('staff.any')}</a></p>` : ''}
<p><a href="/staff/audit.csv${qs ? `?${qs}` : ''}" download>${t('staff.audit.csv')}</a></p>
${rows.length === 0 ? html`<p>${t('staff.audit.none')}</p>` : html`<table><thead><tr><th scope="col">${t('staff.col.time')}</th><th scope="col">${t('staff.col.staff')}</th><th scope="col">${t('staff.col.centre')}</th><th scope="col">${t('staff.audit.action')}</th><th scope="col">${t('staff.audit.outcome')}</th><th scope="col">${t('staff.col.channel')}</th><th scope="col">${t('staff.col.citizen_ref')}</th><th scope="col">${t('staff.col.detail')}</th></tr></thead><tbody>
${rows.map((r) => html`<tr><td>${when(r.at)}</td><td>${r.staffUsername ?? r.actorType}</td><td>${r.centreCode ?? ''}</td><td>${r.action}</td><td>${r.outcome}</td><td>${r.channel}</td><td>${r.citizenId ?? ''}${r.idHash ? html` <span class="hint">${r.idHash.slice(0, 10)}</span>` : ''}${r.phoneMasked ? html` ${r.phoneMasked}` : ''}</td><td>${r.detail ? JSON.stringify(r.detail) : ''}</td></tr>`)}
</tbody></table>`}
${next ? html`<p><a href="/staff/audit?${qs ? `${qs}&` : ''}before=${next}">${t('staff.audit.older')}</a></p>` : ''}`;
    });
  });

  // An ID number travels only in a POST body: it becomes its blind index before any URL is made.
  router.post('/audit/by-id', requireRole('supervisor', 'admin'), async (req, res) => {
    const id = str(req.body?.id_number, 20).replace(/\D/g, '');
    res.redirect(303, id ? `/staff/audit?idHash=${deps.auditQuery.idHashOf(id)}` : '/staff/audit');
  });

  router.get('/audit.csv', requireRole('supervisor', 'admin'), async (req, res) => {
    const actor = actorOfRes(res);
    const csv = await deps.auditQuery.csv(actor, filtersOf(req.query, actor));
    const stamp = new Date().toISOString().slice(0, 10);
    res.status(200).type('text/csv; charset=utf-8').attachment(`simu-audit-${actor.role === 'admin' ? 'all' : actor.centreCode}-${stamp}.csv`).send(csv);
  });

  // ---- staff accounts (admins) -----------------------------------------------------------------
  const adminPage = async (req: Request, res: Response, status = 200, errors: string[] = [], extra?: (ctx: PageCtx) => Html, form: Record<string, string> = {}) => {
    const list = await deps.staff.list();
    const centres = await deps.staff.centres();
    const tokens = new Map(await Promise.all(list.map(async (s) => [s.id, await deps.staff.tokens(s.id)] as const)));
    const l = local(res);
    await render(req, res, status, 'staff.admin.title', (ctx) => {
      const t = (k: MessageKey, p?: Record<string, string | number>) => tr(ctx.lang, k, p);
      const now = new Date();
      return html`${extra ? extra(ctx) : ''}
<table><thead><tr><th scope="col">${t('staff.login.username')}</th><th scope="col">${t('staff.admin.name')}</th><th scope="col">${t('staff.admin.role')}</th><th scope="col">${t('staff.admin.centre')}</th><th scope="col">${t('staff.admin.state')}</th><th scope="col">${t('staff.admin.tokens')}</th></tr></thead><tbody>
${list.map((s) => {
        const locked = s.lockedUntil && s.lockedUntil > now;
        const live = (tokens.get(s.id) ?? []).filter((k) => !k.revokedAt && (!k.expiresAt || k.expiresAt > now));
        return html`<tr><td>${s.username}</td><td>${s.name}</td><td>${t(`staff.role.${s.role}` as MessageKey)}</td><td>${s.centreName}</td>
<td>${s.active ? t('staff.admin.active') : t('staff.admin.inactive')}${locked ? html`<br>${t('staff.admin.locked', { until: when(s.lockedUntil) })}` : ''}
<div class="actions">${s.active ? postButton(ctx, `/staff/admin/staff/${s.id}/deactivate`, t('staff.admin.deactivate'), {}, 'secondary') : postButton(ctx, `/staff/admin/staff/${s.id}/activate`, t('staff.admin.activate'), {}, 'secondary')}${locked ? postButton(ctx, `/staff/admin/staff/${s.id}/unlock`, t('staff.admin.unlock'), {}, 'secondary') : ''}</div></td>
<td>${live.map((k) => html`<div>${postButton(ctx, `/staff/admin/tokens/${k.id}/revoke`, t('staff.admin.revoke', { label: k.label }), {}, 'link')}</div>`)}
${s.active && s.id === l.staff?.id ? html`<form method="post" action="/staff/admin/staff/${s.id}/tokens">${csrfField(ctx)}<label for="f-label-${s.id}">${t('staff.admin.token_label')}</label><input id="f-label-${s.id}" name="label" type="text" maxlength="80" value="api"> <button type="submit" class="secondary">${t('staff.admin.token')}</button></form>` : ''}</td></tr>`;
      })}
</tbody></table>
<h2>${t('staff.admin.add')}</h2>
<form method="post" action="/staff/admin/staff" novalidate>${csrfField(ctx)}
${field({ name: 'username', label: t('staff.login.username'), value: form.username ?? '', autocomplete: 'off', required: true, maxlength: 64 })}
${field({ name: 'name', label: t('staff.admin.name'), value: form.name ?? '', autocomplete: 'off', required: true, maxlength: 120 })}
${select({ name: 'role', label: t('staff.admin.role'), options: ROLES.map((r) => [r, t(`staff.role.${r}` as MessageKey)]), value: form.role ?? 'agent', required: true })}
${select({ name: 'centre', label: t('staff.admin.centre'), options: centres.map((c) => [c.code, c.name]), value: form.centre ?? '', required: true })}
${field({ name: 'password', label: t('staff.admin.password'), type: 'password', autocomplete: 'new-password', required: true, maxlength: 200 })}
<button type="submit">${t('staff.admin.create')}</button></form>`;
    }, errors);
  };

  router.get('/admin/staff', requireRole('admin'), (req, res) => adminPage(req, res));

  router.post('/admin/staff', requireRole('admin'), async (req, res) => {
    const l = local(res);
    const form = { username: str(req.body?.username, 64), name: str(req.body?.name, 120), role: str(req.body?.role, 16), centre: str(req.body?.centre, 64) };
    const r = await deps.staff.create({ username: form.username, name: form.name, role: form.role, centreCode: form.centre, password: str(req.body?.password, 300) }, actorOfRes(res));
    if (r.kind === 'created') return redirectWith(res, '/staff/admin/staff', { level: 'ok', key: 'staff.admin.created', params: { username: r.staff.username } });
    await adminPage(req, res, 422, [tr(l.lang, `staff.admin.err.${r.kind}` as MessageKey)], undefined, form);
  });

  router.post('/admin/staff/:id/:change', requireRole('admin'), async (req, res) => {
    const change = req.params.change;
    if (change === 'tokens') {
      const issued = await deps.staff.issueToken(actorOfRes(res), num(req.params.id), str(req.body?.label, 80));
      if (issued.kind === 'not_own') return render(req, res, 403, 'staff.forbidden', () => html`<p>${tr(local(res).lang, 'staff.admin.own_tokens_only')}</p>`);
      if (issued.kind !== 'issued') return render(req, res, 404, 'staff.not_found', () => html``);
      const member = await deps.staff.byId(num(req.params.id));
      // Shown once, in this response only: never stored in the session or a flash.
      return adminPage(req, res, 201, [], (ctx) => html`<div class="ok" role="status"><p>${tr(ctx.lang, 'staff.admin.token_issued', { username: member?.username ?? '' })}</p><code class="token">${issued.token}</code></div>`);
    }
    if (change !== 'activate' && change !== 'deactivate' && change !== 'unlock') return render(req, res, 404, 'staff.not_found', () => html``);
    const r = await deps.staff.update(actorOfRes(res), num(req.params.id), change);
    if (r === 'not_found') return render(req, res, 404, 'staff.not_found', () => html``);
    await redirectWith(res, '/staff/admin/staff', r === 'self' ? { level: 'error', key: 'staff.admin.self' } : { level: 'ok', key: 'staff.admin.updated' });
  });

  router.post('/admin/tokens/:id/revoke', requireRole('admin'), async (req, res) => {
    const r = await deps.staff.revokeToken(actorOfRes(res), num(req.params.id));
    await redirectWith(res, '/staff/admin/staff', r === 'ok' ? { level: 'ok', key: 'staff.admin.revoked' } : { level: 'error', key: 'staff.not_found' });
  });

  router.use((req, res) => render(req, res, 404, 'staff.not_found', () => html``));
  return router;
}

