import type { CliCommand } from '../cli-io.ts';
import { CliUsageError, parseCliArgs } from '../parse-cli-args.ts';
import { loadConfig } from '../../config/config.ts';
import { BureauImportError } from '../../bureau-import/bureau-import-error.ts';
import { importBureau } from '../../bureau-import/import-bureau.ts';
import { importGraphql } from '../../bureau-import/import-graphql.ts';
import { importOpenapi } from '../../bureau-import/import-openapi.ts';
import { importPostgres } from '../../bureau-import/import-postgres.ts';
import type { ImportedBureau } from '../../bureau-import/imported-bureau.ts';

/** How long an import waits for the bureau's system: it is a one-off command, not a request path. */
export const DEFAULT_IMPORT_TIMEOUT_MS = 30_000;

const USAGE = `usage: isthmus bureau import graphql  --bureau <id> --url <GraphQL endpoint> [--out <dir>]
       isthmus bureau import openapi  --bureau <id> --file <openapi.json|yaml> [--url <API base URL>] [--out <dir>]
       isthmus bureau import postgres --bureau <id> --url <postgres://…> [--schema <name>] [--tables a,b] [--out <dir>]

Writes <dir>/<id>/schema.graphql, manifest.json and import-report.md from the
bureau's existing system (<dir> defaults to ISTHMUS_SCHEMAS_DIR, the configured
schemas folder). Every field starts CONDITIONAL with a suggested sensitivity and
mask; a re-import shows what changed and keeps every @share already in the file.
Nothing is written when the import fails (exit 1, with the place named).
  --name-zh, --name-en   the bureau's display names for the manifest
  --timeout-ms           how long to wait for the system (default ${DEFAULT_IMPORT_TIMEOUT_MS})
`;

/** `isthmus bureau import <graphql|openapi|postgres>`: connect a bureau's existing system. */
export const bureauCommand: CliCommand = async (argv, io) => {
  const [sub, kind, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || kind === '--help' || kind === '-h') {
    io.stdout.write(USAGE);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'import') throw new CliUsageError(`unknown subcommand '${sub}'`);
  if (kind !== 'graphql' && kind !== 'openapi' && kind !== 'postgres') throw new CliUsageError(`import what? graphql, openapi or postgres, not '${kind ?? ''}'`);
  const { values } = parseCliArgs(rest, {
    bureau: { type: 'string' },
    url: { type: 'string' },
    file: { type: 'string' },
    schema: { type: 'string' },
    tables: { type: 'string' },
    out: { type: 'string' },
    'name-zh': { type: 'string' },
    'name-en': { type: 'string' },
    'timeout-ms': { type: 'string' },
  });
  if (!values.bureau || !/^[a-z][a-z0-9-]*$/.test(values.bureau)) throw new CliUsageError('--bureau <id> is required: lower-case letters, digits and dashes');
  if (kind !== 'openapi' && !values.url) throw new CliUsageError('--url is required');
  if (kind === 'openapi' && !values.file) throw new CliUsageError('--file is required');
  const timeoutMs = values['timeout-ms'] === undefined ? DEFAULT_IMPORT_TIMEOUT_MS : Number(values['timeout-ms']);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new CliUsageError('--timeout-ms must be a positive whole number');
  const dir = values.out ?? loadConfig(io.env).schemasDir;

  let imported: ImportedBureau;
  try {
    const signal = AbortSignal.timeout(timeoutMs);
    imported =
      kind === 'graphql'
        ? await importGraphql({ url: values.url!, signal })
        : kind === 'openapi'
          ? await importOpenapi({ file: values.file!, ...(values.url ? { url: values.url } : {}) })
          : await importPostgres({
              url: values.url!,
              ...(values.schema ? { schema: values.schema } : {}),
              ...(values.tables ? { tables: values.tables.split(',').map((table) => table.trim()).filter(Boolean) } : {}),
              timeoutMs,
            });
    const names = { zh: values['name-zh'] ?? values.bureau, en: values['name-en'] ?? values.bureau };
    const result = importBureau(imported, { bureau: values.bureau, dir, names });
    io.stdout.write(`wrote ${dir}/${values.bureau}/ (schema.graphql, manifest.json, import-report.md)\n\n${result.report}`);
    return 0;
  } catch (error) {
    if (!(error instanceof BureauImportError)) throw error;
    io.stderr.write(`isthmus bureau import ${kind}: ${error.message} (${error.code}); nothing was written\n`);
    return 1;
  }
};
