import { describe, expect, it } from 'vitest';
import { DEFAULT_CITIZEN_ENTITY } from './decide.ts';
import { isPersonalOrHigh, logsOwnRead } from './own-reads.ts';
import { demoCatalogue } from '../test/support/policy-fixtures.ts';

describe('own reads: which of a bureau’s reads of its own data the access log keeps', () => {
  const catalogue = demoCatalogue();
  const field = (coordinate: string) => {
    const found = catalogue.fields.get(coordinate);
    if (!found) throw new Error(`${coordinate} is not in the demo catalogue`);
    return found;
  };

  it('names HIGH fields, fields of the person entity and fields masked as personal data', () => {
    expect(isPersonalOrHigh(field('Person.householdId'), DEFAULT_CITIZEN_ENTITY)).toBe(true);
    // LOW, but about a person.
    expect(isPersonalOrHigh(field('Person.gender'), DEFAULT_CITIZEN_ENTITY)).toBe(true);
    expect(isPersonalOrHigh(field('Enterprise.name'), DEFAULT_CITIZEN_ENTITY)).toBe(false);
    expect(isPersonalOrHigh({ ...field('Enterprise.name'), sensitivity: 'HIGH' }, DEFAULT_CITIZEN_ENTITY)).toBe(true);
    expect(isPersonalOrHigh({ ...field('Enterprise.name'), mask: 'PHONE' }, DEFAULT_CITIZEN_ENTITY)).toBe(true);
  });

  it('logs an own read that released such a field, unless the bureau turned it off; other bureaus’ fields are not own reads', () => {
    expect(logsOwnRead([{ coordinate: 'Person.gender' }], 'public-security', catalogue, DEFAULT_CITIZEN_ENTITY)).toBe(true);
    expect(logsOwnRead([{ coordinate: 'Enterprise.name' }], 'market-supervision', catalogue, DEFAULT_CITIZEN_ENTITY)).toBe(false);
    expect(logsOwnRead([{ coordinate: 'Person.gender' }], 'market-supervision', catalogue, DEFAULT_CITIZEN_ENTITY)).toBe(false);
    expect(logsOwnRead([], 'public-security', catalogue, DEFAULT_CITIZEN_ENTITY)).toBe(false);
    const bureaus = new Map(catalogue.bureaus);
    bureaus.set('public-security', { ...bureaus.get('public-security')!, logOwnReads: false });
    expect(logsOwnRead([{ coordinate: 'Person.householdId' }], 'public-security', { ...catalogue, bureaus }, DEFAULT_CITIZEN_ENTITY)).toBe(false);
  });
});
