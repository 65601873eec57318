// The human-readable side of an evidence pack: which file supports which control of the framework asked
// for, and, as plainly, which controls the pack does not cover. The mapping is our reading of each
// framework; an auditor decides what it is worth. buildReport makes it one structured report, which
// report-html.ts and report-pdf.ts render.
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
        evidence: ['policies/settings.json', 'checks/self-checks.json', 'lifecycle/retention.json'],
        note: 'Which personal-data classes are redacted, masked or kept, per channel, before text reaches a model; retention windows and each sweep that applied them, with counts; the redaction engine checked live. Parley trains no model: training-data governance is the model provider’s.',
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
        evidence: ['handoffs/stats.json', 'keys/history.json', 'policies/settings.json', 'lifecycle/retention.json'],
        note: 'Handoff to people, retention windows and the sweeps that applied them, key rotation.',
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

export interface ReportFacts {
  tenantId: string;
  tenantName: string;
  framework: EvidenceFramework;
  period: { from: string; to: string };
  generatedAt: string;
  verifierKey: string;
  checkpointSize: number;
  entries: number;
  coverage: string[];
  checks: { name: string; passed: boolean }[];
}

/** A piece of text in one style. */
export interface Run {
  text: string;
  style?: 'code' | 'strong';
}

/** A table cell: lines of text in one style. */
export interface Cell {
  lines: string[];
  code?: boolean;
}

export type Block =
  | { type: 'heading'; text: string }
  | { type: 'paragraph'; runs: Run[] }
  | { type: 'list'; items: Run[][] }
  | { type: 'table'; head: string[]; rows: Cell[][] };

/** The report's content, once: report.html and report.pdf are two renderings of it. */
export interface Report {
  framework: string;
  title: string;
  /** When the pack was generated (ISO 8601): report.pdf's creation date, so the same pack gives the same bytes. */
  generatedAt: string;
  blocks: Block[];
}

const code = (text: string): Run => ({ text, style: 'code' });

export function buildReport(f: ReportFacts): Report {
  const m = FRAMEWORKS[f.framework];
  return {
    framework: m.name,
    title: `Evidence pack: ${m.name}`,
    generatedAt: f.generatedAt,
    blocks: [
      {
        type: 'paragraph',
        runs: [
          { text: `Tenant ${f.tenantName} (` },
          code(f.tenantId),
          { text: `), period ${f.period.from} to ${f.period.to}, generated ${f.generatedAt}.` },
        ],
      },
      {
        type: 'paragraph',
        runs: [
          { text: "Signed with the deployment's audit key " },
          code(f.verifierKey),
          {
            text: `. The ${f.entries} audit entries of the period are proved against the tenant's signed checkpoint at size ${f.checkpointSize}. Verify offline with `,
          },
          code("parley evidence verify pack.zip --key '<verifier key>'"),
          { text: "; the pack's manifest hash is in the audit log as an " },
          code('evidence.pack'),
          { text: ' entry, which bounds when it was made.' },
        ],
      },
      { type: 'heading', text: 'Controls this pack supports' },
      {
        type: 'table',
        head: ['Control', 'Title', 'Evidence', 'What it shows'],
        rows: m.covered.map((c) => [{ lines: [c.id] }, { lines: [c.title] }, { lines: c.evidence, code: true }, { lines: [c.note] }]),
      },
      { type: 'heading', text: 'Controls this pack does not cover' },
      { type: 'list', items: m.notCovered.map((g) => [{ text: g.id, style: 'strong' }, { text: `: ${g.why}` }]) },
      { type: 'heading', text: 'Self-checks run when the pack was built' },
      {
        type: 'list',
        items: f.checks.map((c) => [c.passed ? { text: 'Passed' } : { text: 'FAILED', style: 'strong' }, { text: `: ${c.name}` }]),
      },
      { type: 'heading', text: "What the period's records cover" },
      { type: 'list', items: f.coverage.map((c) => [{ text: c }]) },
      {
        type: 'paragraph',
        runs: [{ text: "This mapping is Parley's reading of the framework, offered to help an auditor; it is not a certification." }],
      },
    ],
  };
}
