/**
 * The Luhn check digit (ISO/IEC 7812), used by application references and booking codes: it catches
 * any single mistyped digit and most swaps of two neighbours before any database look-up.
 */
export function luhnDigit(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = body.charCodeAt(body.length - 1 - i) - 48;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

/** True when the last digit is the Luhn check digit of the others. */
export const luhnValid = (digits: string): boolean => digits.length > 1 && luhnDigit(digits.slice(0, -1)) === digits.slice(-1);
