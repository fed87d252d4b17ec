import { parseCheckpoint, parseNote, type Checkpoint } from '../../isthmus-log-proofs/src/index.ts';

/** The extension line that marks a chain's last checkpoint. */
export const FINAL_EXTENSION = 'final';

/** One line of the witness's journal: a checkpoint it cosigned, and what it answered. */
export interface JournalRecord {
  readonly origin: string;
  readonly size: number;
  /** The cosigned note: the note as the log signed it, with this witness's signature line appended. */
  readonly note: string;
  /** The signature line(s) the witness answered with, exactly (`— <name> <base64>\n`). */
  readonly signature: string;
  /** Whether the checkpoint is its chain's `final` one. */
  readonly final: boolean;
  /** ISO-8601 UTC. */
  readonly cosignedAt: string;
  /** The witness key that cosigned. */
  readonly vkey: string;
}

/** A journal record with its checkpoint parsed. */
export interface JournalEntry {
  readonly record: JournalRecord;
  readonly checkpoint: Checkpoint;
}

/** Whether a checkpoint ends its chain: one of its extension lines is exactly `final`. */
export function isFinalCheckpoint(checkpoint: Pick<Checkpoint, 'extensions'>): boolean {
  return checkpoint.extensions.includes(FINAL_EXTENSION);
}

/**
 * Reads one journal line back; returns `undefined` (never throws) when it is
 * not a record this witness writes, so the journal reports the line number.
 */
export function readJournalRecord(line: string): JournalEntry | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  const r = (value ?? {}) as Record<string, unknown>;
  if (typeof r.origin !== 'string' || typeof r.size !== 'number' || typeof r.note !== 'string' || typeof r.signature !== 'string') return undefined;
  if (typeof r.final !== 'boolean' || typeof r.cosignedAt !== 'string' || typeof r.vkey !== 'string') return undefined;
  let checkpoint: Checkpoint;
  try {
    checkpoint = parseCheckpoint(parseNote(r.note).text);
  } catch {
    return undefined;
  }
  if (checkpoint.origin !== r.origin || checkpoint.size !== r.size || isFinalCheckpoint(checkpoint) !== r.final || !r.note.endsWith(r.signature)) return undefined;
  const record: JournalRecord = { origin: r.origin, size: r.size, note: r.note, signature: r.signature, final: r.final, cosignedAt: r.cosignedAt, vkey: r.vkey };
  return { record, checkpoint };
}

/** Writes a record as one journal line (JSON escapes the note's newlines). */
export function formatJournalRecord(record: JournalRecord): string {
  const { origin, size, note, signature, final, cosignedAt, vkey } = record;
  return `${JSON.stringify({ origin, size, final, cosignedAt, vkey, signature, note })}\n`;
}
