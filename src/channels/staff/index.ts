import { Router } from 'express';
import type { Runtime } from '../../runtime';
import { AssistService } from '../../services/assist';
import { AuditQuery } from '../../services/audit-query';
import { StaffService } from '../../services/staff';
import { apiRouter } from './api';
import { consoleRouter } from './console';
import { STYLESHEET } from './html';
import { StaffSessions } from './session';

/**
 * The Huduma Centre staff channel (issue 6), mounted at /staff: the console (server-rendered HTML,
 * cookie session, CSRF tokens) and, under /staff/api, the JSON API (bearer tokens). Both call the
 * same services, which hold the rules: consent before any citizen data, scope by staff member and
 * centre, an audit row for every read and action.
 */
export function staffRouter(rt: Runtime): Router {
  const { config, db, store, logger, services } = rt;
  const production = config.NODE_ENV === 'production';
  const staff = new StaffService({
    db, store, blind: services.blind,
    limits: { perIp: config.STAFF_LOGIN_PER_IP, globalPerMin: config.STAFF_LOGIN_GLOBAL_PER_MIN },
  });
  const assist = new AssistService({
    db, store, blind: services.blind, sealer: services.sealer, reset: services.reset, appointments: services.appointments,
    consentSmsPerCitizenPerHour: config.CONSENT_SMS_PER_CITIZEN_PER_HOUR, now: services.now,
    startSmsFlow: async (phone, flow, lang) => (await rt.sms.start(phone, flow, lang)).text,
  });
  const auditQuery = new AuditQuery({ db, blind: services.blind });
  // In production the cookie is Secure and __Host- prefixed (no Domain, Path=/, HTTPS only).
  const sessions = new StaffSessions(store, production ? '__Host-simu_staff' : 'simu_staff', production);

  const router = Router();
  router.get('/assets/staff.css', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=86400').type('text/css').send(STYLESHEET);
  });
  router.use((_req, res, next) => {
    // Pages carry citizen data on shared counter PCs: nothing is cached, framed or sent elsewhere.
    res.set({
      'Cache-Control': 'no-store',
      'Content-Security-Policy': "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      'X-Frame-Options': 'DENY',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'same-origin',
      // HTTPS only for a year (browsers ignore it over plain HTTP, so dev is unaffected); no powerful features.
      'Strict-Transport-Security': 'max-age=31536000; includeSubDomains',
      'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
    });
    next();
  });
  router.use('/api', apiRouter({ staff, assist, auditQuery, db, logger }));
  const anonymousLimiter = store.rateLimiter({ keyPrefix: 'rl:staff-anon', points: config.STAFF_CONSOLE_ANON_PER_IP_PER_MIN, duration: 60 });
  router.use(consoleRouter({ staff, assist, auditQuery, sessions, logger, db, anonymousLimiter }));
  return router;
}
