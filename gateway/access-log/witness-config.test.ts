import { describe, expect, it } from 'vitest';
import { generateNoteKey } from '../../packages/isthmus-log-proofs/src/index.ts';
import { parseWitnessList, WitnessListInvalid } from './witness-config.ts';

const auditOffice = generateNoteKey('audit-office.demo-city');
const housingFund = generateNoteKey('housing-fund.demo-city');

describe('parseWitnessList', () => {
  it('reads comma-separated <vkey>@<url> entries, trimming and dropping a trailing slash', () => {
    const witnesses = parseWitnessList(` ${auditOffice.verifierKey}@http://127.0.0.1:4100/ , ${housingFund.verifierKey}@https://witness.hf.example`);
    expect(witnesses.map((w) => [w.name, w.url, w.vkey])).toEqual([
      ['audit-office.demo-city', 'http://127.0.0.1:4100', auditOffice.verifierKey],
      ['housing-fund.demo-city', 'https://witness.hf.example', housingFund.verifierKey],
    ]);
    expect(witnesses[0]!.verifier.name).toBe('audit-office.demo-city');
  });

  it('is empty for an empty setting', () => {
    expect(parseWitnessList('')).toEqual([]);
  });

  it.each([
    ['no @', 'http://127.0.0.1:4100', 'is not "<verifier key>@<URL>"'],
    ['a bad key', 'audit+zz+AAAA@http://127.0.0.1:4100', 'verifier key'],
    ['plain http off loopback', `${auditOffice.verifierKey}@http://witness.example`, 'https://'],
    ['a query', `${auditOffice.verifierKey}@https://witness.example/?k=1`, 'query'],
    ['a witness twice', `${auditOffice.verifierKey}@http://127.0.0.1:1,${auditOffice.verifierKey}@http://127.0.0.1:2`, 'listed twice'],
  ])('refuses %s, naming the entry and not echoing the key', (_, text, message) => {
    let thrown: unknown;
    try {
      parseWitnessList(text);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(WitnessListInvalid);
    expect((thrown as Error).message).toContain(message);
    expect((thrown as Error).message).not.toContain(auditOffice.verifierKey.split('+')[2]!);
  });
});
