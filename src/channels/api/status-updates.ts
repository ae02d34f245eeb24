import express, { Router, type Request } from 'express';
import { z } from 'zod';
import type { Logger } from '../../log';
import type { Services } from '../../services';

const bodySchema = z.object({
  status: z.string().min(1).max(32),
  reason: z.string().max(64).nullable().optional(),
  collection_centre: z.string().max(64).nullable().optional(),
});

const bearer = (req: Request): string | null => {
  const m = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
  return m?.[1] ?? null;
};

/**
 * The integration API for agency back offices: `POST /api/applications/:reference/status` with a
 * bearer token issued to the agency (`npm run agency:token -- <agency>`). An agency may change only
 * applications of its own type (the reference's first two digits are its code).
 */
export function statusApiRouter(deps: { services: Services; logger: Logger }): Router {
  const router = Router();
  router.post('/applications/:reference/status', express.json({ limit: '4kb' }), async (req, res) => {
    const token = bearer(req);
    const agency = token ? await deps.services.agencies.authenticate(token) : null;
    if (!agency) return void res.status(401).json({ error: 'a valid agency bearer token is required' });
    const body = bodySchema.safeParse(req.body ?? {});
    if (!body.success) return void res.status(400).json({ error: body.error.issues[0]?.message ?? 'invalid body' });
    const reference = String(req.params.reference);
    const change = {
      reference,
      status: body.data.status,
      ...(body.data.reason !== undefined ? { reason: body.data.reason } : {}),
      ...(body.data.collection_centre !== undefined ? { collectionCentre: body.data.collection_centre } : {}),
    };
    // Checked after the token, before any write: a clear 400 instead of a database error.
    const problem = await deps.services.statusUpdates.problem(change);
    if (problem) return void res.status(400).json({ reference, outcome: 'invalid', error: problem });
    const { outcome, notified } = await deps.services.statusUpdates.apply(change, agency.agencyCode);
    deps.logger.info('status change', { agency: agency.agency, reference, outcome, notified });
    const code = { updated: 200, unchanged: 200, not_found: 404, forbidden: 403, invalid: 400 }[outcome];
    res.status(code).json({ reference, outcome, notified });
  });
  return router;
}
