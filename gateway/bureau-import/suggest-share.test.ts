import { describe, expect, it } from 'vitest';
import { suggestShare } from './suggest-share.ts';
import { fieldName, typeName } from './graphql-name.ts';

describe('suggestShare', () => {
  it.each([
    [['sfzh'], 'Resident', undefined, 'ID_NUMBER'],
    [['id_card'], 'Applicant', undefined, 'ID_NUMBER'],
    [['xm'], 'Resident', undefined, 'NAME'],
    [['lxdh'], 'Resident', undefined, 'PHONE'],
    [['mobilePhone'], 'Customer', undefined, 'PHONE'],
    [['csrq'], 'Resident', undefined, 'DATE_TO_YEAR'],
    [['dz'], 'Resident', undefined, 'ADDRESS'],
    [['homeAddress'], 'Resident', undefined, 'ADDRESS'],
    [['legalRepresentativeId'], 'Enterprise', '法定代表人身份证号码', 'ID_NUMBER'],
    [['name'], 'User', undefined, 'NAME'],
    [['email'], 'User', undefined, 'REDACT'],
  ] as const)('%j of %s is CONDITIONAL with the mask %s', (names, type, description, mask) => {
    const { share } = suggestShare({ names, typeName: type, ...(description ? { description } : {}) });
    expect(share).toMatchObject({ category: 'CONDITIONAL', mask });
  });

  it('an enterprise\'s name or a status is CONDITIONAL and LOW without a mask', () => {
    expect(suggestShare({ names: ['name'], typeName: 'Enterprise' }).share).toEqual({ category: 'CONDITIONAL', sensitivity: 'LOW' });
    expect(suggestShare({ names: ['status'], typeName: 'Pet' }).share).toEqual({ category: 'CONDITIONAL', sensitivity: 'LOW' });
  });
});

describe('GraphQL names', () => {
  it('turns ASCII source names into camelCase fields and PascalCase types, and refuses Chinese ones', () => {
    expect(fieldName('credit_code')).toBe('creditCode');
    expect(fieldName('ID')).toBe('id');
    expect(fieldName('photo-urls')).toBe('photoUrls');
    expect(typeName('insurance_account')).toBe('InsuranceAccount');
    expect(fieldName('姓名')).toBeUndefined();
    expect(fieldName('2nd_line')).toBeUndefined();
    expect(typeName('居民')).toBeUndefined();
  });
});
