/** Alerts by e-mail: one message per alert to every configured recipient, through the SMTP client. */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { PacklineError } from '../../../../contracts/errors.js';
import type { Notice } from '../alert.js';
import { formatEmail, newMessageId } from '../format-email.js';
import { type Mailbox, parseMailbox } from '../mime.js';
import { DEFAULT_EMAIL_TIMEOUT_MS, type EmailChannelConfig } from '../notify-config.js';
import { type SmtpClientOptions, sendMail } from '../smtp-send.js';
import type { Channel } from './channel.js';

export interface EmailChannelDeps {
  now: () => number;
  logger: Pick<Logger, 'warn'>;
}

export class EmailChannel implements Channel {
  readonly type = 'email' as const;
  readonly name: string;
  readonly #smtp: SmtpClientOptions;
  readonly #from: Mailbox;
  readonly #to: Mailbox[];
  readonly #deps: EmailChannelDeps;

  /** Throws PKL_CONFIG_INVALID for unusable addresses or an unreadable caFile. */
  constructor(config: EmailChannelConfig, deps: EmailChannelDeps) {
    const mailbox = (s: string, field: string): Mailbox => {
      const mb = parseMailbox(s);
      if (mb === null) throw new PacklineError('PKL_CONFIG_INVALID', { reason: `notify email ${field}: not an e-mail address: ${JSON.stringify(s)}` });
      return mb;
    };
    this.#from = mailbox(config.from, 'from');
    this.#to = config.to.map((t) => mailbox(t, 'to'));
    this.name = `email ${config.host}:${config.port}`;
    let ca: Buffer | undefined;
    if (config.caFile !== undefined) {
      try {
        ca = readFileSync(config.caFile);
      } catch (err) {
        throw new PacklineError('PKL_CONFIG_INVALID', { reason: `notify email caFile ${config.caFile}: ${(err as Error).message}` }, { cause: err });
      }
    }
    this.#smtp = {
      host: config.host,
      port: config.port,
      secure: config.secure,
      user: config.user,
      pass: config.pass,
      timeoutMs: config.timeoutMs ?? DEFAULT_EMAIL_TIMEOUT_MS,
      ca,
      label: this.name,
    };
    this.#deps = deps;
  }

  async send(notice: Notice): Promise<void> {
    const date = this.#deps.now();
    const message = formatEmail(notice, { from: this.#from, to: this.#to, date, messageId: newMessageId(this.#from, date) });
    const result = await sendMail(this.#smtp, { from: this.#from.address, to: this.#to.map((t) => t.address) }, message);
    if (result.rejected.length > 0) {
      // The others got it; retrying would send them duplicates, so the refusal is reported only.
      this.#deps.logger.warn({ channel: this.name, key: notice.alert.key, rejected: result.rejected }, 'some alert e-mail recipients were refused');
    }
  }
}
