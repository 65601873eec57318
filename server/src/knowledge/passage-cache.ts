// The passages an instance's copy of a tenant's index (memory-index.ts) returned lately, so that a search
// whose passages were read before reads none from the database: most questions a support site gets are
// about a few passages. Held per copy, so per tenant and per version; at one version a passage cannot
// change (a chunk's title, anchor and text are written once, and its source's URL changes only by
// replacing the source's chunks, which gives new chunk ids and moves the version). They were read under
// the tenant's row-level security, by a search that used this copy; a copy that is out of date drops them.

/** A chunk's passage as search results give it. */
export interface Passage {
  id: string;
  source_id: string;
  external_id: string | null;
  title: string;
  anchor_url: string | null;
  url: string | null;
  text: string;
}

// Strings are UTF-16 in memory; the rest of an entry (the object, the map slot, two uuids) about 300 bytes.
const sizeOf = (p: Passage) =>
  2 * (p.text.length + p.title.length + (p.url?.length ?? 0) + (p.anchor_url?.length ?? 0) + (p.external_id?.length ?? 0)) + 300;

/** Least recently used out, within `maxBytes`. */
export class PassageCache {
  private readonly held = new Map<string, Passage>();
  private used = 0;

  constructor(readonly maxBytes: number) {}

  get(id: string): Passage | undefined {
    const p = this.held.get(id);
    if (p) {
      this.held.delete(id);
      this.held.set(id, p);
    }
    return p;
  }

  add(p: Passage): void {
    const size = sizeOf(p);
    if (size > this.maxBytes || this.held.has(p.id)) return;
    this.held.set(p.id, p);
    this.used += size;
    for (const [id, old] of this.held) {
      if (this.used <= this.maxBytes) break;
      this.held.delete(id);
      this.used -= sizeOf(old);
    }
  }

  clear(): void {
    this.held.clear();
    this.used = 0;
  }

  get size(): number {
    return this.held.size;
  }

  get bytes(): number {
    return this.used;
  }
}

/** What a copy reserves for its passages: an eighth of its postings' size, within 64 KiB and 4 MiB. */
export const passageBudget = (indexBytes: number) => Math.min(4 << 20, Math.max(64 << 10, Math.floor(indexBytes / 8)));
