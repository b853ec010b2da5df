// The state of a volume as block hashes: what the capture believes the replica will hold once all
// it sent is applied, and what delta sync receives from the recovery side to rebuild that belief
// without sending unchanged data. Block hashes are HASH_BYTES each, concatenated.
import type { FileId } from './ops.ts';

export type ManifestEntry =
  | { type: 'dir'; mode: number }
  | { type: 'file'; id: FileId; mode: number; size: number; hashes: Uint8Array }
  | { type: 'symlink'; target: string };

/** A filesystem volume: entries by path (see paths.ts). */
export interface FsManifest {
  kind: 'fs';
  entries: Map<string, ManifestEntry>;
}

/** A block volume (an image file or a device). */
export interface BlockManifest {
  kind: 'block';
  size: number;
  hashes: Uint8Array;
}

export type Manifest = FsManifest | BlockManifest;
