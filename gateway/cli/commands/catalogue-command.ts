import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliCommand, CliIo } from '../cli-io.ts';
import { CliUsageError, parseCliArgs } from '../parse-cli-args.ts';
import { connectAdmin, DEFAULT_GATEWAY_URL, printJson, table } from './agreements-command.ts';
import { neutralizeText } from '../../../policies/display-safe-text.ts';

/** Where the schemas are when neither `--dir` nor `ISTHMUS_SCHEMAS_DIR` says: the repository's own, as the gateway's config defaults. */
const DEFAULT_SCHEMAS_DIR = fileURLToPath(new URL('../../../schemas/', import.meta.url));

const REMOTE = { url: { type: 'string' }, token: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

const USAGE = `usage: isthmus catalogue <subcommand> [options]

subcommands:
  check [--dir DIR]
      validate the schemas folder as the gateway does at start-up, without starting one:
      one line per problem (file:field: message); exit 0 when valid, 1 when not
  show [bureau] [--json]
      the catalogue a running gateway serves: each field with its category, sensitivity,
      mask, and the agreements in force (that you may see) which share it
  explain <file|-> [--purpose P] [--variables JSON] [--operation NAME] [--draft LEGAL-BASIS] [--json]
      what your token would get for each field of the query in <file> (- reads stdin), which
      agreements are missing, which are already requested (drafted or pending), and which
      exist but need a scope your token lacks; --draft files the missing ones as DRAFT requests

show and explain ask a running gateway (its admin API):
  --url URL      the gateway (default ISTHMUS_URL, else ${DEFAULT_GATEWAY_URL})
  --token TOKEN  bearer token (default ISTHMUS_TOKEN)

exit codes: 0 done, 1 invalid or refused (the reasons are printed), 2 bad usage
`;

/**
 * `isthmus catalogue check|show|explain`. `check` reads the folder on this
 * machine, the same validation the gateway runs at start-up and on a reload.
 * `show` and `explain` ask a running gateway over its admin API, as
 * `isthmus agreements` does: what it serves is what counts (it may have been
 * reloaded since the folder here was copied), the agreements in force are its
 * own, and the token decides what the caller may see.
 */
export const catalogueCommand: CliCommand = async (argv, io) => {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  try {
    switch (name) {
      case 'check':
        return await check(rest, io);
      case 'show':
        return await show(rest, io);
      case 'explain':
        return await explain(rest, io);
      default:
        io.stderr.write(`isthmus catalogue: ${name.startsWith('-') ? `unknown option '${name}'` : `unknown subcommand '${name}'`}\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof CliUsageError) {
      io.stderr.write(`isthmus catalogue ${name}: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    throw error;
  }
};

async function check(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCliArgs(argv, { dir: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) return help(io);
  const dir = resolve(values.dir ?? (io.env.ISTHMUS_SCHEMAS_DIR || DEFAULT_SCHEMAS_DIR));
  // Loaded only now: bad usage is answered without graphql and the catalogue loader.
  const { loadCatalogue } = await import('../../catalogue/load-catalogue.ts');
  const { CatalogueError } = await import('../../catalogue/catalogue-error.ts');
  try {
    const { catalogue } = loadCatalogue({ dir, env: io.env });
    io.stdout.write(`${dir}: valid: ${catalogue.bureaus.size} bureaus, ${catalogue.fields.size} fields\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof CatalogueError)) throw error;
    for (const problem of error.problems) io.stdout.write(`${problem.file}${problem.at ? `:${problem.at}` : ''}: ${problem.message}\n`);
    io.stderr.write(`isthmus catalogue check: ${dir}: ${error.problems.length} problem${error.problems.length === 1 ? '' : 's'} (${error.code})\n`);
    return 1;
  }
}

async function show(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCliArgs(argv, REMOTE, true);
  if (values.help) return help(io);
  if (positionals.length > 1) throw new CliUsageError(`unexpected argument '${positionals[1]}'`);
  const [bureau] = positionals;
  const call = connectAdmin(values, io, 'catalogue');
  const reply = await call('GET', `/catalogue${bureau === undefined ? '' : `?bureau=${encodeURIComponent(bureau)}`}`);
  if (!reply.ok) return reply.exit;
  if (values.json) return printJson(io, reply.body);
  const rows = (reply.body.fields as any[]).map((field) => [
    field.coordinate,
    field.bureau,
    field.category,
    field.sensitivity,
    field.mask ?? '',
    (field.agreements as any[]).map((agreement) => `${agreement.id} (${agreement.consumerBureau}/${agreement.consumerApp}${agreement.mask ? `, ${agreement.mask}` : ''})`).join(', '),
  ]);
  io.stdout.write(rows.length === 0 ? 'no fields\n' : table(['FIELD', 'BUREAU', 'CATEGORY', 'SENSITIVITY', 'MASK', 'SHARED UNDER'], rows));
  return 0;
}

async function explain(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCliArgs(
    argv,
    { ...REMOTE, purpose: { type: 'string' }, variables: { type: 'string' }, operation: { type: 'string' }, draft: { type: 'string' } },
    true,
  );
  if (values.help) return help(io);
  if (positionals.length !== 1) throw new CliUsageError('expected <file> with the query, or - to read it from stdin');
  const query = readQuery(positionals[0]!);
  let variables: unknown;
  if (values.variables !== undefined) {
    try {
      variables = JSON.parse(values.variables);
    } catch {
      throw new CliUsageError('--variables must be a JSON object');
    }
    if (typeof variables !== 'object' || variables === null || Array.isArray(variables)) throw new CliUsageError('--variables must be a JSON object');
  }
  const call = connectAdmin(values, io, 'catalogue');
  const reply = await call('POST', '/explain', {
    query,
    ...(variables === undefined ? {} : { variables }),
    ...(values.operation === undefined ? {} : { operationName: values.operation }),
    ...(values.purpose === undefined ? {} : { purpose: values.purpose }),
    ...(values.draft === undefined ? {} : { draft: { legalBasis: values.draft } }),
  });
  if (!reply.ok) return reply.exit;
  if (values.json) return printJson(io, reply.body);
  const report = reply.body.explain;
  io.stdout.write(`outcome: ${report.outcome}${report.purpose ? ` (purpose ${report.purpose})` : ''}\n`);
  const rows = (report.fields as any[]).map((field) => [
    field.path,
    field.bureau ?? '',
    field.category ?? '',
    field.decision === 'mask' ? `mask ${field.mask}` : field.decision,
    field.agreementId ?? field.reason ?? '',
  ]);
  io.stdout.write(table(['PATH', 'BUREAU', 'CATEGORY', 'DECISION', 'AGREEMENT / REASON'], rows));
  for (const existing of report.scopeMissing as any[]) {
    io.stdout.write(`in force, but your token lacks its scope "${existing.scope}": ${existing.agreementId} (${existing.providerBureau}: ${existing.fields.join(', ')})\n`);
  }
  for (const existing of (report.caseIdNeeded as any[] | undefined) ?? []) {
    const format = existing.caseId.format ? ` of the format ${neutralizeText(existing.caseId.format)}` : '';
    io.stdout.write(`in force, for reads that name their case file: ${existing.agreementId} (${existing.providerBureau}: ${existing.fields.join(', ')}) — send x-isthmus-case-id${format}\n`);
  }
  for (const existing of report.underway as any[]) {
    io.stdout.write(`already requested, ${existing.status}: ${existing.agreementId} (${existing.providerBureau}: ${existing.fields.join(', ')}) — not filed again\n`);
  }
  for (const missing of report.missing as any[]) {
    io.stdout.write(`missing: an agreement with ${missing.providerBureau} for ${missing.fields.join(', ')}\n`);
  }
  for (const draft of (reply.body.drafts as any[] | undefined) ?? []) io.stdout.write(`filed ${draft.id} (DRAFT) with ${draft.providerBureau}; submit it with: isthmus agreements submit ${draft.id}\n`);
  return 0;
}

function help(io: CliIo): number {
  io.stdout.write(USAGE);
  return 0;
}

/** The query from a file, or from stdin for `-`. */
function readQuery(source: string): string {
  try {
    return readFileSync(source === '-' ? 0 : source, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliUsageError(`cannot read the query from ${source === '-' ? 'stdin' : source}${code ? ` (${code})` : ''}`);
  }
}
