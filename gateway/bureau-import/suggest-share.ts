import type { MaskKind, Sensitivity } from '../../policies/catalogue.ts';
import type { SuggestedShare } from './imported-bureau.ts';

/** One kind of personal data and the words (pinyin abbreviations, English, Chinese) that point to it. */
interface PersonalData {
  readonly what: string;
  readonly sensitivity: Sensitivity;
  readonly mask: MaskKind;
  /** Whole names or name parts, lower case, without separators. */
  readonly words: readonly string[];
  /** Chinese terms looked for anywhere in a name or a comment. */
  readonly chinese: readonly string[];
  /** English phrases looked for in a comment. */
  readonly phrases: readonly string[];
}

// Ordered: the first kind that matches wins, so "id card number" is an ID
// number and not a phone number ("number"), and a birth *date* is a date.
const PERSONAL_DATA: readonly PersonalData[] = [
  {
    what: 'resident ID number',
    sensitivity: 'HIGH',
    mask: 'ID_NUMBER',
    words: ['sfzh', 'sfzhm', 'gmsfhm', 'zjhm', 'idcard', 'idnumber', 'idno', 'residentid', 'citizenid', 'identitynumber', 'nationalid'],
    chinese: ['身份证', '公民身份号码', '证件号码'],
    phrases: ['identity number', 'id card', 'id number'],
  },
  {
    what: 'birth date',
    sensitivity: 'MEDIUM',
    mask: 'DATE_TO_YEAR',
    words: ['csrq', 'birth', 'birthday', 'birthdate', 'dob', 'dateofbirth'],
    chinese: ['出生'],
    phrases: ['birth'],
  },
  {
    what: 'phone number',
    sensitivity: 'HIGH',
    mask: 'PHONE',
    words: ['lxdh', 'sjhm', 'dh', 'phone', 'mobile', 'tel', 'telephone', 'phonenumber', 'cellphone'],
    chinese: ['电话', '手机'],
    phrases: ['phone'],
  },
  {
    what: 'address',
    sensitivity: 'HIGH',
    mask: 'ADDRESS',
    words: ['dz', 'zz', 'hjdz', 'jzdz', 'address', 'addr', 'street'],
    chinese: ['地址', '住址', '住所'],
    phrases: ['address'],
  },
  {
    what: 'personal name',
    sensitivity: 'MEDIUM',
    mask: 'NAME',
    words: ['xm', 'fullname', 'realname', 'personname', 'firstname', 'lastname', 'surname', 'givenname'],
    chinese: ['姓名'],
    phrases: ['full name', "person's name"],
  },
  {
    what: 'e-mail address',
    sensitivity: 'MEDIUM',
    mask: 'REDACT',
    words: ['email', 'mail', 'dzyx'],
    chinese: ['邮箱', '电子邮件'],
    phrases: ['e-mail', 'email'],
  },
  {
    what: 'secret',
    sensitivity: 'HIGH',
    mask: 'REDACT',
    words: ['password', 'passwd', 'secret', 'mm'],
    chinese: ['密码'],
    phrases: ['password'],
  },
];

/** Types whose plain `name` is a person's name rather than, say, an enterprise's. */
const PERSON_TYPES = /person|resident|citizen|user|customer|owner|employee|people|member|patient|applicant|renyuan|jumin/i;

/** A field's suggestion and, where it points to personal data, what kind. */
export interface ShareSuggestion {
  readonly share: SuggestedShare;
  /** `resident ID number`, … when the name, type or comment points to personal data. */
  readonly personalData?: string;
}

/** The parts of a name, lower case: `idCardNo` → id, card, no; `lxdh` → lxdh. */
function nameParts(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part !== '')
    .map((part) => part.toLowerCase());
}

/**
 * The sharing a generated field starts with: always `CONDITIONAL` (nothing
 * leaves without an agreement), with a sensitivity and mask suggested from
 * its name (English, pinyin initials such as `sfzh`, `xm`, `lxdh`, or
 * Chinese), its original name in the source, and its comment. The officer
 * confirms or changes it; a re-import keeps what they chose.
 *
 * @example
 * suggestShare({ names: ['sfzh'], typeName: 'Resident' }).share; // { category: 'CONDITIONAL', sensitivity: 'HIGH', mask: 'ID_NUMBER' }
 */
export function suggestShare(field: { readonly names: readonly string[]; readonly typeName: string; readonly description?: string }): ShareSuggestion {
  const comment = (field.description ?? '').toLowerCase();
  for (const kind of PERSONAL_DATA) {
    const byName = field.names.some((name) => {
      const parts = nameParts(name);
      const joined = parts.join('');
      return kind.words.includes(joined) || parts.some((part) => kind.words.includes(part) && part.length > 2) || kind.chinese.some((word) => name.includes(word));
    });
    const byComment = kind.chinese.some((word) => comment.includes(word)) || kind.phrases.some((phrase) => comment.includes(phrase));
    if (byName || byComment) return { share: { category: 'CONDITIONAL', sensitivity: kind.sensitivity, mask: kind.mask }, personalData: kind.what };
  }
  if (field.names.some((name) => name.toLowerCase() === 'name') && PERSON_TYPES.test(field.typeName)) {
    return { share: { category: 'CONDITIONAL', sensitivity: 'MEDIUM', mask: 'NAME' }, personalData: 'personal name' };
  }
  return { share: { category: 'CONDITIONAL', sensitivity: 'LOW' } };
}
