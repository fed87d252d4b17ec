import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MASK_KINDS } from './catalogue.ts';
import { REDACTED, applyMask, maskResult, type MaskedPath } from './masks.ts';

describe('applyMask', () => {
  it('ID_NUMBER keeps the first 6 and the last 4 characters', () => {
    expect(applyMask('ID_NUMBER', '330402198203151234')).toBe('330402********1234');
    expect(applyMask('ID_NUMBER', '33040219820315123X')).toBe('330402********123X');
    expect(applyMask('ID_NUMBER', '330402820315123')).toBe('330402*****5123');
    expect(applyMask('ID_NUMBER', '1234567890')).toBe(REDACTED);
    expect(applyMask('ID_NUMBER', '')).toBe(REDACTED);
  });

  it('NAME keeps the first and the last character', () => {
    expect(applyMask('NAME', '张晓明')).toBe('张*明');
    expect(applyMask('NAME', '张明')).toBe('张*');
    expect(applyMask('NAME', '欧阳晓明')).toBe('欧**明');
    expect(applyMask('NAME', '阿依古丽·买买提')).toBe('阿******提');
    expect(applyMask('NAME', '张')).toBe('*');
    expect(applyMask('NAME', '')).toBe('');
    expect(applyMask('NAME', '   ')).toBe(REDACTED);
    // Characters outside the BMP count as one.
    expect(applyMask('NAME', '𠀀明华')).toBe('𠀀*华');
  });

  it('PHONE keeps the first 3 and the last 4 digits', () => {
    expect(applyMask('PHONE', '13812345678')).toBe('138****5678');
    expect(applyMask('PHONE', '+86 138-1234-5678')).toBe('138****5678');
    expect(applyMask('PHONE', '0573-82345678')).toBe('057*****5678');
    expect(applyMask('PHONE', '12345')).toBe(REDACTED);
    expect(applyMask('PHONE', 'call me')).toBe(REDACTED);
  });

  it('ADDRESS keeps province, city and district', () => {
    expect(applyMask('ADDRESS', '浙江省嘉兴市南湖区中山路128号3幢502室')).toBe('浙江省嘉兴市南湖区');
    expect(applyMask('ADDRESS', '浙江省嘉兴市海宁市硖石街道西山路8号')).toBe('浙江省嘉兴市海宁市');
    expect(applyMask('ADDRESS', '浙江省嘉兴市嘉善县罗星街道1号')).toBe('浙江省嘉兴市嘉善县');
    expect(applyMask('ADDRESS', '广西壮族自治区南宁市青秀区民族大道1号')).toBe('广西壮族自治区南宁市青秀区');
    expect(applyMask('ADDRESS', '山东省济南市市中区经四路1号')).toBe('山东省济南市市中区');
    expect(applyMask('ADDRESS', '上海市浦东新区世纪大道100号')).toBe('上海市浦东新区');
    expect(applyMask('ADDRESS', '北京市市辖区东城区东长安街1号')).toBe('北京市东城区');
    expect(applyMask('ADDRESS', '嘉兴市南湖区07省道100号')).toBe('嘉兴市南湖区');
  });

  it('ADDRESS falls back to less, never to more', () => {
    // No district within reach: province and city only, not the street.
    expect(applyMask('ADDRESS', '湖北省仙桃市干河街道沔州大道某某小区3号')).toBe('湖北省仙桃市');
    expect(applyMask('ADDRESS', '浙江省某某路1号')).toBe('浙江省');
    expect(applyMask('ADDRESS', '中山路128号')).toBe(REDACTED);
    expect(applyMask('ADDRESS', '128 Zhongshan Road')).toBe(REDACTED);
  });

  it('DATE_TO_YEAR keeps the year', () => {
    expect(applyMask('DATE_TO_YEAR', '1982-03-15')).toBe('1982');
    expect(applyMask('DATE_TO_YEAR', '1982-03-15T08:00:00Z')).toBe('1982');
    expect(applyMask('DATE_TO_YEAR', '1982年3月15日')).toBe('1982');
    expect(applyMask('DATE_TO_YEAR', '1982')).toBe('1982');
    expect(applyMask('DATE_TO_YEAR', '15/03/1982')).toBe(REDACTED);
    expect(applyMask('DATE_TO_YEAR', '19820315')).toBe(REDACTED);
  });

  it('REDACT replaces strings and withholds every other value', () => {
    expect(applyMask('REDACT', 'ACTIVE')).toBe(REDACTED);
    expect(applyMask('REDACT', 128)).toBeNull();
    expect(applyMask('REDACT', true)).toBeNull();
    expect(applyMask('REDACT', { insuredStatus: 'ACTIVE' })).toBeNull();
  });

  it('masks lists element by element and leaves null as it is', () => {
    expect(applyMask('NAME', ['张晓明', null, '李四'])).toEqual(['张*明', null, '李*']);
    expect(applyMask('ID_NUMBER', [['330402198203151234']])).toEqual([['330402********1234']]);
    expect(applyMask('NAME', null)).toBeNull();
    expect(applyMask('NAME', undefined)).toBeUndefined();
  });

  it('withholds a value that is not text, whatever the mask', () => {
    for (const kind of MASK_KINDS) {
      expect(applyMask(kind, 19820315)).toBeNull();
      expect(applyMask(kind, { idNumber: '330402198203151234' })).toBeNull();
    }
  });

  it('never throws, and gives back text for text, cut down and never more than was there', () => {
    fc.assert(
      fc.property(fc.constantFrom(...MASK_KINDS), fc.anything(), (kind, value) => {
        const masked = applyMask(kind, value);
        if (typeof value === 'string') expect(typeof masked).toBe('string');
      }),
      { numRuns: 500 },
    );
    const text = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: fc.constantFrom(...'浙江省嘉兴市南湖区县路号0123456789-'), maxLength: 30 }));
    fc.assert(
      fc.property(fc.constantFrom(...MASK_KINDS), text, (kind, value) => {
        const masked = applyMask(kind, value) as string;
        expect(Array.from(masked).length).toBeLessThanOrEqual(Math.max(Array.from(value).length, REDACTED.length));
        switch (kind) {
          case 'ADDRESS':
            if (masked !== REDACTED) expect(value.trim().startsWith(masked)).toBe(true);
            break;
          case 'DATE_TO_YEAR':
            expect(masked).toMatch(/^(\d{4}|\*\*\*)$/);
            break;
          default:
            // Text of two or more characters always loses something.
            if (Array.from(value.trim()).length >= 2 && !value.includes('*')) expect(masked).not.toBe(value);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('maskResult', () => {
  const data = {
    p1: { name: '张晓明', idNumber: '330402198203151234', enterprises: [{ name: 'A', legalRepresentativeId: '330402198203151234' }, null] },
    people: [{ name: '李四', address: '浙江省嘉兴市南湖区中山路128号' }, null, { name: '王小二', address: null }],
    nobody: null,
  };

  it('masks at response-key paths, through lists, into a new object', () => {
    const frozen = structuredClone(data);
    const masks: MaskedPath[] = [
      { path: ['p1', 'name'], mask: 'NAME' },
      { path: ['p1', 'enterprises', 'legalRepresentativeId'], mask: 'ID_NUMBER' },
      { path: ['people', 'address'], mask: 'ADDRESS' },
      { path: ['people', 'name'], mask: 'NAME' },
      { path: ['nobody', 'name'], mask: 'NAME' },
    ];
    const masked = maskResult(data, masks);
    expect(masked).toEqual({
      p1: { name: '张*明', idNumber: '330402198203151234', enterprises: [{ name: 'A', legalRepresentativeId: '330402********1234' }, null] },
      people: [{ name: '李*', address: '浙江省嘉兴市南湖区' }, null, { name: '王*二', address: null }],
      nobody: null,
    });
    expect(data).toEqual(frozen);
  });

  it('copies on change only: untouched branches are shared, a result with nothing to mask is the input', () => {
    const masked = maskResult(data, [{ path: ['p1', 'name'], mask: 'NAME' }]);
    expect(masked.people).toBe(data.people);
    expect(masked.p1.enterprises).toBe(data.p1.enterprises);
    expect(maskResult(data, [{ path: ['absent', 'name'], mask: 'NAME' }])).toBe(data);
    expect(maskResult(data, [])).toBe(data);
    expect(maskResult(null, [{ path: ['p1'], mask: 'NAME' }])).toBeNull();
  });

  it('below an interface or a union, masks only objects of the named type (and those whose type it cannot tell)', () => {
    const search = { search: [{ __typename: 'Person', name: '张晓明' }, { __typename: 'Enterprise', name: '嘉兴某某有限公司' }, { name: '李四' }] };
    expect(maskResult(search, [{ path: ['search', 'name'], mask: 'NAME', typeName: 'Person' }])).toEqual({
      search: [{ __typename: 'Person', name: '张*明' }, { __typename: 'Enterprise', name: '嘉兴某某有限公司' }, { name: '李*' }],
    });
  });
});
