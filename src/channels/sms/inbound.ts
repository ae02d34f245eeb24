import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { Logger } from '../../log';
import { atForm, parseBody } from '../../http/errors';
import type { SmsInbox } from './inbox';

/** AT's incoming-message callback (shared/africastalking.md §2.3). */
const inboundSchema = z.object({
  id: z.string().min(1).max(128),
  from: z.string().regex(/^\+\d{9,15}$/, 'from must be E.164, e.g. +254712345678'),
  to: z.string().max(32).optional(),
  text: z.string().max(2000, 'text over 2000 characters'),
  date: z.string().max(40).optional(),
  linkId: z.string().max(128).optional(),
  networkCode: z.string().regex(/^\d{0,8}$/).optional(),
});

/**
 * `POST /sms/inbound?token=<WEBHOOK_SECRET>`. Answers 200 once the message is stored and handled
 * (replies are queued, not sent here); a redelivered id is acknowledged again and not handled twice.
 */
export function smsInboundRouter(deps: { inbox: SmsInbox; logger: Logger; atChecks: RequestHandler[] }): Router {
  const router = Router();
  router.use(...deps.atChecks);
  router.post('/', ...atForm('8kb'), async (req, res) => {
    const m = parseBody(inboundSchema, req, res);
    if (!m) return;
    const outcome = await deps.inbox.receive({
      id: m.id, from: m.from, text: m.text,
      ...(m.to ? { to: m.to } : {}), ...(m.date ? { date: m.date } : {}), ...(m.linkId ? { linkId: m.linkId } : {}), ...(m.networkCode ? { networkCode: m.networkCode } : {}),
    });
    deps.logger.info('sms received', { atId: m.id, outcome });
    res.status(200).type('text/plain').send('OK');
  });
  return router;
}
