/**
 * Builds one bucket's B+tree from keys that arrive in order, bottom-up: a leaf is written as soon
 * as the next item would not fit it, and its first key goes up to the branch level above, which
 * fills and spills the same way. Only the page being filled at each level is held in memory.
 * An item larger than a page gets a leaf of its own that continues into overflow pages.
 */
import { PAGE_HEADER_SIZE } from './format';
import { branchItemSize, encodeBranch, encodeLeaf, leafItemSize, type BranchItem, type LeafItem } from './node';
import type { PageSink } from './page-sink';

interface Level<T> {
  items: T[];
  size: number;
  /** Pages this level has written so far. */
  written: number;
}

const newLevel = <T>(): Level<T> => ({ items: [], size: PAGE_HEADER_SIZE, written: 0 });

export class TreeBuilder {
  private readonly leaves: Level<LeafItem> = newLevel();
  private readonly branches: Level<BranchItem>[] = [];

  constructor(private readonly sink: PageSink) {}

  /** Adds the next item; keys must be strictly increasing (the caller checks). */
  add(item: LeafItem): void {
    const size = leafItemSize(item.key, item.value);
    const l = this.leaves;
    if (l.items.length > 0 && l.size + size > this.sink.pageSize) this.spillLeaf();
    l.items.push(item);
    l.size += size;
  }

  /** Writes what is left and returns the root page id. */
  finish(): number {
    if (this.branches.length === 0) return this.writeLeaf();
    if (this.leaves.items.length > 0) this.spillLeaf();
    for (let depth = 0; ; depth++) {
      const level = this.branches[depth];
      const top = depth === this.branches.length - 1;
      if (top && level.written === 0) {
        // One child left at the top: it is the root, no branch page above it is needed.
        return level.items.length === 1 ? level.items[0].pgid : this.writeBranch(level);
      }
      if (level.items.length > 0) this.spillBranch(depth);
    }
  }

  /** Writes a level's pending items as the next page(s); returns the page id. */
  private write<T>(level: Level<T>, encode: (items: T[], id: number, pageSize: number) => Buffer): number {
    const id = this.sink.nextId;
    this.sink.append(id, encode(level.items, id, this.sink.pageSize));
    level.items = [];
    level.size = PAGE_HEADER_SIZE;
    level.written++;
    return id;
  }

  private writeLeaf(): number {
    return this.write(this.leaves, encodeLeaf);
  }

  private spillLeaf(): void {
    const first = this.leaves.items[0].key;
    this.addBranch(0, { key: first, pgid: this.writeLeaf() });
  }

  private writeBranch(level: Level<BranchItem>): number {
    return this.write(level, encodeBranch);
  }

  private spillBranch(depth: number): void {
    const level = this.branches[depth];
    const first = level.items[0].key;
    this.addBranch(depth + 1, { key: first, pgid: this.writeBranch(level) });
  }

  private addBranch(depth: number, item: BranchItem): void {
    if (depth === this.branches.length) this.branches.push(newLevel());
    const level = this.branches[depth];
    const size = branchItemSize(item.key);
    // At least two children per branch page, so every level is smaller than the one below it.
    if (level.items.length >= 2 && level.size + size > this.sink.pageSize) this.spillBranch(depth);
    level.items.push(item);
    level.size += size;
  }
}
