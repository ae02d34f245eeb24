import http from 'node:http';
import https from 'node:https';
import { classifyHttpStatus, classifyRecipientStatus, type SendResult, type SmsSender, type SmsToSend } from './sender';

/**
 * A small typed client for the one AT endpoint we use: `POST {baseUrl}/version1/messaging`.
 * Not the `africastalking` SDK (0.8.3): it has no base-URL option (tests and the dev default need a
 * fake on loopback), no timeout (a hung call would hold a worker forever), no types, and a
 * process-wide sandbox switch (shared/africastalking.md §3). This is node:http(s) over a keep-alive
 * agent with AbortSignal.timeout on the whole exchange, and the exact form body and headers the SDK
 * sends. (Not global fetch: measured against the fake AT, fetch cost 650–900 µs of CPU per message,
 * node:http 240–350 µs, and the worker's throughput is bounded by that CPU.)
 */
export const AT_LIVE_URL = 'https://api.africastalking.com';
export const AT_SANDBOX_URL = 'https://api.sandbox.africastalking.com';

export interface AtSenderOptions {
  baseUrl: string;
  username: string;
  apiKey: string;
  /** `from`: a registered alphanumeric sender id or short code; omitted → AT's default. */
  senderId?: string | undefined;
  timeoutMs: number;
}

/** The JSON AT answers with (only the fields we read). */
interface AtRecipient {
  statusCode?: unknown;
  number?: unknown;
  status?: unknown;
  cost?: unknown;
  messageId?: unknown;
  messageParts?: unknown;
}
interface AtResponse {
  SMSMessageData?: { Message?: unknown; Recipients?: unknown };
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const clip = (s: string, n = 120) => (s.length > n ? `${s.slice(0, n)}…` : s);

export class AfricasTalkingSender implements SmsSender {
  private readonly url: URL;
  private readonly agent: http.Agent;

  constructor(private readonly opts: AtSenderOptions) {
    this.url = new URL(`${opts.baseUrl.replace(/\/+$/, '')}/version1/messaging`);
    const Agent = this.url.protocol === 'https:' ? https.Agent : http.Agent;
    // Idle sockets do not keep the process alive (the agent unrefs them) and follow the server's Keep-Alive hint.
    this.agent = new Agent({ keepAlive: true, maxSockets: 64 });
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  /** One POST; resolves with the status and the whole body, or rejects (network error, or the signal's abort). */
  private post(body: string, signal: AbortSignal): Promise<{ status: number; text: string }> {
    const mod = this.url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(
        this.url,
        {
          method: 'POST',
          agent: this.agent,
          signal,
          headers: {
            apiKey: this.opts.apiKey,
            Accept: 'application/json',
            'Content-Type': 'application/x-www-form-urlencoded',
            'Content-Length': Buffer.byteLength(body),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
          res.on('aborted', () => reject(new Error('response aborted')));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  async send(sms: SmsToSend): Promise<SendResult> {
    const form = new URLSearchParams({ username: this.opts.username, to: sms.to, message: sms.message });
    if (this.opts.senderId) form.set('from', this.opts.senderId);
    form.set('bulkSMSMode', '1');

    let status: number;
    let text: string;
    // One signal for the whole exchange, body included: a server that stalls mid-body times out too.
    const signal = AbortSignal.timeout(this.opts.timeoutMs);
    try {
      ({ status, text } = await this.post(form.toString(), signal));
    } catch (err) {
      if (signal.aborted) return { outcome: 'transient', reason: `timeout after ${this.opts.timeoutMs} ms` };
      const e = err as { code?: string; message?: string };
      return { outcome: 'transient', reason: `network: ${e.code ?? e.message ?? 'error'}` };
    }

    if (status < 200 || status > 299) {
      return { outcome: classifyHttpStatus(status), reason: `HTTP ${status}: ${clip(text.trim() || 'no body')}` };
    }
    // AT answers 201; a 2xx with a readable body is read the same way (a 200 body with statusCode
    // 101 was sent, and treating it as an error would send the code twice).
    let body: AtResponse;
    try {
      body = JSON.parse(text) as AtResponse;
    } catch {
      // Possibly sent, possibly not: retried, like a timeout (AT has no idempotency key for SMS).
      return { outcome: 'transient', reason: `HTTP ${status}: unreadable body` };
    }
    const data = body.SMSMessageData;
    const recipients = Array.isArray(data?.Recipients) ? (data.Recipients as AtRecipient[]) : [];
    const mine = recipients.find((r) => r.number === sms.to) ?? recipients[0];
    if (!mine) {
      // AT answers e.g. {"Message":"InvalidSenderId","Recipients":[]} when it refuses the whole request.
      return { outcome: 'permanent', reason: `no recipient status: ${clip(str(data?.Message) ?? 'empty')}` };
    }
    const statusCode = Number(mine.statusCode);
    const atStatus = str(mine.status) ?? 'unknown';
    if (!Number.isInteger(statusCode)) return { outcome: 'transient', reason: 'recipient without statusCode', status: atStatus };
    const outcome = classifyRecipientStatus(statusCode);
    if (outcome === 'sent') {
      const messageId = str(mine.messageId);
      const parts = Number(mine.messageParts);
      return {
        outcome,
        messageId: messageId && messageId !== 'None' ? messageId : null,
        status: atStatus,
        statusCode,
        cost: str(mine.cost),
        parts: Number.isInteger(parts) ? parts : null,
      };
    }
    return { outcome, reason: `${statusCode} ${atStatus}`, status: atStatus, statusCode };
  }
}

/**
 * Which AT host to call: AT_API_URL when set; otherwise the sandbox host for username `sandbox` and
 * the live host for any other username. (The dev default without credentials is decided in main.ts:
 * it starts the fake AT server and sets AT_API_URL to it.)
 */
export function atBaseUrl(config: { AT_API_URL?: string | undefined; AT_USERNAME: string }): string {
  if (config.AT_API_URL) return config.AT_API_URL;
  return config.AT_USERNAME.toLowerCase() === 'sandbox' ? AT_SANDBOX_URL : AT_LIVE_URL;
}
