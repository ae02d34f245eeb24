import express, { type Express } from 'express';
import type { Runtime } from './runtime';
import { mountUssd } from './channels/ussd/router';
import { smsDeliveryRouter } from './channels/sms/delivery';
import { smsInboundRouter } from './channels/sms/inbound';
import { statusApiRouter } from './channels/api/status-updates';
import { staffRouter } from './channels/staff';
import { errorHandler } from './http/errors';
import { atCallbackChecks, webhookSecrets } from './http/at-callback';

/** The HTTP surface. Built from a runtime, not started: supertest calls it directly. */
export function createApp(rt: Runtime): Express {
  const app = express();
  app.disable('x-powered-by');
  // AT never revalidates a USSD reply: hashing every body for an ETag is pure cost on the hot path.
  app.set('etag', false);
  // req.ip (audit log, limits, AT_CALLBACK_ALLOW) believes X-Forwarded-For only from the configured proxy hops.
  app.set('trust proxy', rt.config.TRUST_PROXY);
  // Source allow-list and token, shared by every AT callback route (one refusal log for all).
  const atChecks = atCallbackChecks({ secrets: webhookSecrets(rt.config), allow: rt.config.AT_CALLBACK_ALLOW, logger: rt.logger });

  // First: nearly every request is a USSD hop.
  mountUssd(app, { engine: rt.engine, db: rt.db, logger: rt.logger, atChecks });
  app.get('/healthz', (_req, res) => void res.type('text/plain').send('ok'));
  app.get('/readyz', async (_req, res) => {
    const check = async (fn: () => Promise<unknown>) => {
      try {
        await Promise.race([fn(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 1000))]);
        return 'ok';
      } catch {
        return 'down';
      }
    };
    const [postgres, store] = await Promise.all([check(() => rt.db.raw('select 1')), check(() => rt.store.ping())]);
    // Named after the store: { postgres, redis } with Redis, { postgres, store } with the Postgres store.
    res.status(postgres === 'ok' && store === 'ok' ? 200 : 503).json({ postgres, [rt.store.kind === 'redis' ? 'redis' : 'store']: store });
  });

  app.use('/sms/delivery', smsDeliveryRouter({ db: rt.db, logger: rt.logger, atChecks }));
  app.use('/sms/inbound', smsInboundRouter({ inbox: rt.inbox, logger: rt.logger, atChecks }));
  app.use('/api', statusApiRouter({ services: rt.services, logger: rt.logger }));
  app.use('/staff', staffRouter(rt));
  app.use((_req, res) => void res.status(404).type('text/plain').send('not found'));
  app.use(errorHandler(rt.logger));
  return app;
}
