import { randomBytes } from 'node:crypto';
import request from 'supertest';
import type { Express } from 'express';
import { TEST_WEBHOOK_SECRET } from './env';

/**
 * A feature phone talking to the gateway the way Africa's Talking relays it: a new sessionId per
 * dial, and `text` carrying every input of the session joined by `*`.
 */
export class UssdPhone {
  sessionId = '';
  private inputs: string[] = [];

  constructor(private readonly app: Express, readonly phoneNumber: string, private readonly serviceCode = '*384*2222#') {}

  /** Dial the short code (a new session). `dialThrough` inputs are sent on the first hop, as some operators do. */
  async dial(...dialThrough: string[]): Promise<string> {
    this.sessionId = `ATUid_${randomBytes(16).toString('hex')}`;
    this.inputs = [...dialThrough];
    return this.post(this.inputs.join('*'));
  }

  /** Type an answer and press send. */
  async reply(input: string): Promise<string> {
    this.inputs.push(input);
    return this.post(this.inputs.join('*'));
  }

  /** Re-send the last request unchanged, as a retrying gateway would. */
  async retry(): Promise<string> {
    return this.post(this.inputs.join('*'));
  }

  get text(): string {
    return this.inputs.join('*');
  }

  async post(text: string): Promise<string> {
    const res = await request(this.app)
      .post(`/ussd?token=${TEST_WEBHOOK_SECRET}`)
      .type('form')
      .send({ sessionId: this.sessionId, serviceCode: this.serviceCode, phoneNumber: this.phoneNumber, networkCode: '63902', text });
    if (res.status !== 200) throw new Error(`USSD hop answered ${res.status}: ${res.text}`);
    if (!/^text\/plain/.test(String(res.headers['content-type']))) throw new Error(`USSD hop answered ${res.headers['content-type']}`);
    return res.text;
  }
}
