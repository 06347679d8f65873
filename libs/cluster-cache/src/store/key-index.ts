import { ANY, KeyPart, PatternPart } from './key';
import type { EntryState } from './entry';

interface TrieNode {
  children: Map<KeyPart, TrieNode> | undefined;
  state: EntryState | undefined;
}

/**
 * A trie over the elements of array keys, so that `all([a, b, ANY])` walks only
 * the keys under `[a, b]` instead of scanning the namespace.
 */
export class KeyIndex {
  private readonly root: TrieNode = { children: undefined, state: undefined };

  /** Records `state` under its array key (replacing any previous state of that key). */
  set(key: readonly KeyPart[], state: EntryState): void {
    let node = this.root;
    for (const part of key) {
      node.children ??= new Map();
      let child = node.children.get(part);
      if (child === undefined) {
        child = { children: undefined, state: undefined };
        node.children.set(part, child);
      }
      node = child;
    }
    node.state = state;
  }

  clear(): void {
    this.root.children = undefined;
  }

  /** Forgets the array key, pruning branches left empty. */
  delete(key: readonly KeyPart[]): void {
    const path: TrieNode[] = [this.root];
    for (const part of key) {
      const child = path[path.length - 1].children?.get(part);
      if (child === undefined) return;
      path.push(child);
    }
    path[path.length - 1].state = undefined;
    for (let depth = key.length; depth > 0; depth--) {
      const node = path[depth];
      if (node.state !== undefined || (node.children !== undefined && node.children.size > 0)) return;
      path[depth - 1].children!.delete(key[depth - 1]);
    }
  }

  /** Every state whose key has the pattern's length and matches it element by element. */
  match(pattern: readonly PatternPart[], out: EntryState[] = []): EntryState[] {
    this.walk(this.root, pattern, 0, out);
    return out;
  }

  private walk(node: TrieNode, pattern: readonly PatternPart[], depth: number, out: EntryState[]): void {
    if (depth === pattern.length) {
      if (node.state !== undefined) out.push(node.state);
      return;
    }
    const children = node.children;
    if (children === undefined) return;
    const part = pattern[depth];
    if (part === ANY) {
      for (const child of children.values()) this.walk(child, pattern, depth + 1, out);
    } else {
      const child = children.get(part);
      if (child !== undefined) this.walk(child, pattern, depth + 1, out);
    }
  }
}
