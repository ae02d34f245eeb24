import type { Express, RequestHandler } from 'express';
import { z } from 'zod';
import type { UssdEngine } from '../../engine/engine';
import type { Db } from '../../db';
import type { Logger } from '../../log';
import { atForm, parseBody } from '../../http/errors';

/** AT's USSD callback. Limits are generous for real traffic and tight for abuse. */
const hopSchema = z.object({
  sessionId: z.string().min(1).max(128),
  serviceCode: z.string().min(1).max(64),
  phoneNumber: z.string().regex(/^\+\d{9,15}$/, 'phoneNumber must be E.164, e.g. +254712345678'),
  networkCode: z.string().regex(/^\d{0,8}$/, 'networkCode must be digits').default(''),
  text: z.string().max(1024, 'text over 1 KB'),
});

/** AT's end-of-session notification (fields as in shared africastalking notes §1.6). */
const eventSchema = z.object({
  sessionId: z.string().min(1).max(128),
  status: z.string().min(1).max(32),
  durationInMillis: z.coerce.number().int().nonnegative().optional(),
  hopsCount: z.coerce.number().int().nonnegative().optional(),
  networkCode: z.string().max(8).optional(),
  errorMessage: z.string().max(500).optional(),
});

/** What every AT USSD callback passes before its handler: source and token (atCallbackChecks), then AT's form body. */
export function ussdCallbackChecks(atChecks: RequestHandler[]): RequestHandler[] {
  return [...atChecks, ...atForm('4kb')];
}

/**
 * Mounts AT's USSD callbacks on the app itself at `/ussd` and `/ussd/events`, first, rather than as
 * a sub-router: every hop is one of these, and a nested router's prefix handling is a measurable
 * share of a hop (see README, Speed).
 */
export function mountUssd(app: Express, deps: { engine: UssdEngine; db: Db; logger: Logger; atChecks: RequestHandler[] }): void {
  const checks = ussdCallbackChecks(deps.atChecks);

  app.post('/ussd', ...checks, async (req, res) => {
    const hop = parseBody(hopSchema, req, res);
    if (!hop) return;
    const { sessionId, phoneNumber, text, serviceCode, networkCode } = hop;
    const body = await deps.engine.hop({ sessionId, phone: phoneNumber, text, serviceCode, networkCode });
    res.status(200).type('text/plain').send(body);
  });

  app.post('/ussd/events', ...checks, async (req, res) => {
    const e = parseBody(eventSchema, req, res);
    if (!e) return;
    // An Incomplete session keeps its resume pointer (it expires by itself); nothing to undo here.
    await deps.db('ussd_events').insert({
      session_id: e.sessionId,
      status: e.status,
      duration_ms: e.durationInMillis ?? null,
      hops: e.hopsCount ?? null,
      network_code: e.networkCode ?? null,
      error_message: e.errorMessage ?? null,
    });
    deps.logger.info('ussd session ended', { sessionId: e.sessionId, status: e.status, hops: e.hopsCount });
    res.status(200).type('text/plain').send('OK');
  });
}
