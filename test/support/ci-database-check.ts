/**
 * Vitest's global setup (see `vitest.config.ts`): in CI, a run without
 * `DATABASE_URL` would report every PostgreSQL case as skipped and still
 * pass, so a CI whose database went missing would look green. There the run
 * stops before any test, saying why. Locally, without `CI`, the PostgreSQL
 * cases are skipped and counted as such in the summary.
 */
export function setup(): void {
  const problem = ciDatabaseProblem(process.env);
  if (problem) throw new Error(problem);
}

/**
 * Why this environment must not run the suite, or undefined when it may:
 * `CI` is set (to anything but `false` or `0`) and `DATABASE_URL` is not.
 */
export function ciDatabaseProblem(env: Readonly<Record<string, string | undefined>>): string | undefined {
  if (!runsInCi(env) || env.DATABASE_URL) return undefined;
  return (
    'CI is set but DATABASE_URL is not: every PostgreSQL case would be skipped. ' +
    'Point DATABASE_URL at a PostgreSQL server where the tests may create databases ' +
    '(e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres, as .ci/run does), ' +
    'or unset CI to run on embedded PGlite only.'
  );
}

/**
 * `CI` is set to anything but `false` or `0`. A test that needs something
 * beyond `DATABASE_URL` (PostgreSQL's server programs, say) skips itself
 * without it locally, and fails in CI instead, for the same reason as above.
 */
export function runsInCi(env: Readonly<Record<string, string | undefined>>): boolean {
  const ci = env.CI;
  return Boolean(ci) && ci !== 'false' && ci !== '0';
}
