import { argon2id, hash, needsRehash as argonNeedsRehash, verify } from 'argon2';

/**
 * Staff password hashing: argon2id (memory-hard, the winner of the Password Hashing Competition)
 * through the `argon2` package, which ships prebuilt binaries (no compiler needed on install).
 * Parameters: OWASP's minimum for argon2id (19 MiB, 2 passes, 1 lane) — about 0.1 s on the
 * 2-core CI machine. Hashes are PHC strings, so parameters can be raised later: a login with an
 * older hash re-hashes it (`needsRehash`).
 */
const OPTIONS = { type: argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

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
    return argonNeedsRehash(stored, { memoryCost: OPTIONS.memoryCost, timeCost: OPTIONS.timeCost, parallelism: OPTIONS.parallelism });
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
