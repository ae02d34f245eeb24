/**
 * The SMS sender: one message to one phone, and what became of it, already classified for the
 * worker. The real implementation is `AfricasTalkingSender` (./africastalking.ts); tests and the dev
 * default point it at the fake AT server (./fake-at.ts) rather than replacing it.
 */
export interface SmsToSend {
  to: string;
  message: string;
}

/**
 * - `sent`: AT accepted it (recipient statusCode 100/101/102). Delivery comes later as a report.
 * - `transient`: not sent, try again later with backoff (network error, timeout, HTTP 5xx/429,
 *   recipient statusCode 500/501/502, an answer we cannot read).
 * - `permanent`: this message will never go (invalid number, blacklisted, unsupported, no route,
 *   risk hold, sender id refused for that network …): mark it failed, do not retry.
 * - `pause`: nothing can go until an operator acts (HTTP 401: bad credentials; statusCode 405:
 *   insufficient balance). The message is not charged an attempt; the worker pauses all sending.
 */
export type SendResult =
  | { outcome: 'sent'; messageId: string | null; status: string; statusCode: number; cost: string | null; parts: number | null }
  | { outcome: 'transient' | 'permanent' | 'pause'; reason: string; status?: string; statusCode?: number };

export interface SmsSender {
  send(sms: SmsToSend): Promise<SendResult>;
}

/** Per-recipient statusCode → outcome (shared/africastalking.md §2.2). Unknown codes are retried (bounded by max attempts). */
export function classifyRecipientStatus(statusCode: number): SendResult['outcome'] {
  if (statusCode === 100 || statusCode === 101 || statusCode === 102) return 'sent';
  if (statusCode === 405) return 'pause'; // InsufficientBalance: an account problem, not this message's
  if (statusCode === 500 || statusCode === 501 || statusCode === 502) return 'transient';
  // 401 RiskHold, 402 InvalidSenderId, 403 InvalidPhoneNumber, 404 UnsupportedNumberType,
  // 406 UserInBlacklist, 407 CouldNotRoute, 409 DoNotDisturbRejection.
  if (statusCode >= 401 && statusCode <= 409) return 'permanent';
  return 'transient';
}

/** HTTP status of the messaging call (not 2xx) → outcome. */
export function classifyHttpStatus(status: number): Exclude<SendResult['outcome'], 'sent'> {
  if (status === 401) return 'pause'; // "The supplied authentication is invalid": every message would fail
  if (status === 429 || status === 408 || status >= 500) return 'transient';
  return 'permanent'; // 400 bad syntax, 403, 404 …: the same request will not succeed later
}
