import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { Db } from '../../db';
import type { Logger } from '../../log';
import { atForm, parseBody } from '../../http/errors';
import { applyDeliveryReport } from '../../sms/delivery-reports';

/**
 * AT's delivery reports: `POST /sms/delivery?token=<WEBHOOK_SECRET>`, form fields
 * id, status, phoneNumber, networkCode, failureReason, retryCount (shared/africastalking.md §2.4).
 * Always 200 once the report is stored or found stale (AT retries anything else for ~10 minutes);
 * 400 with one line when it is not a report at all.
 */
const reportSchema = z.object({
  id: z.string().min(1).max(64),
  status: z.string().regex(/^[A-Za-z][A-Za-z0-9 _-]{0,31}$/, 'status must be a word, e.g. Success'),
  phoneNumber: z.string().max(20).optional(),
  networkCode: z.string().max(8).optional(),
  failureReason: z.string().max(128).optional(),
  retryCount: z.coerce.number().int().min(0).max(1000).optional(),
});

export function smsDeliveryRouter(deps: { db: Db; logger: Logger; atChecks: RequestHandler[] }): Router {
  const router = Router();
  router.use(...deps.atChecks);

  router.post('/', ...atForm('4kb'), async (req, res) => {
    const r = parseBody(reportSchema, req, res);
    if (!r) return;
    const outcome = await applyDeliveryReport(deps.db, {
      id: r.id,
      status: r.status,
      phoneNumber: r.phoneNumber || undefined,
      networkCode: r.networkCode || undefined,
      failureReason: r.failureReason || undefined,
      retryCount: r.retryCount,
    });
    const level = outcome === 'unmatched' ? 'warn' : 'debug';
    deps.logger.log(level, 'sms delivery report', { messageId: r.id, status: r.status, outcome, failureReason: r.failureReason });
    res.status(200).type('text/plain').send('OK');
  });
  return router;
}
