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
  const { config, db, redis, logger, services } = rt;
  const production = config.NODE_ENV === 'production';
  const staff = new StaffService({ db, redis, redisPrefix: config.REDIS_PREFIX, blind: services.blind });
  const assist = new AssistService({
    db, redis, redisPrefix: config.REDIS_PREFIX, blind: services.blind, sealer: services.sealer, reset: services.reset, appointments: services.appointments,
    startSmsFlow: async (phone, flow, lang) => (await rt.sms.start(phone, flow, lang)).text,
  });
  const auditQuery = new AuditQuery({ db, blind: services.blind });
  // In production the cookie is Secure and __Host- prefixed (no Domain, Path=/, HTTPS only).
  const sessions = new StaffSessions(redis, config.REDIS_PREFIX, production ? '__Host-simu_staff' : 'simu_staff', production);

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
    });
    next();
  });
  router.use('/api', apiRouter({ staff, assist, auditQuery, db, logger }));
  router.use(consoleRouter({ staff, assist, auditQuery, sessions, logger, db }));
  return router;
}
