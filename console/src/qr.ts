// The TOTP enrolment link as a QR code, drawn in the page (the secret goes nowhere else): uqr encodes,
// we draw the dark modules as one SVG path.
import { encode } from 'uqr';

/** The modules of the QR code for `text` (error correction M, no border), or null when it does not fit. */
export function qrMatrix(text: string): boolean[][] | null {
  try {
    return encode(text, { ecc: 'M', border: 0 }).data;
  } catch {
    return null;
  }
}

/** An SVG path of the dark modules, offset by a 4-module quiet zone. */
export function qrPath(m: boolean[][]): string {
  let d = '';
  m.forEach((row, y) => row.forEach((dark, x) => dark && (d += `M${x + 4} ${y + 4}h1v1h-1z`)));
  return d;
}
