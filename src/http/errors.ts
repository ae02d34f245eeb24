import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import type { z } from 'zod';
import type { Logger } from '../log';

/** Only AT's form encoding is accepted: a JSON body is a misconfigured caller, told so in one line. */
export const requireForm: RequestHandler = (req, res, next) => {
  if (req.is('application/x-www-form-urlencoded')) return next();
  res.status(400).type('text/plain').send('expected application/x-www-form-urlencoded');
};

/**
 * An Africa's Talking callback's body: the form content type required (requireForm), then parsed,
 * within `limit` and 20 fields. AT posts a handful of fields; the limits are tight for abuse.
 */
export function atForm(limit: string): RequestHandler[] {
  return [requireForm, express.urlencoded({ extended: false, limit, parameterLimit: 20 })];
}

/**
 * The last middleware. A body that cannot be parsed is the caller's mistake: 400 with one line.
 * Anything else is ours: 500 with no detail (the log has it). Never a stack trace on the wire.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const status = typeof err?.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) logger.error('request failed', { path: req.path, error: err instanceof Error ? err.message : String(err) });
    else logger.warn('bad request', { path: req.path, error: err?.type ?? String(err?.message ?? err) });
    res.status(status).type('text/plain').send(status === 500 ? 'internal error' : `bad request: ${err?.type ?? 'malformed body'}`);
  };
}

/**
 * Validates a webhook body. On failure answers 400 with one line naming the first bad field
 * (`bad request: phoneNumber: must be E.164`) and returns null: the caller just returns.
 */
export function parseBody<T>(schema: z.ZodType<T>, req: Request, res: Response): T | null {
  const parsed = schema.safeParse(req.body ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  res.status(400).type('text/plain').send(`bad request: ${issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'invalid body'}`);
  return null;
}
