import type { Sealer } from '../../services/sealer';
import type { SmsKind } from '../../sms/outbox';
import type { Store } from '../../store/types';

/** One reply to an inbound SMS, and the outbox kind it goes as (`login_code` for a reply that shows a code). */
export interface SmsReply {
  body: string;
  kind: Extract<SmsKind, 'reply' | 'login_code'>;
}

/** What handling one inbound SMS decided: the router's outcome and the replies to send. */
export interface HandledSms {
  outcome: string;
  replies: SmsReply[];
}

/**
 * The record that makes an SMS turn idempotent, like a USSD hop's saved reply. Handling a message
 * can move its conversation on (saved in the store) before the replies reach the outbox (Postgres); if
 * that write fails, AT delivers the message again, and it must get the same replies without being
 * applied a second time. So what the turn decided is kept here, keyed by the `sms_inbound` row,
 * from the moment it is decided until its replies are committed (then dropped), at most `ttlS` (AT
 * redelivers for about ten minutes). Sealed: a reply can carry a login code, and codes are not kept
 * in the store in clear.
 */
export class SmsTurnRecords {
  constructor(private readonly deps: { store: Store; sealer: Sealer; ttlS: number }) {}

  private key = (inboundId: string | number) => `sms:turn:${inboundId}`;

  async get(inboundId: string | number): Promise<HandledSms | null> {
    const sealed = await this.deps.store.get(this.key(inboundId));
    return sealed ? (JSON.parse(this.deps.sealer.open(sealed)) as HandledSms) : null;
  }

  async put(inboundId: string | number, handled: HandledSms): Promise<void> {
    await this.deps.store.set(this.key(inboundId), this.deps.sealer.seal(JSON.stringify(handled)), this.deps.ttlS * 1000);
  }

  /** Once the replies are committed; a failure only leaves the record to expire. */
  async drop(inboundId: string | number): Promise<void> {
    await this.deps.store.del(this.key(inboundId)).catch(() => undefined);
  }
}
