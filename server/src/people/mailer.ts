// Outgoing email (invitations): SMTP through nodemailer when PARLEY_SMTP_URL is set; otherwise
// (development) the message is written to the server log, and the caller keeps the link for the console.
import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from 'pino';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  /** `smtp` when a server took the message; `log` when there is no SMTP server (development). */
  readonly delivery: 'smtp' | 'log';
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
      await transport.sendMail({ from: opts.from, to: mail.to, subject: mail.subject, text: mail.text });
    },
  };
}
