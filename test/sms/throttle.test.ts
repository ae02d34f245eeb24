import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisTokenBucket, TokenBucket, createThrottle, unthrottled } from '../../src/sms/throttle';
import { redisUrl } from '../helpers/env';

/** Token buckets, counted not timed: the refill rate is so slow that no token comes back during a test. */
describe('RedisTokenBucket (one rate for every worker)', () => {
  let redis: Redis;
  const key = `simu-test:${process.env.SIMU_TEST_RUN}:${randomBytes(4).toString('hex')}:sms:throttle`;
  beforeAll(() => {
    redis = new Redis(redisUrl());
  });
  afterAll(async () => {
    await redis.del(key);
    redis.disconnect();
  });

  test('two workers share one bucket: together they get the burst, no more', async () => {
    const rate = 0.001; // one token per 1000 s
    const a = new RedisTokenBucket(redis, key, rate, 5);
    const b = new RedisTokenBucket(redis, key, rate, 5);
    expect((await a.take(3)).granted).toBe(3);
    expect((await b.take(10)).granted).toBe(2);
    const empty = await a.take(10);
    expect(empty.granted).toBe(0);
    expect(empty.waitMs).toBeGreaterThan(900_000);
    await b.refund(2);
    expect((await a.take(10)).granted).toBe(2);
  });

  test('Redis away → the same rate per process, not a stop', async () => {
    const dead = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    let fellBack = 0;
    const bucket = new RedisTokenBucket(dead, key, 0.001, 3, () => fellBack++);
    expect((await bucket.take(10)).granted).toBe(3);
    expect((await bucket.take(10)).granted).toBe(0);
    expect(fellBack).toBe(2);
    dead.disconnect();
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
