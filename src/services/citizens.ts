import type { Db } from '../db';
import type { BlindIndex } from './blind-index';

export class CitizenService {
  constructor(private readonly db: Db, private readonly blind: BlindIndex) {}

  /** True when this ID number belongs to a citizen whose registered phone is `phone`. */
  async isPhoneHolder(phone: string, idNumber: string): Promise<boolean> {
    const row = await this.db('citizens').where({ id_hash: this.blind.idNumber(idNumber), phone }).first('id');
    return row !== undefined;
  }
}
