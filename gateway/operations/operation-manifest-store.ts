import { sql, type Kysely } from 'kysely';
import type { StoreSchema } from '../store/store-schema.ts';
import { isOperationsMode, parseOperationManifest, type OperationManifest, type OperationsMode } from './operation-manifest.ts';

/** The channel `NOTIFY`d with each change, so that every replica reloads its registered operations. */
export const OPERATIONS_CHANNEL = 'isthmus_operations';

/** An app's registered operations as an operator last set them through the admin API. */
export interface StoredManifest {
  readonly bureau: string;
  readonly app: string;
  /** Absent: the settings decide (`ISTHMUS_OPERATIONS_APP_MODES`, then `ISTHMUS_OPERATIONS_MODE`). */
  readonly mode?: OperationsMode;
  readonly manifest: OperationManifest;
  readonly changedBy: string;
  readonly changedAt: string;
}

/** A change to store: the manifest was validated by {@link parseOperationManifest} already. */
export interface ManifestChange {
  readonly bureau: string;
  readonly app: string;
  readonly mode?: OperationsMode;
  readonly manifest: OperationManifest;
  readonly changedBy: string;
  readonly changedAt: Date;
}

/** Where operators' manifest changes are kept (`operation_manifests`, append-only). */
export interface OperationManifestStore {
  /** Appends the change and announces it on {@link OPERATIONS_CHANNEL}. */
  put(change: ManifestChange): Promise<StoredManifest>;
  /** Every app's latest change. */
  current(): Promise<readonly StoredManifest[]>;
  /** One app's changes, newest first (who and when). */
  history(bureau: string, app: string): Promise<readonly StoredManifest[]>;
}

/**
 * The manifest store over the gateway's database. A manifest read back is
 * validated again: a row that no longer checks out (edited behind the
 * gateway's back) fails loudly rather than registering documents nobody registered.
 */
export function createOperationManifestStore(db: Kysely<StoreSchema>): OperationManifestStore {
  return {
    async put(change) {
      return db.transaction().execute(async (trx) => {
        const row = await trx
          .insertInto('operation_manifests')
          .values({
            bureau: change.bureau,
            app: change.app,
            mode: change.mode ?? null,
            manifest: JSON.stringify(Object.fromEntries(change.manifest)),
            changed_by: change.changedBy,
            changed_at: change.changedAt,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await sql`select pg_notify(${OPERATIONS_CHANNEL}, ${String(row.seq)})`.execute(trx);
        return fromRow(row);
      });
    },
    async current() {
      const rows = await db
        .selectFrom('operation_manifests')
        .selectAll()
        .distinctOn(['bureau', 'app'])
        .orderBy('bureau')
        .orderBy('app')
        .orderBy('seq', 'desc')
        .execute();
      return rows.map(fromRow);
    },
    async history(bureau, app) {
      const rows = await db.selectFrom('operation_manifests').selectAll().where('bureau', '=', bureau).where('app', '=', app).orderBy('seq', 'desc').execute();
      return rows.map(fromRow);
    },
  };
}

type Row = { bureau: string; app: string; mode: string | null; manifest: Record<string, string>; changed_by: string; changed_at: Date };

function fromRow(row: Row): StoredManifest {
  const source = `stored manifest of ${row.bureau}/${row.app}`;
  const parsed = parseOperationManifest(row.manifest, source);
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  if (row.mode !== null && !isOperationsMode(row.mode)) throw new Error(`${source}: unknown mode ${JSON.stringify(row.mode)}`);
  return {
    bureau: row.bureau,
    app: row.app,
    ...(row.mode !== null ? { mode: row.mode } : {}),
    manifest: parsed.manifest,
    changedBy: row.changed_by,
    changedAt: new Date(row.changed_at).toISOString(),
  };
}
