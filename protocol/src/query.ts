// Numbers in a query string or a path, where they arrive as text: plain decimal digits (a minus sign only
// where a negative is allowed), read within bounds. Anything else is refused, naming the parameter: a
// blank is not 0, nor `0x10` 16, nor `1e3` 1000, nor a repeated parameter (an array) its first value.
import { z } from 'zod';

const DIGITS = /^[0-9]+$/;
const SIGNED_DIGITS = /^-?[0-9]+$/;

/**
 * A whole number from `min` to `max` (by default, any that JavaScript reads exactly), written in decimal
 * digits. A number is taken as it is (typed callers, the SDKs, pass numbers; they reach the server as text).
 * A default is given with `.prefault(n)`: the OpenAPI shows it (a `.default` after the transform it drops).
 */
export const queryInt = (min: number, max: number = Number.MAX_SAFE_INTEGER) => {
  const digits = min < 0 ? SIGNED_DIGITS : DIGITS;
  return (
    z
      .custom<string | number>((v) => typeof v === 'number' || (typeof v === 'string' && digits.test(v)), {
        message: 'must be a whole number in decimal digits',
      })
      .transform(Number)
      .pipe(z.number().int().min(min).max(max))
      // Described as the integer it is read as.
      .meta({ type: 'integer', minimum: min, maximum: max })
  );
};
