// The text a PDF shows, read back the plain way: every content stream (inflated when FlateDecode), and
// in it the strings of each text-showing operator (Tj, TJ), decoded as WinAnsiEncoding, which is what the
// standard fonts PDFKit writes with use. One line per operator; enough to check what a report says.
import { inflateSync } from 'node:zlib';

// Windows-1252's 0x80–0x9F (five unassigned, as U+FFFD); every other byte is its Latin-1 character.
const HIGH = '€\ufffd‚ƒ„…†‡ˆ‰Š‹Œ\ufffdŽ\ufffd\ufffd‘’“”•–—˜™š›œ\ufffdžŸ';
const winAnsi = { decode: (b: Buffer) => [...b].map((c) => (c >= 0x80 && c <= 0x9f ? HIGH[c - 0x80] : String.fromCharCode(c))).join('') };

function strings(op: string): string {
  // PDFKit writes hex strings (<48656c6c6f>); literal strings are read too, without escapes beyond \( \) \\.
  let out = '';
  for (const m of op.matchAll(/<([0-9a-fA-F\s]*)>|\(((?:\\.|[^\\)])*)\)/g)) {
    if (m[1] !== undefined) out += winAnsi.decode(Buffer.from(m[1].replace(/\s/g, ''), 'hex'));
    else out += m[2]!.replace(/\\([()\\])/g, '$1');
  }
  return out;
}

export function pdfText(pdf: Uint8Array): string {
  const raw = Buffer.from(pdf).toString('latin1');
  const lines: string[] = [];
  for (const m of raw.matchAll(/<<((?:(?!>>\s*stream)[\s\S])*)>>\s*stream\r?\n/g)) {
    const start = m.index + m[0].length;
    const end = raw.indexOf('endstream', start);
    const body = Buffer.from(raw.slice(start, end), 'latin1');
    const content = (/\/FlateDecode/.test(m[1]!) ? inflateSync(body) : body).toString('latin1');
    for (const op of content.matchAll(/(\[(?:[^\]\\]|\\.)*\]\s*TJ|(?:<[0-9a-fA-F\s]*>|\((?:\\.|[^\\)])*\))\s*Tj)/g)) lines.push(strings(op[1]!));
  }
  return lines.join('\n');
}
