import type { Db } from '../db';
import type { BlindIndex } from './blind-index';
import type { Lang } from '../../flows/types';

/** The language each phone chose, kept by a hash of the phone number. */
export class PreferenceService {
  constructor(private readonly db: Db, private readonly blind: BlindIndex) {}

  async language(phone: string): Promise<Lang | null> {
    const row = await this.db('preferences').where({ phone_hash: this.blind.phone(phone) }).first('language');
    return row ? (row.language as Lang) : null;
  }

  async setLanguage(phone: string, lang: Lang): Promise<void> {
    await this.db('preferences')
      .insert({ phone_hash: this.blind.phone(phone), language: lang, updated_at: this.db.fn.now() })
      .onConflict('phone_hash')
      .merge();
  }
}
