// report.pdf: the report for auditors who file PDFs, drawn by PDFKit (pure JS, offline) with the PDF
// standard fonts only, so nothing is embedded and nothing is fetched. Those fonts show Windows-1252 text:
// any other character (a tenant named in another script) is printed as its unaccented letter where there
// is one, else as "?", and the report says how many were replaced. Deterministic: the creation date is
// the pack's generation time and PDFKit derives the file ID from it, so the same pack data gives the
// same bytes.
import type { Block, Cell, Report, Run } from './report.js';

// What the standard fonts' encoding (WinAnsiEncoding, i.e. Windows-1252) can show: printable ASCII and
// Latin-1, and the 27 characters Windows-1252 puts at 0x80–0x9F.
const SHOWN = new Set([
  ...Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)),
  ...Array.from({ length: 0x100 - 0xa0 }, (_, i) => String.fromCharCode(0xa0 + i)),
  ...'€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ',
]);

/** `s` with every character the standard fonts cannot show replaced; `replaced` counts them. */
export function pdfSafe(s: string): { text: string; replaced: number } {
  let replaced = 0;
  let text = '';
  for (const c of s.normalize('NFC')) {
    if (SHOWN.has(c)) text += c;
    else {
      const base = c.normalize('NFKD').replace(/\p{M}/gu, '');
      const ok = base !== '' && [...base].every((b) => SHOWN.has(b));
      text += ok ? base : '?';
      if (!ok) replaced++;
    }
  }
  return { text, replaced };
}

/** The report with its text made showable, and how many characters had to be replaced. */
function showable(r: Report): { report: Report; replaced: number } {
  let replaced = 0;
  const t = (s: string) => {
    const out = pdfSafe(s);
    replaced += out.replaced;
    return out.text;
  };
  const runs = (rs: Run[]) => rs.map((x) => ({ ...x, text: t(x.text) }));
  const blocks = r.blocks.map((b): Block => {
    switch (b.type) {
      case 'heading':
        return { ...b, text: t(b.text) };
      case 'paragraph':
        return { ...b, runs: runs(b.runs) };
      case 'list':
        return { ...b, items: b.items.map(runs) };
      case 'table':
        return { ...b, head: b.head.map(t), rows: b.rows.map((cells) => cells.map((c) => ({ ...c, lines: c.lines.map(t) }))) };
    }
  });
  return { report: { ...r, framework: t(r.framework), title: t(r.title), blocks }, replaced };
}

const FONT = { plain: 'Helvetica', strong: 'Helvetica-Bold', code: 'Courier' } as const;
const SIZE = { title: 17, heading: 12.5, text: 10, code: 9, cell: 8.5, cellCode: 7.5, footer: 8 } as const;
/** Relative widths of the mapping table's columns: control, title, evidence, what it shows. */
const COLUMNS = [0.12, 0.19, 0.27, 0.42];
const PAD = 4;

type Doc = PDFKit.PDFDocument;

const fontOf = (r: Run) => (r.style === 'code' ? FONT.code : r.style === 'strong' ? FONT.strong : FONT.plain);
const sizeOf = (r: Run) => (r.style === 'code' ? SIZE.code : SIZE.text);
const bottom = (doc: Doc) => doc.page.height - doc.page.margins.bottom;

/** Runs as one flowing paragraph at x with the given width, switching fonts between runs. */
function flow(doc: Doc, rs: Run[], x: number, width: number) {
  rs.forEach((r, i) => {
    doc.font(fontOf(r)).fontSize(sizeOf(r));
    const options = { width, continued: i < rs.length - 1, lineGap: 2 };
    if (i === 0) doc.text(r.text, x, doc.y, options);
    else doc.text(r.text, options);
  });
}

/** A paragraph's height, measured in its plainest font: enough to decide whether it starts a new page. */
function heightOf(doc: Doc, rs: Run[], width: number) {
  return doc
    .font(FONT.plain)
    .fontSize(SIZE.text)
    .heightOfString(rs.map((r) => r.text).join(''), { width, lineGap: 2 });
}

function ensureRoom(doc: Doc, height: number) {
  if (doc.y + height > bottom(doc)) doc.addPage();
}

function cellFont(doc: Doc, c: Cell, head: boolean) {
  return doc.font(head ? FONT.strong : c.code ? FONT.code : FONT.plain).fontSize(c.code ? SIZE.cellCode : SIZE.cell);
}

function table(doc: Doc, head: string[], rows: Cell[][]) {
  const left = doc.page.margins.left;
  const widths = COLUMNS.map((c) => c * (doc.page.width - left - doc.page.margins.right));
  const row = (cells: Cell[], isHead: boolean) => {
    const heights = cells.map((c, i) => cellFont(doc, c, isHead).heightOfString(c.lines.join('\n'), { width: widths[i]! - 2 * PAD }));
    const height = Math.max(...heights) + 2 * PAD;
    if (doc.y + height > bottom(doc)) {
      doc.addPage();
      if (!isHead) row(headCells, true);
    }
    const top = doc.y;
    let x = left;
    cells.forEach((c, i) => {
      const w = widths[i]!;
      if (isHead) doc.rect(x, top, w, height).fill('#eeeeee');
      doc.rect(x, top, w, height).lineWidth(0.5).stroke('#999999');
      cellFont(doc, c, isHead)
        .fillColor('black')
        .text(c.lines.join('\n'), x + PAD, top + PAD, { width: w - 2 * PAD });
      x += w;
    });
    doc.x = left;
    doc.y = top + height;
  };
  const headCells = head.map((h) => ({ lines: [h] }));
  row(headCells, true);
  for (const cells of rows) row(cells, false);
}

function block(doc: Doc, b: Block) {
  const left = doc.page.margins.left;
  const width = doc.page.width - left - doc.page.margins.right;
  switch (b.type) {
    case 'heading':
      // Kept with at least a few lines of what follows it.
      ensureRoom(doc, 70);
      doc.moveDown(0.8).font(FONT.strong).fontSize(SIZE.heading).text(b.text, left, doc.y, { width }).moveDown(0.4);
      return;
    case 'paragraph':
      ensureRoom(doc, Math.min(heightOf(doc, b.runs, width), 60));
      flow(doc, b.runs, left, width);
      doc.moveDown(0.6);
      return;
    case 'list':
      for (const item of b.items) {
        ensureRoom(doc, heightOf(doc, item, width - 14));
        const top = doc.y;
        doc
          .font(FONT.plain)
          .fontSize(SIZE.text)
          .text('\u2022', left + 2, top, { lineBreak: false });
        doc.y = top;
        flow(doc, item, left + 14, width - 14);
        doc.moveDown(0.3);
      }
      doc.x = left;
      doc.moveDown(0.3);
      return;
    case 'table':
      table(doc, b.head, b.rows);
      doc.moveDown(0.6);
      return;
  }
}

/** report.pdf from the same report as report.html. PDFKit (and its fonts) loads on the first one, not at every start. */
export async function renderReportPdf(source: Report): Promise<Buffer> {
  const { default: PDFDocument } = await import('pdfkit');
  const { report, replaced } = showable(source);
  const doc = new PDFDocument({
    size: 'A4',
    margins: { top: 56, bottom: 56, left: 50, right: 50 },
    bufferPages: true,
    lang: 'en',
    displayTitle: true,
    info: { Title: report.title, Creator: 'Parley', CreationDate: new Date(report.generatedAt) },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  const left = doc.page.margins.left;
  const width = doc.page.width - left - doc.page.margins.right;
  doc.font(FONT.strong).fontSize(SIZE.title).text(report.title, left, doc.y, { width }).moveDown(0.6);
  const [first, ...rest] = report.blocks;
  if (first) block(doc, first);
  if (replaced > 0) {
    const note = `${replaced} character${replaced === 1 ? '' : 's'} that the PDF's standard fonts cannot show ${replaced === 1 ? 'is' : 'are'} printed as "?" here; report.html shows every character as recorded.`;
    block(doc, { type: 'paragraph', runs: [{ text: note, style: 'strong' }] });
  }
  for (const b of rest) block(doc, b);

  // Every page names the pack and its place in it; written in the bottom margin, so no page is added.
  const pages = doc.bufferedPageRange();
  for (let i = 0; i < pages.count; i++) {
    doc.switchToPage(pages.start + i);
    const margin = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    doc
      .font(FONT.plain)
      .fontSize(SIZE.footer)
      .fillColor('#555555')
      .text(`Parley evidence pack: ${report.framework}. Page ${i + 1} of ${pages.count}`, left, doc.page.height - 36, {
        width,
        align: 'center',
        lineBreak: false,
      });
    doc.page.margins.bottom = margin;
  }
  doc.end();
  return done;
}
