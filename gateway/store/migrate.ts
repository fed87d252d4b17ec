import { Migrator, type Kysely } from 'kysely';
import { migrationProvider } from './migrations/index.ts';
import { StoreError } from './store-error.ts';

function migrator(db: Kysely<any>): Migrator {
  return new Migrator({ db, provider: migrationProvider });
}

/** Applies every pending migration; a failed one is rolled back whole and stops start-up. */
export async function migrateToLatest(db: Kysely<any>): Promise<readonly string[]> {
  const { error, results } = await migrator(db).migrateToLatest();
  if (error) throw new StoreError('MIGRATION_FAILED', 'a database migration failed', { cause: error });
  return (results ?? []).filter((result) => result.status === 'Success').map((result) => result.migrationName);
}

/** Names of the migrations not yet applied, for the start-up check when migrations are run separately. */
export async function pendingMigrations(db: Kysely<any>): Promise<readonly string[]> {
  const migrations = await migrator(db).getMigrations();
  return migrations.filter((migration) => migration.executedAt === undefined).map((migration) => migration.name);
}
