// Where to look first. One fs.watch (an inotify watch) per folder, not per file: a folder's
// watch reports its children by name (created, removed, renamed, written, chmod'ed). Watches
// are keyed by the folder's inode, and an event is turned into a path only when drained, with
// the folder's path as of the last pass: a folder renamed since still reports under its new
// name. A name that was only written or chmod'ed ("change") needs only itself looked at again; a
// name created, removed or moved ("rename") changed its folder's entries, so the folder is listed
// again too. Most changes to a busy volume are writes to files that exist: looking at one path
// instead of listing its folder is what keeps a hinted pass proportional to what changed. A
// folder is watched before it is listed, so nothing falls between the listing and the watch.
// Hints only narrow a pass; when they may be incomplete (an error, a null filename, too many of
// them) the drain says so and the pass walks everything.
//
// Not fs.watch(root, { recursive: true }): on Linux, Node implements it with one watch per file
// and folder set up synchronously, and it loses events (a file replaced by a folder, a folder
// deleted and created again under the same name, chmod of folders). See README.md.
import { watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { errorCode } from './volume-capture.ts';

export interface Drained {
  /** Every name hinted. */
  paths: Set<string>;
  /** The hinted names whose folder's entries changed (created, removed, moved): a subset of paths. */
  moved: Set<string>;
  /** True when the hints cannot be trusted: walk everything. */
  overflow: boolean;
}

interface FolderWatch {
  path: string;
  watcher: FSWatcher;
  /** Names hinted since the last drain: true when one of its events was a create, remove or move. */
  names: Map<string, boolean>;
}

export class ChangeHints {
  private readonly root: string;
  private readonly limit: number;
  private readonly watches = new Map<string, FolderWatch>();
  private count = 0;
  private overflow = true;
  private closed = false;
  /** The last reason hints were lost (an error message), for diagnostics. */
  problem: string | undefined;

  constructor(root: string, limit: number) {
    this.root = root;
    this.limit = limit;
  }

  /** Folders watched now. */
  get size(): number {
    return this.watches.size;
  }

  /** Watches folder `path` ('' = the root) whose inode is `inode`, unless already watched. */
  folder(path: string, inode: string): void {
    if (this.closed) return;
    const known = this.watches.get(inode);
    if (known !== undefined) {
      known.path = path;
      return;
    }
    const entry: FolderWatch = { path, names: new Map(), watcher: undefined as unknown as FSWatcher };
    try {
      entry.watcher = watch(path === '' ? this.root : join(this.root, path), { persistent: false }, (event, name) => {
        const moved = event !== 'change';
        const known = name === null ? undefined : entry.names.get(name);
        if (name === null || (known === undefined && this.count >= this.limit)) {
          this.overflow = true;
        } else if (known === undefined) {
          entry.names.set(name, moved);
          this.count++;
        } else if (moved && !known) {
          entry.names.set(name, true);
        }
      });
    } catch (err: unknown) {
      // A folder gone already is seen by the pass; anything else (ENOSPC: out of inotify
      // watches) means hints are incomplete until it goes away.
      if (errorCode(err) !== 'ENOENT' && errorCode(err) !== 'ENOTDIR') this.problem = (err as Error).message;
      this.overflow = true;
      return;
    }
    entry.watcher.on('error', (err: Error) => {
      this.problem = err.message;
      this.overflow = true;
      entry.watcher.close();
      if (this.watches.get(inode) === entry) this.watches.delete(inode);
    });
    this.watches.set(inode, entry);
  }

  /** After a pass: the folders that exist, by inode; watches of the others are closed. */
  retain(folders: ReadonlyMap<string, string>): void {
    for (const [inode, w] of this.watches) {
      const path = folders.get(inode);
      if (path === undefined) {
        w.watcher.close();
        this.watches.delete(inode);
      } else {
        w.path = path;
      }
    }
  }

  /** Takes the hints gathered since the last drain. */
  drain(): Drained {
    const paths = new Set<string>();
    const moved = new Set<string>();
    for (const w of this.watches.values()) {
      for (const [name, m] of w.names) {
        const path = w.path === '' ? name : `${w.path}/${name}`;
        paths.add(path);
        if (m) moved.add(path);
      }
      w.names.clear();
    }
    const out: Drained = { paths, moved, overflow: this.overflow || this.watches.size === 0 };
    this.overflow = false;
    this.count = 0;
    return out;
  }

  close(): void {
    this.closed = true;
    for (const w of this.watches.values()) w.watcher.close();
    this.watches.clear();
  }
}
