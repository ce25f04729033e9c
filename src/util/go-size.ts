/**
 * Sizes as Docker's go-units reads and writes them: RAMInBytes (daemon flags and daemon.json
 * limits, binary units) and HumanSize (progress strings, decimal units).
 */
import { InvalidArgumentError } from '../errors.js';

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** A size as go-units' RAMInBytes reads it: `1073741824`, `64GiB`, `64g`, `512 MB` (binary units). */
export function parseByteSize(value: string, context = 'invalid size'): number {
  const m = /^([0-9]+(?:\.[0-9]+)?) ?([kmgtp]?)(?:i?b)?$/i.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`${context}: invalid size: ${JSON.stringify(value)}`);
  const bytes = Math.floor(Number(m[1]) * (SIZE_UNITS[(m[2] ?? '').toLowerCase()] ?? 1));
  if (!Number.isSafeInteger(bytes)) throw new InvalidArgumentError(`${context}: size too large: ${JSON.stringify(value)}`);
  return bytes;
}

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/** go-units' HumanSize: decimal units, 4 significant digits, Go's %g: `3.4MB`, `1.23kB`, `512B`. */
export function humanSize(bytes: number): string {
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < UNITS.length - 1) {
    size /= 1000;
    i++;
  }
  return formatG(size, 4) + UNITS[i];
}

/** Go's fmt `%.{precision}g` for the non-negative values HumanSize gives it. */
export function formatG(value: number, precision: number): string {
  if (value === 0) return '0';
  let digits = roundHalfEven(value, precision);
  let exponent = Math.floor(Math.log10(Math.abs(digits.value)));
  if (!Number.isFinite(exponent)) exponent = 0;
  // %g switches to %e when the exponent is < -4 or >= precision.
  if (exponent < -4 || exponent >= precision) {
    digits = roundHalfEven(value, precision);
    const mantissa = trimZeros((digits.value / 10 ** exponent).toFixed(precision - 1));
    const sign = exponent < 0 ? '-' : '+';
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return trimZeros(digits.value.toFixed(Math.max(0, precision - 1 - exponent)));
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

/**
 * Rounds to `precision` significant digits the way Go's strconv does: on the exact binary value,
 * ties to even (toPrecision rounds ties away from zero).
 */
function roundHalfEven(value: number, precision: number): { value: number } {
  const text = value.toPrecision(precision);
  const exponent = Math.floor(Math.log10(value));
  const scale = precision - 1 - exponent;
  // Exact ties only happen for values with a short binary expansion; check with a wider print.
  const wide = value.toPrecision(precision + 20);
  const digits = wide.replace('.', '').replace(/e.*$/, '');
  const lastKept = Number(digits[precision - 1] ?? '0');
  const rest = digits.slice(precision);
  if (/^50*$/.test(rest) && lastKept % 2 === 0) {
    const down = Math.trunc(value * 10 ** scale) / 10 ** scale;
    return { value: down };
  }
  return { value: Number(text) };
}
