import { AfricasTalkingSender, atBaseUrl, AT_LIVE_URL, AT_SANDBOX_URL } from '../../src/sms/africastalking';
import { startFakeAt, type FakeAt } from '../../src/sms/fake-at';
import { classifyHttpStatus, classifyRecipientStatus } from '../../src/sms/sender';

/** The AT client against the fake AT server on loopback: the wire format and every outcome class. */
describe('AfricasTalkingSender', () => {
  let fake: FakeAt;
  let sender: AfricasTalkingSender;
  beforeAll(async () => {
    fake = await startFakeAt({ username: 'simu' });
  });
  afterAll(async () => fake.close());
  beforeEach(() => {
    fake.reset();
    sender = new AfricasTalkingSender({ baseUrl: fake.url, username: 'simu', apiKey: fake.apiKey, senderId: 'ECITIZEN', timeoutMs: 300 });
  });

  test('posts the form AT expects and reads the per-recipient answer', async () => {
    const r = await sender.send({ to: '+254712345678', message: 'Your e-Citizen code is 482913' });
    expect(r).toMatchObject({ outcome: 'sent', status: 'Success', statusCode: 101, cost: 'KES 0.8000', parts: 1 });
    const [got] = fake.messages();
    expect(got).toMatchObject({
      to: '+254712345678',
      message: 'Your e-Citizen code is 482913',
      from: 'ECITIZEN',
      username: 'simu',
      apiKey: fake.apiKey,
      bulkSMSMode: '1',
    });
    expect(r.outcome === 'sent' && r.messageId).toBe(got?.messageId);
    expect(got?.messageId).toMatch(/^ATXid_/);
  });

  test('a long message is billed per part', async () => {
    const r = await sender.send({ to: '+254712345678', message: 'x'.repeat(200) });
    expect(r).toMatchObject({ outcome: 'sent', parts: 2, cost: 'KES 1.6000' });
  });

  test('without a sender id, no `from` is sent', async () => {
    const plain = new AfricasTalkingSender({ baseUrl: fake.url, username: 'simu', apiKey: fake.apiKey, timeoutMs: 300 });
    await plain.send({ to: '+254712345678', message: 'hi' });
    expect(fake.messages()[0]?.from).toBeNull();
  });

  test('a bad key is HTTP 401 → pause (every message would fail), nothing accepted', async () => {
    const bad = new AfricasTalkingSender({ baseUrl: fake.url, username: 'simu', apiKey: 'wrong', timeoutMs: 300 });
    const r = await bad.send({ to: '+254712345678', message: 'hi' });
    expect(r).toEqual({ outcome: 'pause', reason: 'HTTP 401: The supplied authentication is invalid' });
    expect(fake.messages()).toHaveLength(0);
  });

  test('a number that is not E.164 → permanent 403 InvalidPhoneNumber', async () => {
    const r = await sender.send({ to: '0712345678', message: 'hi' });
    expect(r).toEqual({ outcome: 'permanent', reason: '403 InvalidPhoneNumber', status: 'InvalidPhoneNumber', statusCode: 403 });
  });

  test.each([
    [{ kind: 'http', status: 500 } as const, 'transient'],
    [{ kind: 'http', status: 503 } as const, 'transient'],
    [{ kind: 'http', status: 429 } as const, 'transient'],
    [{ kind: 'http', status: 400 } as const, 'permanent'],
    [{ kind: 'recipient', statusCode: 500 } as const, 'transient'],
    [{ kind: 'recipient', statusCode: 502 } as const, 'transient'],
    [{ kind: 'recipient', statusCode: 406 } as const, 'permanent'],
    [{ kind: 'recipient', statusCode: 401 } as const, 'permanent'],
    [{ kind: 'recipient', statusCode: 405 } as const, 'pause'],
  ])('fake failure %j → %s', async (failure, outcome) => {
    fake.failNext(1, failure);
    expect((await sender.send({ to: '+254712345678', message: 'hi' })).outcome).toBe(outcome);
    // and the next call succeeds again
    expect((await sender.send({ to: '+254712345678', message: 'hi' })).outcome).toBe('sent');
  });

  test('a call that hangs times out → transient', async () => {
    fake.failNext(1, { kind: 'timeout' });
    const r = await sender.send({ to: '+254712345678', message: 'hi' });
    expect(r).toEqual({ outcome: 'transient', reason: 'timeout after 300 ms' });
  });

  test('nothing listening → transient network error', async () => {
    const gone = await startFakeAt();
    const url = gone.url;
    await gone.close();
    const r = await new AfricasTalkingSender({ baseUrl: url, username: 'simu', apiKey: 'k', timeoutMs: 300 }).send({ to: '+254712345678', message: 'hi' });
    expect(r).toMatchObject({ outcome: 'transient' });
    expect(r.outcome !== 'sent' && r.reason).toMatch(/^network: /);
  });

  test('the fake keeps what it received, over HTTP too', async () => {
    await sender.send({ to: '+254712345678', message: 'one' });
    const res = await fetch(`${fake.url}/_fake/messages`);
    const body = (await res.json()) as { calls: number; messages: Array<{ to: string; message: string }> };
    expect(body.calls).toBe(1);
    expect(body.messages.map((m) => m.message)).toEqual(['one']);
  });
});

describe('classification', () => {
  test('recipient status codes', () => {
    expect([100, 101, 102].map(classifyRecipientStatus)).toEqual(['sent', 'sent', 'sent']);
    expect([500, 501, 502].map(classifyRecipientStatus)).toEqual(['transient', 'transient', 'transient']);
    expect([401, 402, 403, 404, 406, 407, 409].map(classifyRecipientStatus)).toEqual(Array(7).fill('permanent'));
    expect(classifyRecipientStatus(405)).toBe('pause');
    expect(classifyRecipientStatus(999)).toBe('transient');
  });

  test('HTTP statuses', () => {
    expect(classifyHttpStatus(401)).toBe('pause');
    expect([500, 502, 503, 504, 429, 408].map(classifyHttpStatus)).toEqual(Array(6).fill('transient'));
    expect([400, 403, 404].map(classifyHttpStatus)).toEqual(['permanent', 'permanent', 'permanent']);
  });

  test('base URL: explicit, else sandbox or live by username', () => {
    expect(atBaseUrl({ AT_USERNAME: 'sandbox' })).toBe(AT_SANDBOX_URL);
    expect(atBaseUrl({ AT_USERNAME: 'ecitizen' })).toBe(AT_LIVE_URL);
    expect(atBaseUrl({ AT_USERNAME: 'ecitizen', AT_API_URL: 'http://127.0.0.1:9' })).toBe('http://127.0.0.1:9');
  });
});
