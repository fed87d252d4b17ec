import { describe, expect, it } from 'vitest';
import { ciDatabaseProblem } from './ci-database-check.ts';

describe('ciDatabaseProblem', () => {
  it('refuses CI without DATABASE_URL, saying what to set', () => {
    for (const ci of ['true', '1', 'yes']) expect(ciDatabaseProblem({ CI: ci }), `CI=${ci}`).toMatch(/^CI is set but DATABASE_URL is not: .*DATABASE_URL=postgres:\/\//);
    expect(ciDatabaseProblem({ CI: 'true', DATABASE_URL: '' })).toBeDefined();
  });

  it('lets CI with DATABASE_URL run, and any run outside CI', () => {
    expect(ciDatabaseProblem({ CI: 'true', DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres' })).toBeUndefined();
    expect(ciDatabaseProblem({})).toBeUndefined();
    expect(ciDatabaseProblem({ CI: '' })).toBeUndefined();
    expect(ciDatabaseProblem({ CI: 'false' })).toBeUndefined();
    expect(ciDatabaseProblem({ CI: '0' })).toBeUndefined();
  });
});
