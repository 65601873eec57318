// The report's two renderings from one structured report: report.html and report.pdf say the same
// controls and gaps for every framework; report.pdf is the same bytes for the same report, and text its
// standard fonts cannot show (a tenant named in another script) is replaced, and said to be, never a crash.
import { EVIDENCE_FRAMEWORKS } from '@parley/protocol';
import { describe, expect, test } from 'vitest';
import { pdfText } from '../test/pdf-text.js';
import { buildReport, FRAMEWORKS, type ReportFacts } from './report.js';
import { renderReportHtml } from './report-html.js';
import { pdfSafe, renderReportPdf } from './report-pdf.js';

const facts = (over: Partial<ReportFacts> = {}): ReportFacts => ({
  tenantId: '0b9f3c1e-5a3c-4a6e-9a0e-3e2f6a1b2c3d',
  tenantName: 'Acme Support',
  framework: 'soc2',
  period: { from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z' },
  generatedAt: '2026-12-01T15:00:00.000Z',
  verifierKey: 'parley.example/audit+1a2b3c4d+AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefgh',
  checkpointSize: 42,
  entries: 37,
  coverage: ['Audit: the 37 entries timestamped in the period.'],
  checks: [
    { name: 'Row-level security is enabled and forced on every table with a tenant_id column', passed: false },
    { name: 'A session with no tenant set sees no tenant rows', passed: true },
  ],
  ...over,
});

// Wrapped lines end in the space they broke at, so joined they read as written.
const flowing = (pdf: Uint8Array) => pdfText(pdf).replaceAll('\n', '');

describe('the evidence report', () => {
  test.each(EVIDENCE_FRAMEWORKS)(
    '%s: report.html and report.pdf both name every control covered and every one not covered, with why',
    async (framework) => {
      const report = buildReport(facts({ framework }));
      const html = renderReportHtml(report);
      const pdf = await renderReportPdf(report);
      expect(Buffer.from(pdf.subarray(0, 5)).toString('latin1')).toBe('%PDF-');
      const lines = pdfText(pdf).split('\n');
      const text = flowing(pdf);
      const m = FRAMEWORKS[framework];
      for (const c of m.covered) {
        // Cell by cell, row by row: the control, its title, its evidence files, what they show.
        expect(text).toContain(`${c.id}${c.title}`);
        expect(text).toContain(`${c.evidence.at(-1)}${c.note}`);
        for (const e of c.evidence) expect(lines).toContain(e);
        expect(html).toContain(`<td>${c.id}</td>`);
      }
      expect(text).toContain('Controls this pack does not cover');
      expect(html).toContain('<h2>Controls this pack does not cover</h2>');
      for (const g of m.notCovered) {
        expect(text).toContain(`${g.id}: ${g.why}`);
        expect(html).toContain(`<li><strong>${g.id}</strong>: ${g.why.replaceAll("'", '&#39;')}</li>`);
      }
      expect(text).toContain('FAILED: Row-level security');
      expect(html).toContain('<strong>FAILED</strong>: Row-level security');
    },
  );

  test('report.pdf is the same bytes for the same report, dated when the pack was generated', async () => {
    const report = buildReport(facts());
    const first = await renderReportPdf(report);
    expect(Buffer.compare(first, await renderReportPdf(buildReport(facts())))).toBe(0);
    expect(Buffer.from(first).toString('latin1')).toContain('(D:20261201150000Z)');
    const later = await renderReportPdf(buildReport(facts({ generatedAt: '2026-12-02T09:30:00.000Z' })));
    expect(Buffer.compare(first, later)).not.toBe(0);
    expect(Buffer.from(later).toString('latin1')).toContain('(D:20261202093000Z)');
  });

  test('a tenant named in another script: report.pdf replaces what its fonts cannot show and says how many; report.html keeps it', async () => {
    const report = buildReport(facts({ tenantName: 'Évidence 証拠 Ωmega Łódź' }));
    expect(renderReportHtml(report)).toContain('Tenant Évidence 証拠 Ωmega Łódź (');
    const text = flowing(await renderReportPdf(report));
    // Latin-1 letters stay, accents outside it fall back to the letter, the rest are "?".
    expect(text).toContain('Tenant Évidence ?? ?mega ?ódz (');
    expect(text).toContain('4 characters that the PDF\'s standard fonts cannot show are printed as "?" here');
    // The mapping's own punctuation is in the fonts' encoding: nothing of it is replaced.
    expect(flowing(await renderReportPdf(buildReport(facts())))).not.toContain('cannot show');

    expect(pdfSafe('CC1–CC5 ’ × € ß')).toEqual({ text: 'CC1–CC5 ’ × € ß', replaced: 0 });
    expect(pdfSafe('Zoë Ōsaka ź')).toEqual({ text: 'Zoë Osaka z', replaced: 0 });
    expect(pdfSafe('\u{1F600} 日本')).toEqual({ text: '? ??', replaced: 3 });
  });
});
