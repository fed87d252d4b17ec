import { ROLES, type Role } from '../../../policies/principal.ts';
import { loadConfig } from '../../config/config.ts';
import { DEV_AUDIENCE, DEV_ISSUER, openDevIssuer } from '../../auth/dev-issuer.ts';
import { MAX_DEV_TOKEN_TTL_SECONDS, parseTtl } from '../../auth/token-ttl.ts';
import type { CliCommand } from '../cli-io.ts';
import { CliUsageError, parseCliArgs } from '../parse-cli-args.ts';

/** Life of a token when `--ttl` is not given. */
export const DEFAULT_TOKEN_TTL = '1h';

const USAGE = `usage: isthmus token --bureau <id> --app <client> [options]

Prints a token signed by the dev issuer (${DEV_ISSUER}, audience ${DEV_AUDIENCE}).
A gateway trusts it when it runs with ISTHMUS_DEV_ISSUER=true (the demo city
does) and the same key folder (ISTHMUS_KEYS_DIR, or beside ISTHMUS_DATA_DIR).

options:
  --bureau <id>          consumer bureau, e.g. market-supervision (required)
  --app <client>         client application, e.g. licensing-portal (required)
  --user <name>          the person at the keyboard
  --role <role>          ${ROLES.join(' | ')}; repeat for several
  --scope <scope>        a scope the token grants; repeat for several
  --citizen <idNumber>   the signed-in citizen (for SELF agreements)
  --purpose <purpose>    why the data is read
  --case <id>            the case file number
  --ttl <duration>       lifetime such as 30m, 1h, 7d (default ${DEFAULT_TOKEN_TTL}, at most ${MAX_DEV_TOKEN_TTL_SECONDS / 86_400}d)

example:
  curl -H "authorization: Bearer $(npx isthmus token --bureau market-supervision --app licensing-portal --scope hrss.social-insurance)" …
`;

/** `isthmus token`: prints a signed dev token, one line, for `Authorization: Bearer`. */
export const tokenCommand: CliCommand = async (argv, io) => {
  const usage = (problem: string): number => {
    io.stderr.write(`isthmus token: ${problem}\n\n${USAGE}`);
    return 2;
  };
  let values;
  try {
    ({ values } = parseCliArgs(argv, {
      bureau: { type: 'string' },
      app: { type: 'string' },
      user: { type: 'string' },
      role: { type: 'string', multiple: true },
      scope: { type: 'string', multiple: true },
      citizen: { type: 'string' },
      purpose: { type: 'string' },
      case: { type: 'string' },
      ttl: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    }));
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error;
    return usage(error.message);
  }
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  if (!values.bureau) return usage('--bureau is required');
  if (!values.app) return usage('--app is required');
  const roles = values.role ?? [];
  const unknownRole = roles.find((role) => !(ROLES as readonly string[]).includes(role));
  if (unknownRole !== undefined) return usage(`--role ${JSON.stringify(unknownRole)} is not one of ${ROLES.join(', ')}`);
  // `--scope "a b"` is accepted as two scopes, the way the claim itself reads.
  const scopes = (values.scope ?? []).flatMap((scope) => scope.split(/\s+/)).filter((scope) => scope !== '');
  for (const [flag, value] of [['--user', values.user], ['--citizen', values.citizen], ['--purpose', values.purpose], ['--case', values.case]] as const) {
    if (value !== undefined && value.trim() === '') return usage(`${flag} must not be empty`);
  }
  let ttl: number;
  try {
    ttl = parseTtl(values.ttl ?? DEFAULT_TOKEN_TTL);
  } catch (error) {
    return usage(`--${(error as Error).message}`);
  }

  const config = loadConfig(io.env);
  if (config.keysDir === undefined) {
    io.stderr.write('isthmus token: the dev issuer\'s key would live in memory only (ISTHMUS_DATA_DIR=:memory:), so no gateway would trust the token; set ISTHMUS_KEYS_DIR to the running gateway\'s key folder\n');
    return 1;
  }
  const issuer = await openDevIssuer({ keysDir: config.keysDir, signal: AbortSignal.timeout(10_000) });
  const token = await issuer.signDevToken({
    bureau: values.bureau,
    app: values.app,
    user: values.user,
    roles: roles as Role[],
    scopes,
    citizen: values.citizen,
    purpose: values.purpose,
    caseId: values.case,
    ttl,
  });
  io.stdout.write(`${token}\n`);
  return 0;
};
