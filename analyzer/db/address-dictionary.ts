/**
 * Address text -> small integer id, shared by every capture in one database. Packet rows store the ids
 * (bulk-copied numbers); the `addresses` table holds each text once and the `packets` view joins it
 * back. The decoder caches its address strings, so the Map lookup hashes an already-hashed string.
 */
import type { Database } from './database.js';
import { ChunkWriter, columnIndex } from './chunk-writer.js';
import { ADDRESS_COLUMNS } from './schema.js';

const A = columnIndex(ADDRESS_COLUMNS);

export class AddressDictionary {
  private readonly ids = new Map<string, number>();
  private readonly texts: string[] = [];
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

  idOf(addr: string, ipVersion: number): number {
    let id = this.ids.get(addr);
    if (id === undefined) {
      id = this.texts.length;
      this.ids.set(addr, id);
      this.texts.push(addr);
      const w = this.writer!;
      w.u32(A.addr_id, id);
      w.varchar(A.addr, addr);
      w.u8(A.ip_version, ipVersion);
      w.endRow();
    }
    return id;
  }

  text(id: number): string {
    return this.texts[id]!;
  }
}
