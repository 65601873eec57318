// Outgoing email (invitations): SMTP through nodemailer when PARLEY_SMTP_URL is set; otherwise
// (development) the message is written to the server log, and the caller keeps the link for the console.
import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from 'pino';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

/** Why a message did not leave: the server refused the recipient, could not be reached, or anything else. */
export type MailFailureReason = 'refused' | 'unreachable' | 'failed';

/**
 * A message that did not leave. Its message is ours and names no address: nodemailer's quotes the mail
 * server's answer ("550 5.1.1 <someone@customer.example>…") and lists the rejected recipients, so it is
 * never kept, logged or shown. Log `mailFailure(err)` instead.
 */
export class MailError extends Error {
  constructor(
    readonly reason: MailFailureReason,
    /** nodemailer's code (EENVELOPE, ECONNECTION, ETIMEDOUT, EAUTH…), when it gave one. */
    readonly smtpCode: string | null,
    /** The SMTP reply code (550…), when the server answered. */
    readonly responseCode: number | null,
  ) {
    super(`the email was not sent: ${reason}${smtpCode ? ` (${smtpCode}${responseCode ? ` ${responseCode}` : ''})` : ''}`);
    this.name = 'MailError';
  }
}

const UNREACHABLE = new Set(['ECONNECTION', 'ESOCKET', 'ETIMEDOUT', 'EDNS', 'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND']);

/** nodemailer's error as a MailError, keeping its codes and nothing it quotes. */
export function toMailError(err: unknown): MailError {
  if (err instanceof MailError) return err;
  const e = (err ?? {}) as { code?: unknown; responseCode?: unknown; command?: unknown };
  const code = typeof e.code === 'string' && /^[A-Z0-9_]{1,40}$/.test(e.code) ? e.code : null;
  const responseCode = typeof e.responseCode === 'number' && Number.isInteger(e.responseCode) ? e.responseCode : null;
  // Refused: the server would not take the recipient (its answer to RCPT TO); not a refused sender or login.
  const reason: MailFailureReason = e.command === 'RCPT TO' ? 'refused' : code && UNREACHABLE.has(code) ? 'unreachable' : 'failed';
  return new MailError(reason, code, responseCode);
}

/** What a log line may say of a mail failure: its kind and codes, never the message (it quotes addresses). */
export function mailFailure(err: unknown): { reason: MailFailureReason; code: string | null; responseCode: number | null } {
  const m = toMailError(err);
  return { reason: m.reason, code: m.smtpCode, responseCode: m.responseCode };
}

export interface Mailer {
  /** `smtp` when a server took the message; `log` when there is no SMTP server (development). */
  readonly delivery: 'smtp' | 'log';
  /** Rejects with a MailError only. */
  send(mail: Mail): Promise<void>;
}

export function createMailer(opts: { smtpUrl: string | null; from: string; logger: Logger; development: boolean }): Mailer {
  if (!opts.smtpUrl) {
    return {
      delivery: 'log',
      async send(mail) {
        // The message holds a single-use link: printed in development only; elsewhere the console shows it
        // to the admin who sent it.
        if (opts.development)
          opts.logger.warn({ subject: mail.subject }, `no SMTP server configured (PARLEY_SMTP_URL); the email would say:\n${mail.text}`);
        else opts.logger.warn({ subject: mail.subject }, 'no SMTP server configured (PARLEY_SMTP_URL): the link is shown in the console only');
      },
    };
  }
  const transport: Transporter = nodemailer.createTransport(opts.smtpUrl);
  return {
    delivery: 'smtp',
    async send(mail) {
      try {
        await transport.sendMail({ from: opts.from, to: mail.to, subject: mail.subject, text: mail.text });
      } catch (err) {
        throw toMailError(err);
      }
    },
  };
}
