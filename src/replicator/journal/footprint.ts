// What a journal's files hold on disk beyond its records. The hard limit and the history count
// records (bytesBetween), and the VRA keeps those under the limit; the segment files can hold
// more, and capacity planning (src/sizing) adds that without opening a journal. No I/O here.

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
export const DEFAULT_SPARE_SEGMENTS = 2;

/**
 * The most a journal's segment files hold besides its records, all of which can be there at once:
 * - the oldest segment, partly dropped: a segment goes only when all of its records are dropped,
 *   so up to a segment of records already applied stays until then;
 * - the spares, each at most a segment (sealed segments are cut to their records);
 * - the live segment, when reused from a spare: the spare's earlier contents past its records
 *   stay until it is sealed, and meanwhile drops can bring the spares back to their number
 *   (without spares, no segment is reused).
 * Each file is taken at most a segment, so segmentBytes must be at least the largest record with
 * its header (a larger record gets a segment of its own): 64 MiB against 8 MiB by default.
 * The index and the offsets sidecars are left out: they grow with what is kept (an index entry
 * per checkpoint, 4 bytes a record in the sidecars), small next to a segment.
 */
export function fileOverheadBytes(segmentBytes: number = DEFAULT_SEGMENT_BYTES, spareSegments: number = DEFAULT_SPARE_SEGMENTS): number {
  return segmentBytes * (1 + spareSegments + (spareSegments > 0 ? 1 : 0));
}
