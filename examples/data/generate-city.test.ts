import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { demoCity, generateCity, type City } from './generate-city.ts';
import { isValidIdNumber } from './gb11643.ts';
import { isValidCreditCode } from './gb32100.ts';
import { createMulberry32 } from './mulberry32.ts';

const DISTRICTS: Record<string, string> = {
  '330402': '南湖区',
  '330411': '秀洲区',
  '330421': '嘉善县',
  '330424': '海盐县',
  '330481': '海宁市',
  '330482': '平湖市',
  '330483': '桐乡市',
};

function fingerprint(city: City): string {
  return createHash('sha256').update(JSON.stringify(city)).digest('hex');
}

function addYears(isoDay: string, years: number): string {
  return `${Number(isoDay.slice(0, 4)) + years}${isoDay.slice(4)}`;
}

describe('generateCity', () => {
  const city = generateCity();
  const personsById = new Map(city.persons.map((person) => [person.idNumber, person]));

  it('is deterministic: the same seed gives the same city, another seed another', () => {
    expect(fingerprint(generateCity())).toBe(fingerprint(city));
    expect(fingerprint(generateCity({ seed: 1, persons: 300, enterprises: 50 }))).toBe(
      fingerprint(generateCity({ seed: 1, persons: 300, enterprises: 50 })),
    );
    expect(fingerprint(generateCity({ seed: 2 }))).not.toBe(fingerprint(city));
  });

  it('has 1,000 persons, 200 enterprises and insurance for about 80% of persons by default', () => {
    expect(city.persons).toHaveLength(1_000);
    expect(city.enterprises).toHaveLength(200);
    expect(city.insuranceAccounts.length).toBeGreaterThan(720);
    expect(city.insuranceAccounts.length).toBeLessThan(880);
  });

  it('honours the requested counts', () => {
    const small = generateCity({ seed: 9, persons: 37, enterprises: 5 });
    expect(small.persons).toHaveLength(37);
    expect(small.enterprises).toHaveLength(5);
  });

  it('gives every person a unique, valid identity number that agrees with birth date, gender and address', () => {
    expect(personsById.size).toBe(city.persons.length);
    for (const person of city.persons) {
      expect(isValidIdNumber(person.idNumber), person.idNumber).toBe(true);
      const district = DISTRICTS[person.idNumber.slice(0, 6)];
      expect(district, person.idNumber).toBeDefined();
      expect(person.idNumber.slice(6, 14)).toBe(person.birthDate.replaceAll('-', ''));
      expect(person.birthDate >= '1940-01-01' && person.birthDate <= '2008-12-31', person.birthDate).toBe(true);
      expect(person.gender).toBe(Number(person.idNumber[16]) % 2 === 1 ? 'MALE' : 'FEMALE');
      expect(person.address.startsWith(`浙江省嘉兴市${district}`), person.address).toBe(true);
      expect(person.address).toMatch(/号(\d+幢\d+室)?$/);
      expect(person.householdId).toMatch(/^H\d{13}$/);
      expect(person.householdId.slice(1, 7)).toBe(person.idNumber.slice(0, 6));
      expect(person.name).toMatch(/^[\u4e00-\u9fff]{2,3}$/);
    }
  });

  it('groups persons into households that share an address', () => {
    const households = Map.groupBy(city.persons, (person) => person.householdId);
    expect(households.size).toBeLessThan(city.persons.length * 0.7);
    for (const members of households.values()) {
      expect(new Set(members.map((member) => member.address)).size).toBe(1);
    }
  });

  it('gives every enterprise a unique, valid credit code in the city and a resident adult representative', () => {
    expect(new Set(city.enterprises.map((enterprise) => enterprise.creditCode)).size).toBe(city.enterprises.length);
    expect(new Set(city.enterprises.map((enterprise) => enterprise.name)).size).toBe(city.enterprises.length);
    for (const enterprise of city.enterprises) {
      expect(isValidCreditCode(enterprise.creditCode), enterprise.creditCode).toBe(true);
      expect(enterprise.creditCode.startsWith('91')).toBe(true);
      expect(DISTRICTS[enterprise.creditCode.slice(2, 8)], enterprise.creditCode).toBeDefined();
      expect(enterprise.name).toMatch(/^(嘉兴市|嘉善县|海盐县|海宁市|平湖市|桐乡市)[\u4e00-\u9fff]+有限公司$/);
      const representative = personsById.get(enterprise.legalRepresentativeId);
      expect(representative, enterprise.creditCode).toBeDefined();
      expect(enterprise.establishedOn >= addYears(representative!.birthDate, 22)).toBe(true);
      expect(enterprise.establishedOn).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(enterprise.establishedOn <= '2025-06-30').toBe(true);
      expect(enterprise.registeredCapital).toBeGreaterThan(0);
      expect(['ACTIVE', 'REVOKED', 'CANCELLED']).toContain(enterprise.status);
    }
  });

  it('lets a few persons represent two or three enterprises, and most none', () => {
    const represented = new Map<string, number>();
    for (const enterprise of city.enterprises) {
      represented.set(enterprise.legalRepresentativeId, (represented.get(enterprise.legalRepresentativeId) ?? 0) + 1);
    }
    const counts = [...represented.values()];
    expect(Math.max(...counts)).toBeLessThanOrEqual(3);
    expect(counts.filter((count) => count >= 2).length).toBeGreaterThan(5);
    expect(represented.size).toBeLessThan(city.persons.length / 2);
  });

  it('registers most enterprises as active, some revoked or cancelled', () => {
    const active = city.enterprises.filter((enterprise) => enterprise.status === 'ACTIVE').length;
    expect(active).toBeGreaterThan(city.enterprises.length * 0.7);
    expect(active).toBeLessThan(city.enterprises.length);
  });

  it('gives insurance accounts to known persons, with employers among the enterprises', () => {
    const creditCodes = new Set(city.enterprises.map((enterprise) => enterprise.creditCode));
    const insured = new Set(city.insuranceAccounts.map((account) => account.idNumber));
    expect(insured.size).toBe(city.insuranceAccounts.length);
    const statuses = new Set<string>();
    for (const account of city.insuranceAccounts) {
      expect(personsById.has(account.idNumber)).toBe(true);
      statuses.add(account.insuredStatus);
      if (account.employerCreditCode !== null) expect(creditCodes.has(account.employerCreditCode)).toBe(true);
      expect(Number.isInteger(account.contributionMonths) && account.contributionMonths >= 0).toBe(true);
      expect(account.monthlyBaseYuan).toBeGreaterThanOrEqual(4_462);
      expect(account.monthlyBaseYuan).toBeLessThanOrEqual(22_311);
      expect(Math.round(account.monthlyBaseYuan * 100) / 100).toBe(account.monthlyBaseYuan);
    }
    expect([...statuses].sort()).toEqual(['ACTIVE', 'SUSPENDED', 'TERMINATED']);
    expect(city.insuranceAccounts.filter((account) => account.employerCreditCode !== null).length).toBeGreaterThan(300);
  });

  it('is frozen', () => {
    expect(Object.isFrozen(city.persons)).toBe(true);
    expect(Object.isFrozen(city.persons[0])).toBe(true);
    expect(Object.isFrozen(city.enterprises[0])).toBe(true);
  });

  it('refuses impossible options', () => {
    expect(() => generateCity({ persons: -1 })).toThrow(RangeError);
    expect(() => generateCity({ enterprises: 1.5 })).toThrow(RangeError);
    expect(() => generateCity({ seed: Number.NaN })).toThrow(RangeError);
    expect(() => generateCity({ persons: 0, enterprises: 1 })).toThrow(RangeError);
    expect(generateCity({ persons: 0, enterprises: 0 }).insuranceAccounts).toEqual([]);
  });
});

describe('demoCity', () => {
  it('is the default city, generated once', () => {
    expect(demoCity()).toBe(demoCity());
    expect(fingerprint(demoCity())).toBe(fingerprint(generateCity()));
  });
});

describe('createMulberry32', () => {
  it('repeats its sequence for a seed', () => {
    const a = createMulberry32(42);
    const b = createMulberry32(42);
    expect(a()).toBe(0.6011037519201636);
    const rest = Array.from({ length: 100 }, a);
    expect(Array.from({ length: 101 }, b).slice(1)).toEqual(rest);
    expect(rest.every((value) => value >= 0 && value < 1)).toBe(true);
  });
});
