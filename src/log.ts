import winston from 'winston';

/**
 * Redaction for every log line. An ID number reveals a person's whole identity and a phone number
 * is nearly as bad, so neither may reach a log in full, whatever field or message it hides in.
 *
 * - Kenyan phone numbers (+2547…, 2547…, 07…, 01…) become `+2547****5678` (first 5, last 4 digits kept);
 *   any other number in international form (`+` and 9 to 15 digits) is masked the same way.
 * - Any other run of 7 to 10 digits (the length of an ID number) becomes `[id]`, also after a `*`
 *   (AT's USSD text joins answers with `*`).
 * Digits glued to letters are part of an identifier (the hex of a session id such as
 * `ATUid_3f2a1234567b…`), not a phone or an ID number, and are left alone.
 * Longer runs (13-digit application references, message ids) are left alone: they identify no person.
 */
const PHONE = /(?<![\dA-Za-z])(?:\+?254|0)([17]\d{8})(?![\dA-Za-z])/g;
const INTL_PHONE = /(?<![\dA-Za-z])\+\d{9,15}(?!\d)/g;
const ID_LIKE = /(?<![\dA-Za-z])\d{7,10}(?![\dA-Za-z])/g;

/** `+254712345678` → `+2547****5678`: enough to recognise one's own number, not to call it. */
export function maskPhone(msisdn: string): string {
  const digits = msisdn.replace(/\D/g, '');
  return digits.length < 9 ? '****' : `+${digits.slice(0, 4)}****${digits.slice(-4)}`;
}

export function redact(text: string): string {
  return text
    .replace(PHONE, (_m, rest: string) => `+254${rest.slice(0, 1)}****${rest.slice(-4)}`)
    .replace(INTL_PHONE, (m) => maskPhone(m))
    .replace(ID_LIKE, '[id]');
}

function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redact(value);
  if (typeof value === 'number' && Number.isInteger(value)) return redact(String(value)) === String(value) ? value : '[id]';
  if (value === null || typeof value !== 'object') return value;
  // Deeper than any log call of ours nests: dropped, not written unredacted (a phone once leaked there).
  if (depth > 5) return '[too deep]';
  if (value instanceof Error) return { name: value.name, message: redact(value.message) };
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = redactValue(v, depth + 1);
  return out;
}

const redactFormat = winston.format((info) => {
  for (const key of Object.keys(info)) {
    (info as Record<string, unknown>)[key] = redactValue((info as Record<string, unknown>)[key]);
  }
  return info;
});

export type Logger = winston.Logger;

/** JSON logs on stdout, redacted. `sink` lets a test capture exactly what would be written. */
export function createLogger(level: string, sink?: NodeJS.WritableStream): Logger {
  return winston.createLogger({
    level,
    format: winston.format.combine(winston.format.errors({ stack: false }), redactFormat(), winston.format.timestamp(), winston.format.json()),
    transports: [sink ? new winston.transports.Stream({ stream: sink }) : new winston.transports.Console()],
  });
}
