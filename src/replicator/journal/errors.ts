// Journal errors carry a stable code so callers (the receiver, the replica) can tell a sender's
// mistake (SeqGap) from a journal that must not be trusted any more (Broken, Corrupt).

export type JournalErrorCode =
  | 'SeqGap' // a batch does not continue the stream
  | 'Broken' // a write or fsync failed earlier: nothing more is acknowledged
  | 'Closed' // the journal was closed
  | 'TooLarge' // a record is larger than MAX_RECORD_BYTES
  | 'BadRecord' // a record is empty, of an unknown type, or a checkpoint that does not decode
  | 'BadArgument' // an argument is out of range (seq, tag, option)
  | 'Dropped' // the seqs asked for were dropped (applied to the replica)
  | 'NotDurable' // the seqs asked for are not on disk (yet)
  | 'UnknownCheckpoint' // no checkpoint has this seq
  | 'InUse' // the folder is already open in this process
  | 'Format' // a file of the journal is of a format this code does not know
  | 'Inconsistent' // the files of the journal do not fit together (a segment is missing)
  | 'Corrupt'; // a record that was acknowledged is damaged

export class JournalError extends Error {
  override readonly name: string = 'JournalError';
  readonly code: JournalErrorCode;
  constructor(code: JournalErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A damaged record: names the segment file and the byte offset of the record in it. */
export class JournalCorruptError extends JournalError {
  override readonly name = 'JournalCorruptError';
  readonly file: string;
  readonly offset: number;
  constructor(file: string, offset: number, what: string) {
    super('Corrupt', `journal file ${file} is corrupt at offset ${offset}: ${what}`);
    this.file = file;
    this.offset = offset;
  }
}
