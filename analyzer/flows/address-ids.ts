/**
 * Address text -> small integer id, for one load or pass: connection tracking compares and hashes the
 * ids, not the text. The decoder caches its address strings, so the Map lookup hashes an already-hashed
 * string. A database keeps the ids in its `addresses` table (db/address-dictionary.ts adds that).
 */
export class AddressIds {
  protected readonly ids = new Map<string, number>();
  protected readonly texts: string[] = [];

  idOf(addr: string, ipVersion: number): number {
    let id = this.ids.get(addr);
    if (id === undefined) {
      id = this.texts.length;
      this.ids.set(addr, id);
      this.texts.push(addr);
      this.added(id, addr, ipVersion);
    }
    return id;
  }

  text(id: number): string {
    return this.texts[id]!;
  }

  /** A new address got its id (the database writes it down). */
  protected added(_id: number, _addr: string, _ipVersion: number): void {}
}
