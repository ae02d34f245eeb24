import { hash, parseOptions, verify, type Algorithm, type Options } from '@node-rs/argon2';

/**
 * Staff password hashing: argon2id (memory-hard, the winner of the Password Hashing Competition)
 * through `@node-rs/argon2`, which ships a prebuilt binary per platform as an optional dependency
 * (no compiler, no download at install; the `argon2` package fell back to node-gyp on Node 20).
 * Parameters: OWASP's minimum for argon2id (19 MiB, 2 passes, 1 lane) — about 0.1 s on the
 * 2-core CI machine. Hashes are PHC strings, so parameters can be raised later: a login with an
 * older hash re-hashes it (`needsRehash`). Hashes made by the `argon2` package verify unchanged.
 */
// Algorithm is a `const enum` in the package's types, which isolatedModules cannot read: 2 is Argon2id.
const ARGON2ID = 2 as Algorithm;
const OPTIONS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 } satisfies Options;

export const MIN_PASSWORD_LENGTH = 10;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password);
  } catch {
    return false; // a malformed hash never matches
  }
}

export function needsRehash(stored: string): boolean {
  try {
    const p = parseOptions(stored);
    return p.algorithm !== ARGON2ID || p.memoryCost !== OPTIONS.memoryCost || p.timeCost !== OPTIONS.timeCost || p.parallelism !== OPTIONS.parallelism;
  } catch {
    return true;
  }
}

/** A hash of a random password, verified against when a username is unknown, so both cases take as long. */
let dummy: Promise<string> | null = null;
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword(`dummy-${Math.random()}`);
  return dummy;
}

/** Why a password is refused, or null. Length over composition rules (NIST SP 800-63B). */
export function passwordProblem(password: string, username: string): 'too_short' | 'too_long' | 'same_as_username' | null {
  if (password.length < MIN_PASSWORD_LENGTH) return 'too_short';
  if (password.length > 200) return 'too_long';
  if (password.toLowerCase().includes(username.toLowerCase())) return 'same_as_username';
  return null;
}
