import type { Knex } from 'knex';

/**
 * The Postgres store (src/store/postgres.ts): ephemeral state for a deployment without Redis.
 *
 * UNLOGGED tables: no WAL, so writes cost about what Redis's do in memory, and a crash empties them
 * — which is what Redis without persistence does too (sessions, locks and limits are minutes long).
 * Every row has an expiry; reads ignore expired rows and a sweeper deletes them. No index on the
 * expiry: it would make every hop's update a non-HOT one, and the sweeper's scan of a table of
 * open sessions once a minute is cheap.
 *
 * The functions give the USSD hop its two round trips (lock + read, save + release) as with
 * Redis's Lua scripts. They are plpgsql on purpose: each statement in a volatile function takes a
 * fresh snapshot, so the record read after taking the lock is the one the previous holder saved
 * (a single CTE would read from the snapshot taken before it waited for that holder's commit).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE UNLOGGED TABLE store_entries (
      key text PRIMARY KEY,
      value text NOT NULL,
      expires_at timestamptz NOT NULL
    );
    CREATE UNLOGGED TABLE store_buckets (
      key text PRIMARY KEY,
      tokens double precision NOT NULL,
      ts_ms bigint NOT NULL,
      expires_at timestamptz NOT NULL
    );
    -- rate-limiter-flexible's RateLimiterPostgres layout (created here, not by the library at run time).
    CREATE UNLOGGED TABLE store_rate_limits (
      key varchar(255) PRIMARY KEY,
      points integer NOT NULL DEFAULT 0,
      expire bigint
    );

    -- Lock, then the session's record; for a session with no record yet, the phone's resume pointer
    -- and the record it names. Returns one row: ok = false when another hop holds the lock.
    CREATE FUNCTION store_lock_and_get(p_lock text, p_session text, p_resume text, p_session_prefix text, p_token text, p_lock_ms integer)
    RETURNS TABLE (ok boolean, session_value text, pointer_value text, pointed_value text)
    LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO store_entries AS e (key, value, expires_at)
      VALUES (p_lock, p_token, clock_timestamp() + p_lock_ms * interval '1 millisecond')
      ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
      WHERE e.expires_at <= clock_timestamp();
      ok := FOUND;
      IF NOT ok THEN RETURN NEXT; RETURN; END IF;
      SELECT e.value INTO session_value FROM store_entries e WHERE e.key = p_session AND e.expires_at > clock_timestamp();
      IF session_value IS NULL THEN
        SELECT e.value INTO pointer_value FROM store_entries e WHERE e.key = p_resume AND e.expires_at > clock_timestamp();
        IF pointer_value IS NOT NULL THEN
          SELECT e.value INTO pointed_value FROM store_entries e
          WHERE e.key = p_session_prefix || (pointer_value::json ->> 'sessionId') AND e.expires_at > clock_timestamp();
        END IF;
      END IF;
      RETURN NEXT;
    END $$;

    -- Session record, resume pointer (set, or cleared when p_pointer is null) and lock release.
    CREATE FUNCTION store_save_and_release(p_session text, p_record text, p_ttl_ms integer, p_resume text, p_pointer text, p_resume_ttl_ms integer, p_lock text, p_token text)
    RETURNS void
    LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO store_entries AS e (key, value, expires_at)
      VALUES (p_session, p_record, clock_timestamp() + p_ttl_ms * interval '1 millisecond')
      ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at;
      IF p_pointer IS NULL THEN
        DELETE FROM store_entries e WHERE e.key = p_resume;
      ELSE
        INSERT INTO store_entries AS e (key, value, expires_at)
        VALUES (p_resume, p_pointer, clock_timestamp() + p_resume_ttl_ms * interval '1 millisecond')
        ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at;
      END IF;
      DELETE FROM store_entries e WHERE e.key = p_lock AND e.value = p_token;
    END $$;

    -- The SMS throttle's token bucket (the Redis store's Lua script, line for line): the row lock
    -- makes concurrent takers queue, and the time is the database's, read after the lock.
    CREATE FUNCTION store_take_tokens(p_key text, p_rate double precision, p_burst double precision, p_want integer)
    RETURNS TABLE (granted integer, wait_ms integer)
    LANGUAGE plpgsql AS $$
    DECLARE
      b store_buckets%ROWTYPE;
      now_ms bigint;
    BEGIN
      INSERT INTO store_buckets AS s (key, tokens, ts_ms, expires_at) VALUES (p_key, p_burst, 0, '-infinity')
      ON CONFLICT (key) DO NOTHING;
      SELECT * INTO b FROM store_buckets s WHERE s.key = p_key FOR UPDATE;
      now_ms := floor(extract(epoch FROM clock_timestamp()) * 1000);
      IF b.expires_at <= clock_timestamp() THEN b.tokens := p_burst; b.ts_ms := now_ms; END IF;
      IF now_ms > b.ts_ms THEN
        b.tokens := least(p_burst, b.tokens + (now_ms - b.ts_ms) * p_rate / 1000);
        b.ts_ms := now_ms;
      END IF;
      granted := greatest(0, least(p_want, floor(b.tokens)));
      b.tokens := b.tokens - granted;
      UPDATE store_buckets s SET tokens = b.tokens, ts_ms = b.ts_ms,
        expires_at = clock_timestamp() + (ceil(p_burst / p_rate * 1000) + 60000) * interval '1 millisecond'
      WHERE s.key = p_key;
      wait_ms := CASE WHEN granted = 0 THEN ceil((1 - b.tokens) * 1000 / p_rate) ELSE 0 END;
      RETURN NEXT;
    END $$;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP FUNCTION store_take_tokens(text, double precision, double precision, integer);
    DROP FUNCTION store_save_and_release(text, text, integer, text, text, integer, text, text);
    DROP FUNCTION store_lock_and_get(text, text, text, text, text, integer);
    DROP TABLE store_rate_limits;
    DROP TABLE store_buckets;
    DROP TABLE store_entries;
  `);
}
