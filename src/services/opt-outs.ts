import type { Knex } from 'knex';
import type { BlindIndex } from './blind-index';

/**
 * STOP and START. An opted-out phone gets no notification or reminder (non-essential messages);
 * answers to its own requests still go out. Kept by a hash of the phone.
 */
export class OptOutService {
  constructor(private readonly db: Knex, private readonly blind: BlindIndex) {}

  async optOut(phone: string, keyword: string): Promise<void> {
    await this.db('opt_outs').insert({ phone_hash: this.blind.phone(phone), keyword, at: this.db.fn.now() }).onConflict('phone_hash').merge();
  }

  async optIn(phone: string): Promise<void> {
    await this.db('opt_outs').where({ phone_hash: this.blind.phone(phone) }).delete();
  }

  async isOptedOut(phone: string, db: Knex | Knex.Transaction = this.db): Promise<boolean> {
    return (await db('opt_outs').where({ phone_hash: this.blind.phone(phone) }).first('phone_hash')) !== undefined;
  }
}
