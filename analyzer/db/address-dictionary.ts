/**
 * The address ids of one database (flows/address-ids.ts), shared by every capture in it. Packet rows
 * store the ids (bulk-copied numbers); the `addresses` table holds each text once and the `packets` view
 * joins it back.
 */
import type { Database } from './database.js';
import { ChunkWriter } from './chunk-writer.js';
import { columnIndex } from './column-spec.js';
import { ADDRESS_COLUMNS } from './schema.js';
import { AddressIds } from '../flows/address-ids.js';

const A = columnIndex(ADDRESS_COLUMNS);

export class AddressDictionary extends AddressIds {
  private writer: ChunkWriter | null = null;

  /** Loads the ids already in the database (a reopened --db keeps them stable). */
  static async load(db: Database): Promise<AddressDictionary> {
    const dict = new AddressDictionary();
    const reader = await db.connection.runAndReadAll('SELECT addr_id, addr FROM addresses ORDER BY addr_id');
    for (const [id, addr] of reader.getRows()) {
      dict.ids.set(addr as string, id as number);
      dict.texts[id as number] = addr as string;
    }
    return dict;
  }

  /** New ids are appended through this writer until `endLoad`. */
  async beginLoad(db: Database): Promise<void> {
    this.writer = new ChunkWriter(await db.connection.createAppender('addresses'), ADDRESS_COLUMNS);
  }

  endLoad(): void {
    this.writer?.close();
    this.writer = null;
  }

  protected override added(id: number, addr: string, ipVersion: number): void {
    const w = this.writer!;
    w.u32(A.addr_id, id);
    w.varchar(A.addr, addr);
    w.u8(A.ip_version, ipVersion);
    w.endRow();
  }
}
