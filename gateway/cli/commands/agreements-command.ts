import type { ParseArgsConfig } from 'node:util';
import type { CliCommand, CliIo } from '../cli-io.ts';
import { CliUsageError, parseCliArgs } from '../parse-cli-args.ts';
import { neutralizeText } from '../../../policies/display-safe-text.ts';
import { formatQuota } from '../../quotas/format-quota.ts';
import { formatPinnedOperations } from './format-pinned-operations.ts';

/** Where the CLI finds the gateway when neither `--url` nor `ISTHMUS_URL` says. */
export const DEFAULT_GATEWAY_URL = 'http://127.0.0.1:4000';
/** Where the gateway mounts the admin API. */
export const ADMIN_API_PATH = '/admin/api';
/** How long one call to the admin API may take. */
export const DEFAULT_CLI_TIMEOUT_MS = 10_000;

type Options = NonNullable<ParseArgsConfig['options']>;
type Values = Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;

const GLOBAL: Options = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

/** Each subcommand: its positional arguments, its own options, and what it does with them. */
interface Subcommand {
  readonly usage: string;
  readonly summary: string;
  readonly positionals: readonly string[];
  readonly options: Options;
  run(call: AdminCall, values: Values, positionals: readonly string[], io: CliIo): Promise<number>;
}

const SUBCOMMANDS: Readonly<Record<string, Subcommand>> = {
  list: {
    usage: 'list [--status S] [--provider B] [--consumer B] [--overdue] [--limit N] [--cursor C]',
    summary: 'agreements your bureau provides or consumes (all, for operators)',
    positionals: [],
    options: { status: { type: 'string' }, provider: { type: 'string' }, consumer: { type: 'string' }, overdue: { type: 'boolean' }, limit: { type: 'string' }, cursor: { type: 'string' } },
    async run(call, values, _positionals, io) {
      const query = queryOf({ status: values.status, provider: values.provider, consumer: values.consumer, overdue: values.overdue ? 'true' : undefined, limit: values.limit, cursor: values.cursor });
      const reply = await call('GET', `/agreements${query}`);
      if (!reply.ok) return reply.exit;
      if (values.json) return printJson(io, reply.body);
      const rows = (reply.body.agreements as any[]).map((a) => [
        a.id,
        a.effectiveStatus ?? a.status,
        `${a.consumerBureau}/${a.consumerApp}`,
        a.providerBureau,
        a.purpose,
        day(a.validUntil),
        a.status === 'PENDING' ? `${day(a.replyBy)}${a.overdue ? ' OVERDUE' : ''}` : '',
      ]);
      io.stdout.write(rows.length === 0 ? 'no agreements\n' : table(['ID', 'STATUS', 'CONSUMER', 'PROVIDER', 'PURPOSE', 'VALID UNTIL', 'REPLY BY'], rows));
      if (reply.body.nextCursor) io.stdout.write(`more: --cursor ${reply.body.nextCursor}\n`);
      return 0;
    },
  },
  show: {
    usage: 'show <id>',
    summary: 'one agreement with its history',
    positionals: ['id'],
    options: {},
    async run(call, values, [id], io) {
      const reply = await call('GET', `/agreements/${encodeURIComponent(id!)}`);
      if (!reply.ok) return reply.exit;
      if (values.json) return printJson(io, reply.body);
      const a = reply.body.agreement;
      const lines: [string, string | undefined][] = [
        ['id', a.id],
        ['status', a.effectiveStatus !== a.status ? `${a.status} (${a.effectiveStatus} now)` : a.status],
        ['version', String(a.version)],
        ['consumer', `${a.consumerBureau} / ${a.consumerApp}`],
        ['provider', a.providerBureau],
        ['purpose', a.purpose],
        ['legal basis', a.legalBasis],
        ['row scope', a.rowScope],
        ['token scope', a.scope],
        ['valid', `${a.validFrom} – ${a.validUntil}`],
        ['requested by', a.requestedBy],
        ['approved by', a.approvedBy],
        ['reply by', a.replyBy ? `${a.replyBy}${a.overdue ? ' (OVERDUE)' : ''}` : undefined],
        ['rejected because', a.rejectionReason],
        ['revoked because', a.revocationReason],
        ['disclosure delay', a.disclosureDelay ? `${a.disclosureDelay.days} days: ${a.disclosureDelay.legalReason}` : undefined],
        ['quota', formatQuota(a.quota, reply.body.quotaUse)],
        ['case id', a.caseId ? `required${a.caseId.format === undefined ? '' : `, format ${a.caseId.format}`}` : undefined],
      ];
      // Each stored value on its own line, neutralized: a line break or an escape sequence in it cannot forge or hide a line.
      io.stdout.write(lines.filter(([, value]) => value !== undefined).map(([key, value]) => `${`${key}:`.padEnd(18)}${shown(value)}\n`).join(''));
      io.stdout.write(`fields:\n${(a.fields as string[]).map((field) => `  ${shown(field)}${a.masks[field] ? ` (mask ${shown(a.masks[field])})` : ''}\n`).join('')}`);
      io.stdout.write(formatPinnedOperations(a.operations, reply.body.pinnedOperations));
      io.stdout.write(`history:\n${eventTable(reply.body.events)}`);
      return 0;
    },
  },
  request: {
    usage:
      'request --provider B --app A --fields T.f,T.g --purpose P --legal-basis TEXT --row-scope ANY|SELF --until ISO\n' +
      '        [--from ISO] [--mask T.f=KIND]… [--scope S] [--disclosure-days N --disclosure-reason TEXT]\n' +
      '        [--case-id-required [--case-id-format PATTERN]] [--operation HASH]… [--submit]',
    summary: 'request an agreement for your bureau (a draft, or --submit it for decision)',
    positionals: [],
    options: {
      provider: { type: 'string' },
      app: { type: 'string' },
      fields: { type: 'string' },
      purpose: { type: 'string' },
      'legal-basis': { type: 'string' },
      'row-scope': { type: 'string' },
      from: { type: 'string' },
      until: { type: 'string' },
      mask: { type: 'string', multiple: true },
      scope: { type: 'string' },
      'disclosure-days': { type: 'string' },
      'disclosure-reason': { type: 'string' },
      'case-id-required': { type: 'boolean' },
      'case-id-format': { type: 'string' },
      operation: { type: 'string', multiple: true },
      submit: { type: 'boolean' },
    },
    async run(call, values, _positionals, io) {
      for (const flag of ['provider', 'app', 'fields', 'purpose', 'legal-basis', 'row-scope', 'until']) {
        if (typeof values[flag] !== 'string') throw new CliUsageError(`--${flag} is required`);
      }
      const masks: Record<string, string> = {};
      for (const mask of (values.mask as string[] | undefined) ?? []) {
        const [coordinate, kind] = mask.split('=');
        if (!coordinate || !kind) throw new CliUsageError(`--mask takes Type.field=KIND, e.g. Person.address=ADDRESS (got '${mask}')`);
        masks[coordinate] = kind;
      }
      const days = values['disclosure-days'];
      const reason = values['disclosure-reason'];
      if ((days === undefined) !== (reason === undefined)) throw new CliUsageError('--disclosure-days and --disclosure-reason go together');
      const caseFormat = values['case-id-format'];
      if (caseFormat !== undefined && !values['case-id-required']) throw new CliUsageError('--case-id-format needs --case-id-required');
      const body = {
        consumerApp: values.app,
        providerBureau: values.provider,
        fields: String(values.fields)
          .split(',')
          .map((field) => field.trim())
          .filter(Boolean),
        masks,
        purpose: values.purpose,
        legalBasis: values['legal-basis'],
        rowScope: values['row-scope'],
        validFrom: values.from ?? new Date().toISOString(),
        validUntil: values.until,
        ...(values.scope === undefined ? {} : { scope: values.scope }),
        ...(days === undefined ? {} : { disclosureDelay: { days: wholeNumber(String(days), '--disclosure-days'), legalReason: reason } }),
        ...(values['case-id-required'] ? { caseId: { required: true, ...(caseFormat === undefined ? {} : { format: caseFormat }) } } : {}),
        // Each --operation pins one registered document of the app, by its hash.
        ...(values.operation === undefined ? {} : { operations: values.operation }),
        ...(values.submit ? { submit: true } : {}),
      };
      const reply = await call('POST', '/agreements', body);
      if (!reply.ok) return reply.exit;
      return printOutcome(io, values, reply.body);
    },
  },
  submit: transitionCommand('submit', 'submit a draft for the provider’s decision', false),
  approve: transitionCommand('approve', 'approve a pending request (a data officer of the provider)', false),
  reject: transitionCommand('reject', 'reject a pending request, with reasons the requester will read', true),
  revoke: transitionCommand('revoke', 'revoke an agreement in force, with reasons the requester will read', true),
  audit: {
    usage: 'audit [--actor USER] [--agreement ID] [--bureau B] [--from ISO] [--until ISO] [--limit N] [--cursor C]',
    summary: 'who did what to which agreement, newest first',
    positionals: [],
    options: { actor: { type: 'string' }, agreement: { type: 'string' }, bureau: { type: 'string' }, from: { type: 'string' }, until: { type: 'string' }, limit: { type: 'string' }, cursor: { type: 'string' } },
    async run(call, values, _positionals, io) {
      const query = queryOf({ actor: values.actor, agreement: values.agreement, bureau: values.bureau, from: values.from, until: values.until, limit: values.limit, cursor: values.cursor });
      const reply = await call('GET', `/audit${query}`);
      if (!reply.ok) return reply.exit;
      if (values.json) return printJson(io, reply.body);
      io.stdout.write(eventTable(reply.body.events, true));
      if (reply.body.nextCursor) io.stdout.write(`more: --cursor ${reply.body.nextCursor}\n`);
      return 0;
    },
  },
};

function transitionCommand(step: string, summary: string, needsReason: boolean): Subcommand {
  return {
    usage: `${step} <id>${needsReason ? ' --reason TEXT' : ''} [--version N]`,
    summary,
    positionals: ['id'],
    options: { version: { type: 'string' }, ...(needsReason ? { reason: { type: 'string' } } : {}) },
    async run(call, values, [id], io) {
      if (needsReason && typeof values.reason !== 'string') throw new CliUsageError('--reason is required: the requester reads it');
      const body = {
        ...(needsReason ? { reason: values.reason } : {}),
        ...(values.version === undefined ? {} : { version: wholeNumber(String(values.version), '--version') }),
      };
      const reply = await call('POST', `/agreements/${encodeURIComponent(id!)}/${step}`, body);
      if (!reply.ok) return reply.exit;
      return printOutcome(io, values, reply.body);
    },
  };
}

function usage(): string {
  return `usage: isthmus agreements <subcommand> [options]

subcommands:
${Object.values(SUBCOMMANDS)
  .map((command) => `  ${command.usage}\n      ${command.summary}`)
  .join('\n')}

options of every subcommand:
  --url URL      the gateway (default ISTHMUS_URL, else ${DEFAULT_GATEWAY_URL}); the admin API is under ${ADMIN_API_PATH}
  --token TOKEN  bearer token (default ISTHMUS_TOKEN)
  --json         print the server's JSON instead of a table

exit codes: 0 done, 1 refused by the server (its code and message are printed), 2 bad usage
`;
}

/**
 * `isthmus agreements …`: the admin API over HTTP, for data officers and
 * developers at a terminal and for scripts (`--json`, exit codes).
 */
export const agreementsCommand: CliCommand = async (argv, io) => {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = SUBCOMMANDS[name];
  if (!command) {
    io.stderr.write(`isthmus agreements: ${name.startsWith('-') ? `unknown option '${name}'` : `unknown subcommand '${name}'`}\n\n${usage()}`);
    return 2;
  }
  try {
    const { values, positionals } = parseCliArgs(rest, { ...GLOBAL, ...command.options }, true);
    if (values.help) {
      io.stdout.write(`usage: isthmus agreements ${command.usage}\n  ${command.summary}\n`);
      return 0;
    }
    if (positionals.length !== command.positionals.length) {
      throw new CliUsageError(command.positionals.length === 0 ? `unexpected argument '${positionals[0]}'` : `expected <${command.positionals.join('> <')}>`);
    }
    return await command.run(connectAdmin(values, io), values, positionals, io);
  } catch (error) {
    if (error instanceof CliUsageError) {
      io.stderr.write(`isthmus agreements ${name}: ${(error as Error).message}\nusage: isthmus agreements ${command.usage}\n`);
      return 2;
    }
    throw error;
  }
};

/**
 * The admin API of the gateway that `--url` (else `ISTHMUS_URL`, else
 * {@link DEFAULT_GATEWAY_URL}) names, called with `--token` (else
 * `ISTHMUS_TOKEN`). Throws {@link CliUsageError} without a token or with a
 * URL that is not one.
 */
export function connectAdmin(values: Values, io: CliIo, command = 'agreements'): AdminCall {
  const token = (values.token as string | undefined) ?? io.env.ISTHMUS_TOKEN;
  if (!token) throw new CliUsageError('no token: pass --token or set ISTHMUS_TOKEN');
  const base = (values.url as string | undefined) ?? io.env.ISTHMUS_URL ?? DEFAULT_GATEWAY_URL;
  let root: URL;
  try {
    root = new URL(ADMIN_API_PATH, base);
  } catch {
    throw new CliUsageError(`--url is not a URL: ${base}`);
  }
  return adminCall(root, token, io, command);
}

/** One call's outcome: the body of a 2xx, or the exit code after the refusal was printed. */
export type CallResult = { readonly ok: true; readonly body: any } | { readonly ok: false; readonly exit: number };
/** One call to the admin API: a refusal is printed (its code, message, field and rule) and answered as exit code 1. */
export type AdminCall = (method: 'GET' | 'POST', path: string, body?: unknown) => Promise<CallResult>;

/** Calls the admin API under `root` with a bearer token, bounded by {@link DEFAULT_CLI_TIMEOUT_MS}; `command` names the CLI command in its messages. */
export function adminCall(root: URL, token: string, io: CliIo, command = 'agreements'): AdminCall {
  return async (method, path, body) => {
    const url = `${root.href.replace(/\/$/, '')}${path}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(DEFAULT_CLI_TIMEOUT_MS),
      });
    } catch (error) {
      const why = error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${DEFAULT_CLI_TIMEOUT_MS} ms` : 'connection failed';
      io.stderr.write(`isthmus ${command}: cannot reach the gateway at ${root.origin} (${why})\n`);
      return { ok: false, exit: 1 };
    }
    const text = await response.text();
    let parsed: any;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = undefined;
    }
    if (response.ok && parsed !== undefined) return { ok: true, body: parsed };
    // The admin API answers in the shape of GraphQL errors: { errors: [{ message, extensions: { code, field?, rule? } }] }.
    const error = parsed?.errors?.[0];
    const extensions = error?.extensions;
    if (extensions && typeof extensions.code === 'string') {
      const details = [extensions.field ? `field ${extensions.field}` : '', extensions.rule ? `rule ${extensions.rule}` : ''].filter(Boolean).join(', ');
      io.stderr.write(`${shown(extensions.code)}: ${shown(error.message)}${details ? ` (${shown(details)})` : ''}\n`);
    } else {
      io.stderr.write(`isthmus ${command}: the gateway answered HTTP ${response.status} without an error body\n`);
    }
    return { ok: false, exit: 1 };
  };
}

function printOutcome(io: CliIo, values: Values, body: any): number {
  if (values.json) return printJson(io, body);
  const a = body.agreement;
  const next = a.status === 'PENDING' ? `; the provider should reply by ${a.replyBy}` : '';
  io.stdout.write(`${shown(a.id)} is ${shown(a.status)} (version ${shown(a.version)})${shown(next)}\n`);
  return 0;
}

/** Prints a server's JSON answer as it came, indented. */
export function printJson(io: CliIo, body: unknown): number {
  io.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
  return 0;
}

function eventTable(events: readonly any[], withAgreement = false): string {
  if (events.length === 0) return '  no events\n';
  const rows = events.map((event) => [
    event.at,
    ...(withAgreement ? [event.agreementId] : []),
    String(event.version),
    event.action,
    event.actor.user,
    event.actor.bureau,
    event.reason ?? '',
  ]);
  return table(['AT', ...(withAgreement ? ['AGREEMENT'] : []), 'V', 'ACTION', 'WHO', 'BUREAU', 'REASON'], rows);
}

/** Columns padded to their widest cell; the last column is not padded. Cells are neutralized (`shown`): a stored value cannot forge a row. */
export function table(header: readonly string[], raw: readonly (readonly string[])[]): string {
  const rows = raw.map((row) => row.map(shown));
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  return `${[header, ...rows].map(line).join('\n')}\n`;
}

/** A value from the gateway as one inert line of text: control characters, line breaks and bidirectional controls written as `\uXXXX`. */
export function shown(value: unknown): string {
  return neutralizeText(value === undefined || value === null ? '' : String(value));
}

function queryOf(parameters: Record<string, unknown>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(parameters)) if (typeof value === 'string') query.set(key, value);
  const text = query.toString();
  return text ? `?${text}` : '';
}

function day(iso: string | undefined): string {
  return iso ? iso.slice(0, 10) : '';
}

function wholeNumber(value: string, flag: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number)) throw new CliUsageError(`${flag} must be a whole number`);
  return number;
}
