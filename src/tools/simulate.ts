/**
 * `npm run simulate`: a feature phone in the terminal that speaks Africa's Talking's USSD protocol
 * to a running gateway (shared notes §1 and §5). Each dial is a new session (`ATUid_` + 32 hex,
 * `text` empty); every reply is sent as all the session's inputs joined by `*`; `CON` waits for a
 * reply, `END` closes the session. A non-200 answer, a body that does not start with `CON `/`END `,
 * or no answer within the per-hop timeout is a failed session, as AT would treat it. When a session
 * ends (or is abandoned with `/quit` or `/redial`), the end-of-session notification AT would send is
 * posted to `/ussd/events`: Success, Incomplete or Failed, with hopsCount, durationInMillis, input
 * and lastAppResponse.
 *
 *   npm run simulate -- --phone +254712345678 [--url http://127.0.0.1:3000/ussd?token=…]
 *                       [--code *384*2222#] [--network 63902] [--timeout 15000] [--no-events]
 *
 * `runScript(lines, opts)` drives the same core without a terminal (tests, scripted demos).
 */
import { DEV_SECRETS } from '../config';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { encodingOf, septets } from '../engine/gsm7';

export const DEV_WEBHOOK_SECRET = DEV_SECRETS.WEBHOOK_SECRET;

export interface SimOptions {
  /** The USSD callback, with its `?token=`. */
  url: string;
  /** E.164, e.g. +254712345678. */
  phone: string;
  serviceCode: string;
  networkCode: string;
  /** Where end-of-session notifications go; null: none are sent. */
  eventsUrl: string | null;
  /** Per-hop timeout (AT waits about 15 s for the application). */
  timeoutMs: number;
  /** Screen budget shown under each screen (USSD_SCREEN_LIMIT). */
  screenLimit: number;
}

/** One screen the phone showed. */
export interface SimScreen {
  kind: 'CON' | 'END' | 'FAILED';
  /** The text on the screen (without `CON `/`END `); for FAILED, the reason. */
  text: string;
  sessionId: string;
}

/** An end-of-session notification as posted (AT's field names). */
export interface SimEvent {
  fields: Record<string, string>;
  /** HTTP status of the events endpoint's answer, or null when it could not be reached. */
  answered: number | null;
}

export function defaultUrl(env: NodeJS.ProcessEnv = process.env): string {
  const port = env.PORT ?? '3000';
  const token = env.WEBHOOK_SECRET ?? DEV_WEBHOOK_SECRET;
  return `http://127.0.0.1:${port}/ussd?token=${encodeURIComponent(token)}`;
}

/** The events URL next to a callback URL: `/ussd?token=x` → `/ussd/events?token=x`. */
export function eventsUrlFor(url: string): string {
  const u = new URL(url);
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/events`;
  return u.toString();
}

/** Kenyan local numbers (07…, 01…) are accepted and written as E.164. */
export function normalisePhone(raw: string): string {
  const s = raw.replace(/[\s-]/g, '');
  if (/^0[17]\d{8}$/.test(s)) return `+254${s.slice(1)}`;
  if (/^254\d{9}$/.test(s)) return `+${s}`;
  return s;
}

const newSessionId = () => `ATUid_${randomBytes(16).toString('hex')}`;

/** AT's `date` field: `YYYY-MM-DD HH:mm:ss` (UTC here). */
const atDate = (d: Date) => d.toISOString().replace('T', ' ').slice(0, 19);

/** One USSD session, as AT runs it between a handset and the application. */
export class UssdSession {
  readonly sessionId = newSessionId();
  private readonly inputs: string[] = [];
  private readonly startedAt = Date.now();
  hops = 0;
  lastAppResponse = '';
  state: 'open' | 'ended' | 'failed' = 'open';

  constructor(private readonly opts: SimOptions) {}

  get text(): string {
    return this.inputs.join('*');
  }

  /** The first hop: `text` is empty. */
  dial(): Promise<SimScreen> {
    return this.post();
  }

  reply(input: string): Promise<SimScreen> {
    if (this.state !== 'open') throw new Error('the session is over');
    this.inputs.push(input);
    return this.post();
  }

  private async post(): Promise<SimScreen> {
    this.hops++;
    const body = new URLSearchParams({
      sessionId: this.sessionId,
      serviceCode: this.opts.serviceCode,
      phoneNumber: this.opts.phone,
      networkCode: this.opts.networkCode,
      text: this.text,
    });
    const fail = (text: string): SimScreen => {
      this.state = 'failed';
      return { kind: 'FAILED', text, sessionId: this.sessionId };
    };
    let status: number;
    let reply: string;
    try {
      const res = await fetch(this.opts.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
      status = res.status;
      reply = await res.text();
    } catch (err) {
      const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
      if (e.name === 'TimeoutError' || e.name === 'AbortError') return fail(`no answer within ${this.opts.timeoutMs} ms`);
      return fail(`could not reach ${redactToken(this.opts.url)}: ${e.cause?.code ?? e.cause?.message ?? e.message ?? String(err)}`);
    }
    this.lastAppResponse = reply;
    if (status !== 200) return fail(`HTTP ${status}: ${oneLine(reply)}`);
    if (reply.startsWith('CON ')) return { kind: 'CON', text: reply.slice(4), sessionId: this.sessionId };
    if (reply.startsWith('END ')) {
      this.state = 'ended';
      return { kind: 'END', text: reply.slice(4), sessionId: this.sessionId };
    }
    return fail(`the answer does not start with "CON " or "END ": ${JSON.stringify(reply.slice(0, 60))}`);
  }

  /** The end-of-session notification AT would post; null when notifications are off. */
  async notify(status: 'Success' | 'Incomplete' | 'Failed', errorMessage?: string): Promise<SimEvent | null> {
    if (!this.opts.eventsUrl) return null;
    const fields: Record<string, string> = {
      date: atDate(new Date()),
      sessionId: this.sessionId,
      serviceCode: this.opts.serviceCode,
      networkCode: this.opts.networkCode,
      phoneNumber: this.opts.phone,
      status,
      cost: 'KES 0.0000',
      durationInMillis: String(Date.now() - this.startedAt),
      hopsCount: String(this.hops),
      input: this.text,
      lastAppResponse: this.lastAppResponse.slice(0, 400),
      ...(errorMessage ? { errorMessage: errorMessage.slice(0, 400) } : {}),
    };
    try {
      const res = await fetch(this.opts.eventsUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields),
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
      await res.text();
      return { fields, answered: res.status };
    } catch {
      return { fields, answered: null };
    }
  }
}

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim().slice(0, 200);
const redactToken = (url: string) => url.replace(/([?&]token=)[^&]*/, '$1…');

/** Word-wraps one line to `width` columns (a word longer than the width is cut). */
function wrap(line: string, width: number): string[] {
  if (line.length <= width) return [line];
  const out: string[] = [];
  let cur = '';
  for (const word of line.split(' ')) {
    let w = word;
    while (w.length > width) {
      if (cur) out.push(cur);
      out.push(w.slice(0, width));
      w = w.slice(width);
      cur = '';
    }
    if (!cur) cur = w;
    else if (cur.length + 1 + w.length <= width) cur += ` ${w}`;
    else {
      out.push(cur);
      cur = w;
    }
  }
  if (cur) out.push(cur);
  return out;
}

const WIDTH = 30;

/** A screen drawn like a phone's: the text wrapped in a frame, its size against the budget, what to press. */
export function frame(screen: SimScreen, opts: Pick<SimOptions, 'serviceCode' | 'screenLimit'>): string {
  const pad = (s: string) => `│ ${s.padEnd(WIDTH)} │`;
  const rule = (l: string, r: string, title = '') => `${l}${`─${title}`.padEnd(WIDTH + 2, '─')}${r}`;
  const body = screen.kind === 'FAILED' ? ['Connection problem or', 'invalid MMI code.'] : screen.text.split('\n');
  const lines = body.flatMap((l) => wrap(l, WIDTH));
  let meter = '';
  if (screen.kind !== 'FAILED') {
    const enc = encodingOf(screen.text);
    const budget = enc === 'gsm7' ? opts.screenLimit : Math.floor((opts.screenLimit * 7) / 16);
    const used = enc === 'gsm7' ? (septets(screen.text) ?? 0) : screen.text.length;
    meter = `${used}/${budget} ${enc === 'gsm7' ? 'GSM-7' : 'UCS-2'}${used > budget ? ' TOO LONG' : ''}`;
  }
  const key = screen.kind === 'CON' ? '[Reply]' : '[OK]';
  const foot = `${meter}${' '.repeat(Math.max(1, WIDTH - meter.length - key.length))}${key}`;
  return [rule('╭', '╮', ` ${opts.serviceCode} `), ...lines.map(pad), rule('├', '┤'), pad(foot), rule('╰', '╯')].join('\n');
}

const HELP = [
  'Type your reply and press Enter. Commands:',
  '  /redial  hang up and dial again      /quit  hang up and leave',
].join('\n');

/**
 * The phone: reads one line at a time (a reply, a command, or the answer to "dial again?") and
 * says what to print. The terminal loop and `runScript` both drive it.
 */
export class Phone {
  session: UssdSession | null = null;
  /** What the next line answers. */
  mode: 'reply' | 'again' | 'done' = 'again';
  readonly screens: SimScreen[] = [];
  readonly events: SimEvent[] = [];

  constructor(
    readonly opts: SimOptions,
    private readonly print: (text: string) => void,
  ) {}

  get prompt(): string {
    if (this.mode === 'reply') return 'reply> ';
    if (this.mode === 'again') return `Dial ${this.opts.serviceCode} again? [Y/n] `;
    return '';
  }

  async dial(): Promise<void> {
    this.session = new UssdSession(this.opts);
    this.print(`Dialling ${this.opts.serviceCode} from ${this.opts.phone} (session ${this.session.sessionId})`);
    await this.show(await this.session.dial());
  }

  /** Handles one line typed by the user. */
  async line(raw: string): Promise<void> {
    const line = raw.trim();
    if (this.mode === 'done') return;
    if (line === '/quit' || line === '/exit') return this.quit();
    if (line === '/help' || line === '?') return void this.print(HELP);
    if (line === '/redial') {
      await this.hangUp();
      return this.dial();
    }
    if (line.startsWith('/')) return void this.print(`Unknown command ${line}.\n${HELP}`);

    if (this.mode === 'again') {
      if (line === '' || /^y(es)?$/i.test(line)) return this.dial();
      if (/^n(o)?$/i.test(line)) return this.quit();
      return void this.print('Answer y or n.');
    }
    if (line === '') return void this.print('(nothing to send: type a reply, or /quit)');
    const session = this.session as UssdSession;
    await this.show(await session.reply(line));
  }

  /** Leaves: a session still waiting for a reply is reported Incomplete, as when a user cancels. */
  async quit(): Promise<void> {
    await this.hangUp();
    this.mode = 'done';
  }

  private async hangUp(): Promise<void> {
    const session = this.session;
    if (session?.state === 'open') {
      this.print('(hung up)');
      await this.notify(session, 'Incomplete');
    }
  }

  private async show(screen: SimScreen): Promise<void> {
    this.screens.push(screen);
    this.print(frame(screen, this.opts));
    const session = this.session as UssdSession;
    if (screen.kind === 'CON') {
      this.mode = 'reply';
      return;
    }
    if (screen.kind === 'FAILED') {
      this.print(`Session failed: ${screen.text}`);
      await this.notify(session, 'Failed', screen.text);
    } else {
      await this.notify(session, 'Success');
    }
    this.mode = 'again';
  }

  private async notify(session: UssdSession, status: 'Success' | 'Incomplete' | 'Failed', errorMessage?: string): Promise<void> {
    const event = await session.notify(status, errorMessage);
    if (!event) return;
    this.events.push(event);
    if (event.answered !== 200) this.print(`(end-of-session notification ${status}: ${event.answered === null ? 'not delivered' : `answered HTTP ${event.answered}`})`);
  }
}

export interface ScriptResult {
  screens: SimScreen[];
  events: SimEvent[];
  /** Everything the terminal would have shown, prompts and typed lines included. */
  transcript: string;
}

/** Dials, then feeds `lines` one by one as a user would type them; hangs up (Incomplete) at the end if still in a session. */
export async function runScript(lines: string[], options: Partial<SimOptions> & Pick<SimOptions, 'url' | 'phone'>): Promise<ScriptResult> {
  const opts = withDefaults(options);
  const out: string[] = [];
  const phone = new Phone(opts, (t) => out.push(t));
  await phone.dial();
  for (const l of lines) {
    if (phone.mode === 'done') break;
    out.push(`${phone.prompt}${l}`);
    await phone.line(l);
  }
  if (phone.mode !== 'done') await phone.quit();
  return { screens: phone.screens, events: phone.events, transcript: out.join('\n') };
}

export function withDefaults(o: Partial<SimOptions> & Pick<SimOptions, 'url' | 'phone'>): SimOptions {
  return {
    serviceCode: '*384*2222#',
    networkCode: '63902',
    timeoutMs: 15000,
    screenLimit: 160,
    ...o,
    eventsUrl: o.eventsUrl === undefined ? eventsUrlFor(o.url) : o.eventsUrl,
  };
}

const USAGE = `Usage: npm run simulate -- [--phone +254712345678] [--url http://127.0.0.1:3000/ussd?token=…]
                            [--code *384*2222#] [--network 63902] [--timeout 15000]
                            [--events-url URL | --no-events]

A terminal feature phone speaking Africa's Talking's USSD protocol to a running gateway.
Defaults: --url from PORT and WEBHOOK_SECRET (or the dev secret of npm start), the demo phone
+254712345678, the code in USSD_CODE or *384*2222#, Safaricom's network code 63902.
${HELP}`;

const CLI_OPTIONS = {
  phone: { type: 'string' },
  url: { type: 'string' },
  code: { type: 'string' },
  network: { type: 'string' },
  timeout: { type: 'string' },
  'events-url': { type: 'string' },
  'no-events': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof CLI_OPTIONS }>>;
  try {
    parsed = parseArgs({ options: CLI_OPTIONS, strict: true, allowPositionals: false });
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}\n`);
    process.exit(2);
  }
  const values = parsed.values;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const phoneNumber = normalisePhone(values.phone ?? '+254712345678');
  if (!/^\+\d{9,15}$/.test(phoneNumber)) {
    process.stderr.write(`--phone must be a phone number such as +254712345678, not ${values.phone}\n`);
    process.exit(2);
  }
  const timeoutMs = Number(values.timeout ?? 15000);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    process.stderr.write('--timeout must be a number of milliseconds\n');
    process.exit(2);
  }
  const url = values.url ?? defaultUrl();
  const opts = withDefaults({
    url,
    phone: phoneNumber,
    serviceCode: values.code ?? process.env.USSD_CODE ?? '*384*2222#',
    networkCode: values.network ?? '63902',
    timeoutMs,
    screenLimit: Number(process.env.USSD_SCREEN_LIMIT ?? 160) || 160,
    eventsUrl: values['no-events'] ? null : (values['events-url'] ?? eventsUrlFor(url)),
  });

  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
  const phone = new Phone(opts, (t) => process.stdout.write(`${t}\n`));
  rl.on('SIGINT', () => rl.close());
  process.stdout.write(`Simu phone → ${redactToken(opts.url)}\n${HELP}\n`);
  await phone.dial();
  rl.setPrompt(phone.prompt);
  rl.prompt();
  for await (const line of rl) {
    await phone.line(line);
    if (phone.mode === 'done') break;
    rl.setPrompt(phone.prompt);
    rl.prompt();
  }
  // Ctrl-D or Ctrl-C mid-session hangs up like /quit.
  if (phone.mode !== 'done') {
    process.stdout.write('\n');
    await phone.quit();
  }
  rl.close();
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`simulate: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
