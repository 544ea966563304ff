// LIKE / ILIKE prefix index of one text probe: a trie of literal pattern prefixes, walked along the row's value.
import type { EntryHome, EntryTable } from './entries.js';
import { Posting } from './posting.js';

interface TrieNode {
  /** Children by UTF-16 code unit (number keys: no string hashing per step). */
  children: Map<number, TrieNode> | null;
  /** Entries whose prefix ends here: a bare entry id, or a Posting when several. */
  here: number | Posting | -1;
  /** Entries at or below this node (empty subtrees are pruned on removal). */
  size: number;
}

const newNode = (): TrieNode => ({ children: null, here: -1, size: 0 });

/**
 * A value `s` is a candidate of every entry whose prefix `p` satisfies `s.startsWith(p)`: walking `s` one code unit
 * at a time from the root visits exactly the nodes of its prefixes, so a row costs O(min(|s|, longest prefix))
 * integer-keyed lookups plus its matches, whatever the number of shapes. Prefixes are whole strings, so comparing
 * code units is exact even across surrogate pairs.
 */
export class PrefixIndex implements EntryHome {
  private readonly root: TrieNode = newNode();
  private keys = 0;

  add(entry: number, prefix: string, entries: EntryTable): void {
    let node = this.root;
    node.size++;
    for (let i = 0; i < prefix.length; i++) {
      const c = prefix.charCodeAt(i);
      let next = node.children?.get(c);
      if (next === undefined) {
        next = newNode();
        (node.children ??= new Map()).set(c, next);
      }
      node = next;
      node.size++;
    }
    if (node.here === -1) {
      node.here = entry;
      entries.pos[entry] = 0;
      this.keys++;
    } else if (typeof node.here === 'number') {
      const p = new Posting(2);
      p.add(node.here, entries);
      p.add(entry, entries);
      node.here = p;
    } else node.here.add(entry, entries);
    entries.place(entry, this, prefix);
  }

  removeEntry(entry: number, key: unknown, entries: EntryTable): void {
    const prefix = key as string;
    const path: TrieNode[] = [this.root];
    let node = this.root;
    for (let i = 0; i < prefix.length; i++) {
      node = node.children?.get(prefix.charCodeAt(i)) as TrieNode;
      path.push(node);
    }
    const here = node.here;
    if (typeof here === 'number') {
      node.here = -1;
      this.keys--;
    } else {
      here.removeEntry(entry, key, entries);
      if (here.length === 1) {
        const only = here.items[0] as number;
        entries.pos[only] = 0;
        node.here = only;
      }
    }
    entries.pos[entry] = -1;
    for (let i = path.length - 1; i >= 0; i--) {
      const n = path[i] as TrieNode;
      n.size--;
      if (i > 0 && n.size === 0) (path[i - 1] as TrieNode).children?.delete(prefix.charCodeAt(i - 1));
    }
  }

  /** Entries under exactly `prefix` (live statistics). */
  count(prefix: string): number {
    let node: TrieNode | undefined = this.root;
    for (let i = 0; i < prefix.length && node !== undefined; i++) node = node.children?.get(prefix.charCodeAt(i));
    if (node === undefined || node.here === -1) return 0;
    return typeof node.here === 'number' ? 1 : node.here.length;
  }

  /** Emits candidates for `s`; returns the number of trie steps taken. */
  probe(s: string, emit: (entry: number) => void): number {
    let node: TrieNode | undefined = this.root;
    let steps = 0;
    for (let i = 0; ; i++) {
      const here: number | Posting | -1 = node.here;
      if (typeof here === 'number') {
        if (here >= 0) emit(here);
      } else for (let j = 0; j < here.length; j++) emit(here.items[j] as number);
      if (i === s.length || node.children === null) break;
      node = node.children.get(s.charCodeAt(i));
      steps++;
      if (node === undefined) break;
    }
    return steps;
  }

  /** Calls `fn` for every entry of the trie. */
  forEachEntry(fn: (entry: number) => void): void {
    const stack: TrieNode[] = [this.root];
    for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
      const here = node.here;
      if (typeof here === 'number') {
        if (here >= 0) fn(here);
      } else for (let j = 0; j < here.length; j++) fn(here.items[j] as number);
      if (node.children !== null) for (const c of node.children.values()) stack.push(c);
    }
  }

  get size(): number {
    return this.root.size;
  }

  get keyCount(): number {
    return this.keys;
  }

  get bytes(): number {
    // A node is an object plus (for inner nodes) a small Map: about 120 bytes; prefixes share their heads.
    return this.root.size * 120;
  }
}
