import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config/config.ts';
import { DatabaseUrlInvalid, parseDatabaseUrl } from './database-url.ts';

describe('parseDatabaseUrl', () => {
  it('hands a one-host URL without target_session_attrs to pg untouched', () => {
    for (const url of ['postgres://u:p@db.internal:6432/isthmus?sslmode=require', 'postgresql://%2Fvar%2Frun%2Fpostgresql/isthmus', 'postgres:///isthmus?host=/tmp']) {
      expect(parseDatabaseUrl(url)).toEqual({ kind: 'direct', url });
    }
  });

  it('reads several hosts in order, with default ports and IPv6, and gives pg one single-host URL each', () => {
    const target = parseDatabaseUrl('postgres://gw:s%40cret@db1,db2:5433,[::1]:6000/isthmus?target_session_attrs=read-write&sslmode=require');
    expect(target.kind).toBe('hosts');
    if (target.kind !== 'hosts') return;
    expect(target.target).toBe('read-write');
    expect(target.hosts).toEqual([
      { host: 'db1', port: 5432 },
      { host: 'db2', port: 5433 },
      { host: '::1', port: 6000 },
    ]);
    expect([0, 1, 2].map((index) => target.urlFor(index))).toEqual([
      'postgres://gw:s%40cret@db1:5432/isthmus?sslmode=require',
      'postgres://gw:s%40cret@db2:5433/isthmus?sslmode=require',
      'postgres://gw:s%40cret@[::1]:6000/isthmus?sslmode=require',
    ]);
  });

  it('probes one host too when target_session_attrs asks for it, and takes several hosts without it (any)', () => {
    const one = parseDatabaseUrl('postgres://db1/isthmus?target_session_attrs=primary');
    expect(one).toMatchObject({ kind: 'hosts', target: 'primary', hosts: [{ host: 'db1', port: 5432 }] });
    const any = parseDatabaseUrl('postgres://db1,db2/isthmus');
    expect(any).toMatchObject({ kind: 'hosts', target: 'any' });
  });

  it.each([
    ['postgres://gw:hunter2@db1,db2/isthmus?target_session_attrs=standby', /target_session_attrs=standby would send the gateway to a server it cannot write/],
    ['postgres://gw:hunter2@db1,db2/isthmus?target_session_attrs=fastest', /target_session_attrs must be any, read-write or primary/],
    ['postgres://gw:hunter2@db1,:5433/isthmus', /host 2 of 2 has no usable name/],
    ['postgres://gw:hunter2@db1,db2:99999/isthmus', /the port of host 2 of 2 must be a number from 1 to 65535/],
    ['postgres://gw:hunter2@db1,db2:54x/isthmus', /the port of host 2 of 2/],
    ['postgres://gw:hunter2@db1,db2/isthmus?port=5433', /leave host, hostaddr and port out of the query/],
    ['mysql://gw:hunter2@db1/isthmus', /must be a postgres:\/\/ connection string/],
  ])('refuses %s with a message that keeps the password out', (url, message) => {
    let thrown: unknown;
    try {
      parseDatabaseUrl(url);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DatabaseUrlInvalid);
    expect((thrown as DatabaseUrlInvalid).code).toBe('DATABASE_URL_INVALID');
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as Error).message).not.toContain('hunter2');
  });

  it('stops start-up naming DATABASE_URL (and the migration URL), never echoing the password', () => {
    let thrown: unknown;
    try {
      loadConfig({ DATABASE_URL: 'postgres://gw:hunter2@db1,db2:0/isthmus', ISTHMUS_MIGRATION_DATABASE_URL: 'postgres://owner:hunter3@db1,db2/isthmus?target_session_attrs=read-only' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const problems = (thrown as ConfigError).problems;
    expect(problems).toContain('DATABASE_URL: the port of host 2 of 2 must be a number from 1 to 65535');
    expect(problems.some((problem) => problem.startsWith('ISTHMUS_MIGRATION_DATABASE_URL: target_session_attrs=read-only'))).toBe(true);
    expect(JSON.stringify(problems)).not.toMatch(/hunter/);
    expect(loadConfig({ DATABASE_URL: 'postgres://gw@db1:5432,db2:5432/isthmus?target_session_attrs=read-write' }).databaseUrl).toBe('postgres://gw@db1:5432,db2:5432/isthmus?target_session_attrs=read-write');
  });
});
