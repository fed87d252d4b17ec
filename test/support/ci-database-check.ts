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
  const ci = env.CI;
  if (!ci || ci === 'false' || ci === '0' || env.DATABASE_URL) return undefined;
  return (
    'CI is set but DATABASE_URL is not: every PostgreSQL case would be skipped. ' +
    'Point DATABASE_URL at a PostgreSQL server where the tests may create databases ' +
    '(e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres, as .ci/run does), ' +
    'or unset CI to run on embedded PGlite only.'
  );
}
