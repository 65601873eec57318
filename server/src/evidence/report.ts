// The human-readable side of an evidence pack: which file supports which control of the framework asked
// for, and, as plainly, which controls the pack does not cover. The mapping is our reading of each
// framework; an auditor decides what it is worth.
import type { EvidenceFramework } from '@parley/protocol';

export interface ControlMapping {
  id: string;
  title: string;
  /** Paths inside the pack. */
  evidence: string[];
  /** What the evidence shows, and where it stops. */
  note: string;
}

export interface FrameworkMapping {
  name: string;
  covered: ControlMapping[];
  /** Controls the pack says nothing about (or only supplies inputs to), each with why. */
  notCovered: { id: string; why: string }[];
}

const AUDIT = ['audit/checkpoint.txt', 'audit/entries.jsonl', 'audit/proofs.json'];

export const FRAMEWORKS: Record<EvidenceFramework, FrameworkMapping> = {
  soc2: {
    name: 'SOC 2 (2017 Trust Services Criteria)',
    covered: [
      {
        id: 'CC6.1',
        title: 'Logical access security, encryption of data at rest',
        evidence: ['policies/access.json', 'keys/history.json', 'checks/self-checks.json'],
        note: 'Roles and their capabilities, MFA and SSO enforcement, member counts with a second factor; data-key versions and rotations; row-level security forced on every tenant table, checked live.',
      },
      {
        id: 'CC6.6',
        title: 'Protection against threats from outside the system boundary',
        evidence: ['policies/access.json', 'policies/settings.json'],
        note: 'Allowed widget domains (origin checks), SSO connections, sign-in policy. Network controls (TLS termination, firewalls) live outside Parley and are not shown.',
      },
      {
        id: 'CC6.7',
        title: 'Restricting transmission of information',
        evidence: ['policies/settings.json', 'policies/providers.json', 'checks/self-checks.json'],
        note: 'The PII policy applied before any text reaches a model provider, the providers and models text may go to, and a canary run through the live redaction engine.',
      },
      {
        id: 'CC7.2',
        title: 'Monitoring of system components for anomalies',
        evidence: [...AUDIT, 'ai/calls.json', 'handoffs/stats.json'],
        note: 'Every audit entry of the period with its inclusion proof against a signed checkpoint; AI call records; handoff statistics. Shows what is recorded, not that someone reviewed it.',
      },
      {
        id: 'CC8.1',
        title: 'Change management',
        evidence: ['policies/changes.json', ...AUDIT],
        note: 'Every policy change of the period (settings, sign-in, SSO, providers, roles, domains, keys) as proved audit entries. Earlier policy contents are not stored, only which sections changed and the new policy version.',
      },
    ],
    notCovered: [
      {
        id: 'CC1–CC5',
        why: 'Control environment, communication, risk assessment and monitoring activities are organisational; no system record shows them.',
      },
      {
        id: 'CC6.2–CC6.5, CC6.8',
        why: 'Provisioning reviews, physical access, disposal and malware controls: invitations and removals are in the audit log, but reviews of them are not.',
      },
      { id: 'CC7.1, CC7.3–CC7.5', why: 'Vulnerability management and incident response happen outside Parley.' },
      {
        id: 'CC9, A1, C1, PI1, P1–P8',
        why: 'Vendor risk, availability, confidentiality, processing integrity and privacy criteria are out of scope of this pack.',
      },
    ],
  },
  'eu-ai-act': {
    name: 'EU AI Act (Regulation (EU) 2024/1689)',
    covered: [
      {
        id: 'Art. 10',
        title: 'Data and data governance',
        evidence: ['policies/settings.json', 'checks/self-checks.json'],
        note: 'Which personal-data classes are redacted, masked or kept, per channel, before text reaches a model; retention windows; the redaction engine checked live. Parley trains no model: training-data governance is the model provider’s.',
      },
      {
        id: 'Art. 12',
        title: 'Record-keeping',
        evidence: [...AUDIT, 'ai/calls.json'],
        note: 'Automatic, tamper-evident logs: each AI call (model, tokens, input and output hashes, never text) as an audit entry proved against a signed checkpoint.',
      },
      {
        id: 'Art. 14',
        title: 'Human oversight',
        evidence: ['handoffs/stats.json', 'policies/settings.json'],
        note: 'The confidence threshold below which a person takes over, and how often conversations were handed to one, by reason and status.',
      },
    ],
    notCovered: [
      { id: 'Art. 9', why: 'No risk-management system record is kept by Parley.' },
      { id: 'Art. 11, Annex IV', why: 'Technical documentation is the provider’s document, not a runtime record.' },
      { id: 'Art. 13, Art. 50', why: 'Transparency to deployers and to people talking to the assistant is shown by the product, not by this pack.' },
      { id: 'Art. 15', why: 'Accuracy, robustness and cybersecurity testing results are not included.' },
      { id: 'Art. 17', why: 'Quality-management system: organisational.' },
    ],
  },
  'nist-ai-rmf': {
    name: 'NIST AI Risk Management Framework 1.0',
    covered: [
      {
        id: 'Govern',
        title: 'Policies, roles and accountability',
        evidence: ['policies/access.json', 'policies/changes.json'],
        note: 'Who may do what (roles × capabilities), sign-in enforcement, and every policy change with its actor type.',
      },
      {
        id: 'Map',
        title: 'Context: which models, which data',
        evidence: ['policies/providers.json', 'policies/settings.json'],
        note: 'The AI providers and models in use and the personal-data classes the policy handles.',
      },
      {
        id: 'Measure',
        title: 'Tracking of AI behaviour',
        evidence: ['ai/calls.json', 'handoffs/stats.json', 'checks/self-checks.json'],
        note: 'Calls, tokens and confidence as recorded; handoff rates; live checks of isolation and redaction.',
      },
      {
        id: 'Manage',
        title: 'Responses to risk',
        evidence: ['handoffs/stats.json', 'keys/history.json', 'policies/settings.json'],
        note: 'Handoff to people, retention windows, key rotation.',
      },
    ],
    notCovered: [
      { id: 'Measure (evaluation)', why: 'No bias, fairness, red-team or answer-quality evaluation results are included.' },
      { id: 'Govern (workforce, stakeholders)', why: 'Training, diversity of teams and stakeholder engagement are organisational.' },
      { id: 'Map (third-party models)', why: 'Model providers’ own documentation and risk statements are not included.' },
    ],
  },
  'iso-42001': {
    name: 'ISO/IEC 42001:2023',
    covered: [
      {
        id: 'A.3.2',
        title: 'AI roles and responsibilities',
        evidence: ['policies/access.json'],
        note: 'Roles, their capabilities and member counts.',
      },
      {
        id: 'A.6.2.6',
        title: 'AI system operation and monitoring',
        evidence: ['ai/calls.json', 'handoffs/stats.json', 'checks/self-checks.json'],
        note: 'What the running system recorded, and live self-checks.',
      },
      {
        id: 'A.6.2.8',
        title: 'AI system recording of event logs',
        evidence: [...AUDIT],
        note: 'The tamper-evident audit log, with inclusion proofs against a signed checkpoint.',
      },
      {
        id: 'A.10.3',
        title: 'Suppliers',
        evidence: ['policies/providers.json'],
        note: 'The AI providers and models the tenant sends (redacted) text to.',
      },
      {
        id: '8.4 (inputs only)',
        title: 'AI system impact assessment',
        evidence: ['policies/settings.json', 'policies/providers.json', 'handoffs/stats.json'],
        note: 'Parley performs no impact assessment: these files are inputs to one (data classes handled, providers, oversight figures).',
      },
    ],
    notCovered: [
      { id: '8.4', why: 'The impact assessment itself is the organisation’s; only its inputs are here.' },
      { id: 'Clauses 4–7, 9–10', why: 'Context, leadership, planning, support, performance evaluation and improvement are organisational.' },
      { id: 'A.2, A.5', why: 'AI policy documents and the impact-assessment process are not system records.' },
      { id: 'A.7', why: 'Data for development: Parley trains no model.' },
      { id: 'A.8, A.9', why: 'Information for interested parties and responsible-use processes are not shown by this pack.' },
    ],
  },
};

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export interface ReportFacts {
  tenantId: string;
  framework: EvidenceFramework;
  period: { from: string; to: string };
  generatedAt: string;
  verifierKey: string;
  checkpointSize: number;
  entries: number;
  coverage: string[];
  checks: { name: string; passed: boolean }[];
}

/** report.html: self-contained (no scripts, no external resources), so it opens offline as it was signed. */
export function renderReport(f: ReportFacts): string {
  const m = FRAMEWORKS[f.framework];
  const rows = m.covered
    .map(
      (c) =>
        `<tr><td>${esc(c.id)}</td><td>${esc(c.title)}</td><td>${c.evidence.map((e) => `<code>${esc(e)}</code>`).join('<br>')}</td><td>${esc(c.note)}</td></tr>`,
    )
    .join('\n');
  const gaps = m.notCovered.map((g) => `<li><strong>${esc(g.id)}</strong>: ${esc(g.why)}</li>`).join('\n');
  const checks = f.checks.map((c) => `<li>${c.passed ? 'Passed' : '<strong>FAILED</strong>'}: ${esc(c.name)}</li>`).join('\n');
  const coverage = f.coverage.map((c) => `<li>${esc(c)}</li>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Parley evidence pack: ${esc(m.name)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse;width:100%}td,th{border:1px solid #999;padding:.4rem;vertical-align:top;text-align:left}code{font-size:13px}</style>
</head><body>
<h1>Evidence pack: ${esc(m.name)}</h1>
<p>Tenant <code>${esc(f.tenantId)}</code>, period ${esc(f.period.from)} to ${esc(f.period.to)}, generated ${esc(f.generatedAt)}.</p>
<p>Signed with the deployment's audit key <code>${esc(f.verifierKey)}</code>. The ${f.entries} audit entries of the period are proved against the tenant's signed checkpoint at size ${f.checkpointSize}. Verify offline with <code>parley evidence verify pack.zip --key '&lt;verifier key&gt;'</code>; the pack's manifest hash is in the audit log as an <code>evidence.pack</code> entry, which bounds when it was made.</p>
<h2>Controls this pack supports</h2>
<table><thead><tr><th>Control</th><th>Title</th><th>Evidence</th><th>What it shows</th></tr></thead><tbody>
${rows}
</tbody></table>
<h2>Controls this pack does not cover</h2>
<ul>
${gaps}
</ul>
<h2>Self-checks run when the pack was built</h2>
<ul>
${checks}
</ul>
<h2>What the period's records cover</h2>
<ul>
${coverage}
</ul>
<p>This mapping is Parley's reading of the framework, offered to help an auditor; it is not a certification.</p>
</body></html>
`;
}
