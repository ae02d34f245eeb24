import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Response } from 'express';
import { septets } from '../engine/gsm7';
import { DEV_SECRETS } from '../config';

/**
 * A fake Africa's Talking SMS API on loopback, for the tests and for `npm start` without AT
 * credentials. It answers `POST /version1/messaging` the way AT does (shared/africastalking.md §2):
 * 401 text on a bad key, 201 JSON with per-recipient statusCode / status / messageId / cost /
 * messageParts, 403 InvalidPhoneNumber inside the 201 for a number that is not E.164. It keeps
 * every message it accepted, can be told to fail or hang for the next N calls, and posts delivery
 * reports to the gateway (automatically after a delay, or on demand — duplicated, out of order).
 *
 * Control over HTTP for manual runs: GET /_fake/messages, DELETE /_fake/messages,
 * POST /_fake/fail {count, kind: 'http'|'recipient'|'timeout', status?, statusCode?},
 * POST /_fake/deliver {id, status?, failureReason?}.
 */
export interface FakeSms {
  messageId: string;
  to: string;
  message: string;
  from: string | null;
  username: string;
  apiKey: string;
  bulkSMSMode: string | null;
  statusCode: number;
  status: string;
  cost: string;
  parts: number;
  receivedAt: Date;
}

/** What the next calls do instead of succeeding. */
export type FakeFailure =
  | { kind: 'http'; status: number; body?: string }
  | { kind: 'recipient'; statusCode: number }
  /** Never answer (the client times out). `accept: true`: the message is kept as sent all the same (AT got it, the answer was lost). */
  | { kind: 'timeout'; accept?: boolean };

export interface FakeAtOptions {
  port?: number;
  host?: string;
  /** The only key accepted (AT answers 401 to any other). */
  apiKey?: string;
  /** When set, the only username accepted. */
  username?: string;
  /** Where delivery reports are posted (the gateway's /sms/delivery?token=…). */
  deliveryUrl?: string;
  /**
   * Post a report for every accepted message after `delayMs` (statuses in order, default ['Success']).
   * `beforeAnswer`: post them before answering the send call (AT reporting faster than we record).
   */
  autoDeliver?: { delayMs: number; statuses?: string[]; beforeAnswer?: boolean } | false;
  /** Called for every accepted message (the dev default prints it). */
  onMessage?: (sms: FakeSms) => void;
}

export interface DeliveryPost {
  id: string;
  status: string;
  httpStatus: number | null;
}

const STATUS_NAMES: Record<number, string> = {
  100: 'Processed', 101: 'Success', 102: 'Queued', 401: 'RiskHold', 402: 'InvalidSenderId', 403: 'InvalidPhoneNumber',
  404: 'UnsupportedNumberType', 405: 'InsufficientBalance', 406: 'UserInBlacklist', 407: 'CouldNotRoute',
  409: 'DoNotDisturbRejection', 500: 'InternalServerError', 501: 'GatewayError', 502: 'RejectedByGateway',
};
const E164 = /^\+[1-9]\d{7,14}$/;

function partsOf(text: string): number {
  const s = septets(text);
  if (s !== null) return s <= 160 ? 1 : Math.ceil(s / 153);
  return text.length <= 70 ? 1 : Math.ceil(text.length / 67);
}

export class FakeAt {
  readonly apiKey: string;
  /** Every POST /version1/messaging received, whatever became of it. */
  calls = 0;
  readonly deliveries: DeliveryPost[] = [];
  private readonly accepted: FakeSms[] = [];
  private readonly failures: FakeFailure[] = [];
  private readonly held = new Set<Response>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private server: Server | null = null;
  private baseUrl = '';

  constructor(private readonly opts: FakeAtOptions = {}) {
    this.apiKey = opts.apiKey ?? DEV_SECRETS.AT_API_KEY;
  }

  /** http://127.0.0.1:<port>: the AT_API_URL to configure. */
  get url(): string {
    return this.baseUrl;
  }

  async start(): Promise<this> {
    const app = this.app();
    const host = this.opts.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      const server = app.listen(this.opts.port ?? 0, host, () => resolve());
      server.once('error', reject);
      this.server = server;
    });
    const { port } = this.server!.address() as AddressInfo;
    this.baseUrl = `http://${host}:${port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.dropHeld();
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Calls being held by a 'timeout' failure right now. */
  get holding(): number {
    return this.held.size;
  }

  /** Cuts the connections of held calls now (the caller sees a network error instead of waiting out its timeout). */
  dropHeld(): void {
    for (const res of this.held) res.socket?.destroy();
    this.held.clear();
  }

  /** The messages accepted so far (oldest first). */
  messages(): FakeSms[] {
    return [...this.accepted];
  }

  /** Messages accepted for one phone. */
  messagesTo(phone: string): FakeSms[] {
    return this.accepted.filter((m) => m.to === phone);
  }

  reset(): void {
    this.accepted.length = 0;
    this.failures.length = 0;
    this.deliveries.length = 0;
    this.calls = 0;
  }

  /** The next `count` calls fail this way (queued after any failures already set). */
  failNext(count: number, failure: FakeFailure): void {
    for (let i = 0; i < count; i++) this.failures.push(failure);
  }

  setDeliveryUrl(url: string): void {
    this.opts.deliveryUrl = url;
  }

  /** Posts one delivery report now, as AT would; resolves with the gateway's HTTP status. */
  async deliver(messageId: string, status = 'Success', extra: { failureReason?: string; phoneNumber?: string; networkCode?: string; retryCount?: number } = {}): Promise<number | null> {
    const url = this.opts.deliveryUrl;
    if (!url) throw new Error('fake AT: no deliveryUrl configured');
    const sms = this.accepted.find((m) => m.messageId === messageId);
    const form = new URLSearchParams({
      id: messageId,
      status,
      phoneNumber: extra.phoneNumber ?? sms?.to ?? '',
      networkCode: extra.networkCode ?? '63902',
      retryCount: String(extra.retryCount ?? 0),
    });
    if (extra.failureReason ?? (status === 'Failed' || status === 'Rejected' ? 'DeliveryFailure' : undefined)) {
      form.set('failureReason', extra.failureReason ?? 'DeliveryFailure');
    }
    let httpStatus: number | null = null;
    try {
      const res = await fetch(url, { method: 'POST', body: form, signal: AbortSignal.timeout(5000) });
      httpStatus = res.status;
      await res.text();
    } catch {
      httpStatus = null;
    }
    this.deliveries.push({ id: messageId, status, httpStatus });
    return httpStatus;
  }

  private app(): express.Express {
    const app = express();
    app.disable('x-powered-by');
    const form = express.urlencoded({ extended: false, limit: '64kb' });

    app.post('/version1/messaging', form, async (req, res) => {
      this.calls++;
      const body = (req.body ?? {}) as Record<string, string | undefined>;
      const apiKey = req.get('apiKey') ?? '';
      if (apiKey !== this.apiKey || !body.username || (this.opts.username && body.username !== this.opts.username)) {
        return void res.status(401).type('text/plain').send('The supplied authentication is invalid');
      }
      if (!body.to || !body.message) {
        return void res.status(400).type('text/plain').send('The request contains bad syntax or cannot be fulfilled');
      }
      const failure = this.failures.shift();
      if (failure?.kind === 'http') {
        return void res.status(failure.status).type('text/plain').send(failure.body ?? 'Internal Server Error');
      }
      if (failure?.kind === 'timeout') {
        if (failure.accept) for (const to of body.to.split(',')) this.accept(to.trim(), body, apiKey);
        this.held.add(res);
        res.on('close', () => this.held.delete(res));
        return;
      }
      const recipients = body.to.split(',').map((raw) => {
        const to = raw.trim();
        const forced = failure?.kind === 'recipient' ? failure.statusCode : null;
        const statusCode = forced ?? (E164.test(to) ? 101 : 403);
        if (statusCode >= 100 && statusCode <= 102) {
          const sms = this.accept(to, body, apiKey);
          return { statusCode, number: to, status: sms.status, cost: sms.cost, messageId: sms.messageId, messageParts: sms.parts };
        }
        return { statusCode, number: to, status: STATUS_NAMES[statusCode] ?? 'Failed', cost: '0', messageId: 'None' };
      });
      const sent = recipients.filter((r) => r.statusCode <= 102).length;
      const auto = this.opts.autoDeliver;
      if (auto && auto.beforeAnswer) {
        for (const r of recipients) if (r.statusCode <= 102) for (const st of auto.statuses ?? ['Success']) await this.deliver(r.messageId, st);
      }
      res.status(201).json({
        SMSMessageData: { Message: `Sent to ${sent}/${recipients.length} Total Cost: KES ${(sent * 0.8).toFixed(4)}`, Recipients: recipients },
      });
    });

    app.get('/_fake/messages', (_req, res) => void res.json({ calls: this.calls, messages: this.accepted, deliveries: this.deliveries }));
    app.delete('/_fake/messages', (_req, res) => {
      this.reset();
      res.status(204).end();
    });
    app.post('/_fake/fail', express.json(), (req, res) => {
      const b = (req.body ?? {}) as { count?: number; kind?: string; status?: number; statusCode?: number; accept?: boolean };
      const count = Number(b.count ?? 1);
      if (b.kind === 'http') this.failNext(count, { kind: 'http', status: Number(b.status ?? 500) });
      else if (b.kind === 'recipient') this.failNext(count, { kind: 'recipient', statusCode: Number(b.statusCode ?? 500) });
      else if (b.kind === 'timeout') this.failNext(count, { kind: 'timeout', accept: b.accept === true });
      else return void res.status(400).type('text/plain').send("kind must be 'http', 'recipient' or 'timeout'");
      res.status(204).end();
    });
    app.post('/_fake/deliver', express.json(), async (req, res) => {
      const b = (req.body ?? {}) as { id?: string; status?: string; failureReason?: string };
      if (!b.id) return void res.status(400).type('text/plain').send('id required');
      const httpStatus = await this.deliver(b.id, b.status ?? 'Success', b.failureReason ? { failureReason: b.failureReason } : {});
      res.json({ httpStatus });
    });
    return app;
  }

  private accept(to: string, body: Record<string, string | undefined>, apiKey: string): FakeSms {
    const message = body.message ?? '';
    const parts = partsOf(message);
    const sms: FakeSms = {
      messageId: `ATXid_${randomBytes(16).toString('hex')}`,
      to,
      message,
      from: body.from ?? null,
      username: body.username ?? '',
      apiKey,
      bulkSMSMode: body.bulkSMSMode ?? null,
      statusCode: 101,
      status: 'Success',
      cost: `KES ${(0.8 * parts).toFixed(4)}`,
      parts,
      receivedAt: new Date(),
    };
    this.accepted.push(sms);
    this.opts.onMessage?.(sms);
    const auto = this.opts.autoDeliver;
    if (auto && !auto.beforeAnswer && this.opts.deliveryUrl) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        void (async () => {
          for (const status of auto.statuses ?? ['Success']) await this.deliver(sms.messageId, status);
        })();
      }, auto.delayMs);
      timer.unref();
      this.timers.add(timer);
    }
    return sms;
  }
}

/** Starts a fake AT server (port 0 = any free loopback port). */
export async function startFakeAt(opts: FakeAtOptions = {}): Promise<FakeAt> {
  return new FakeAt(opts).start();
}
