import { open, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * Makes everything new under a directory tree durable: fsyncs every file that
 * appeared or changed since the last pass, then the directories holding them (a
 * file's fsync does not make its name durable).
 *
 * Why: LanceDB on a local disk commits by writing data files and atomically
 * publishing a manifest, so a finished `add`/`merge_insert`/`delete` survives a
 * killed process (the page cache outlives it), but its local object store does
 * not fsync, so a power loss or kernel crash could still lose an acknowledged
 * write. One pass after each write closes that gap.
 */
export class DirectorySync {
  /** path -> size:mtime of what was synced. */
  private readonly seen = new Map<string, string>();

  constructor(readonly root: string) {}

  /** Syncs what changed; the first pass syncs everything present (a crashed writer may have left unsynced files). */
  async syncChanges(): Promise<number> {
    const files = await walk(this.root);
    const changed: string[] = [];
    const present = new Set<string>();
    for (const [path, key] of files) {
      present.add(path);
      if (this.seen.get(path) !== key) changed.push(path);
    }
    for (const path of this.seen.keys()) if (!present.has(path)) this.seen.delete(path);
    if (!changed.length) return 0;
    await mapLimit(changed, 16, (p) => fsyncPath(p));
    const dirs = new Set<string>();
    for (const p of changed) {
      // Every ancestor up to the root: a new subdirectory's own entry must be durable too.
      for (let d = dirname(p); d.startsWith(this.root); d = dirname(d)) {
        dirs.add(d);
        if (d === this.root) break;
      }
    }
    dirs.add(dirname(this.root));
    await mapLimit([...dirs], 16, (d) => fsyncPath(d));
    for (const p of changed) this.seen.set(p, files.get(p)!);
    return changed.length;
  }
}

/**
 * fsyncs the parent of every directory level that `mkdir -p` just created, so the
 * new folders themselves survive a power loss. `firstCreated` is what
 * `mkdir(..., { recursive: true })` returned (undefined when nothing was created).
 */
export async function syncCreatedDirs(firstCreated: string | undefined, leaf: string): Promise<void> {
  if (!firstCreated) return;
  for (let d = leaf; ; d = dirname(d)) {
    await fsyncPath(dirname(d));
    if (d === firstCreated || dirname(d) === d) break;
  }
}

async function walk(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const visit = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    await Promise.all(
      entries.map(async (e) => {
        const p = join(dir, e.name);
        if (e.isDirectory()) return visit(p);
        if (!e.isFile()) return;
        try {
          const s = await stat(p);
          out.set(p, `${s.size}:${s.mtimeMs}`);
        } catch (err) {
          // Removed between readdir and stat (e.g. a temp file): nothing to sync.
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }),
    );
  };
  await visit(root);
  return out;
}

async function fsyncPath(path: string): Promise<void> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
