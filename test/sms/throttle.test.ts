import { randomBytes } from 'node:crypto';
import { SharedThrottle, TokenBucket, createThrottle, unthrottled } from '../../src/sms/throttle';
import { testStore } from '../helpers/env';
import { openTestStore, type TestStoreHandle } from '../helpers/store';

/** Token buckets, counted not timed: the refill rate is so slow that no token comes back during a test. */
describe(`SharedThrottle over the ${testStore()} store (one rate for every worker)`, () => {
  const prefix = `simu-test:${process.env.SIMU_TEST_RUN}:${randomBytes(4).toString('hex')}:`;
  let a: TestStoreHandle;
  let b: TestStoreHandle;
  beforeAll(async () => {
    a = await openTestStore(prefix);
    b = await openTestStore(prefix, a.url);
  });
  afterAll(async () => {
    await a.store.clear();
    await b.close();
    await a.close();
  });

  test('two workers (two connections) share one bucket: together they get the burst, no more', async () => {
    const rate = 0.001; // one token per 1000 s
    const one = new SharedThrottle(a.store, 'sms:throttle', rate, 5);
    const two = new SharedThrottle(b.store, 'sms:throttle', rate, 5);
    expect((await one.take(3)).granted).toBe(3);
    expect((await two.take(10)).granted).toBe(2);
    const empty = await one.take(10);
    expect(empty.granted).toBe(0);
    expect(empty.waitMs).toBeGreaterThan(900_000);
    await two.refund(2);
    expect((await one.take(10)).granted).toBe(2);
  });

  test('the store away → the same rate per process, not a stop', async () => {
    const dead = await openTestStore(prefix, null);
    try {
      let fellBack = 0;
      const bucket = new SharedThrottle(dead.store, 'sms:throttle', 0.001, 3, () => fellBack++);
      expect((await bucket.take(10)).granted).toBe(3);
      expect((await bucket.take(10)).granted).toBe(0);
      expect(fellBack).toBe(2);
    } finally {
      await dead.close();
    }
  });
});

describe('TokenBucket', () => {
  test('refills at its rate up to its burst', async () => {
    let now = 0;
    const b = new TokenBucket(50, 50, () => now);
    expect((await b.take(100)).granted).toBe(50);
    expect(await b.take(1)).toEqual({ granted: 0, waitMs: 20 });
    now += 100;
    expect((await b.take(100)).granted).toBe(5);
    now += 60_000;
    expect((await b.take(100)).granted).toBe(50);
  });

  test('rate 0 means unthrottled', async () => {
    expect(createThrottle(null, 'k', 0)).toBe(unthrottled);
    expect((await unthrottled.take(1000)).granted).toBe(1000);
  });
});
