import { createMulberry32 } from './mulberry32.ts';
import { idNumberCheckDigit } from './gb11643.ts';
import { CREDIT_CODE_ALPHABET, creditCodeCheckChar } from './gb32100.ts';
import { organizationCodeCheckChar } from './gb11714.ts';

/** 性别, as the public security bureau reports it. */
export type Gender = 'MALE' | 'FEMALE';

/** A resident on the household register (户籍) of the public security bureau. */
export interface CityPerson {
  /** 18-character GB 11643 identity number; its area code is the household's district. */
  readonly idNumber: string;
  /** 2–3 Chinese characters. */
  readonly name: string;
  /** Agrees with the parity of the identity number's 17th digit (odd = male). */
  readonly gender: Gender;
  /** YYYY-MM-DD, the same date as in the identity number. */
  readonly birthDate: string;
  /** Starts with province, city and district (`浙江省嘉兴市南湖区…`); shared by a household. */
  readonly address: string;
  /** 户号: `H` + district code + 7 digits, shared by a household. */
  readonly householdId: string;
}

/** 登记状态 of an enterprise. */
export type EnterpriseStatus = 'ACTIVE' | 'REVOKED' | 'CANCELLED';

/** A market entity in the market supervision bureau's registry. */
export interface CityEnterprise {
  /** 18-character GB 32100 unified social credit code, `91` + district code + organisation code + check. */
  readonly creditCode: string;
  readonly name: string;
  /** The identity number of a {@link CityPerson}. */
  readonly legalRepresentativeId: string;
  readonly status: EnterpriseStatus;
  /** 注册资本 in 万元 (10,000 yuan). */
  readonly registeredCapital: number;
  /** YYYY-MM-DD, after the legal representative turned 22. */
  readonly establishedOn: string;
}

/** 参保状态 of a social insurance account. */
export type InsuredStatus = 'ACTIVE' | 'SUSPENDED' | 'TERMINATED';

/** A person's social insurance account at the human resources and social security bureau. */
export interface InsuranceAccount {
  /** The identity number of a {@link CityPerson}; at most one account per person. */
  readonly idNumber: string;
  readonly insuredStatus: InsuredStatus;
  readonly contributionMonths: number;
  /** The credit code of a {@link CityEnterprise}, or null for minors, retirees and flexible employment. */
  readonly employerCreditCode: string | null;
  /** 缴费基数 in yuan per month, with cents. */
  readonly monthlyBaseYuan: number;
}

/** The generated demo city: everything its three bureaus hold. Frozen. */
export interface City {
  readonly seed: number;
  readonly persons: readonly CityPerson[];
  readonly enterprises: readonly CityEnterprise[];
  readonly insuranceAccounts: readonly InsuranceAccount[];
}

/** Options of {@link generateCity}. */
export interface GenerateCityOptions {
  /** Any 32-bit integer; the same seed gives the same city. */
  readonly seed?: number;
  /** Residents, up to 1,000,000. */
  readonly persons?: number;
  /** Enterprises, up to 100,000; needs at least one resident born by mid-2003. */
  readonly enterprises?: number;
}

/** The seed of {@link demoCity}: 嘉兴市's area code. */
export const DEFAULT_CITY_SEED = 330_400;
/** Residents of a city when {@link GenerateCityOptions.persons} is not given. */
export const DEFAULT_PERSONS = 1_000;
/** Enterprises of a city when {@link GenerateCityOptions.enterprises} is not given. */
export const DEFAULT_ENTERPRISES = 200;
// Enough for any benchmark, small enough that a typo cannot eat the machine;
// enterprises are capped lower so unique names stay easy to draw.
const MAX_PERSONS = 1_000_000;
const MAX_ENTERPRISES = 100_000;

const PROVINCE_CITY = '浙江省嘉兴市';

interface District {
  readonly code: string;
  readonly name: string;
  /** Share of the city's population, roughly. */
  readonly weight: number;
  readonly streets: readonly string[];
}

// The real GB/T 2260 codes of 嘉兴市's districts (区), county (县) and county-level cities (市).
const DISTRICTS: readonly District[] = [
  { code: '330402', name: '南湖区', weight: 20, streets: ['中山东路', '建国南路', '禾兴南路', '南湖大道', '东升东路', '勤俭路', '解放路'] },
  { code: '330411', name: '秀洲区', weight: 15, streets: ['洪兴西路', '秀洲大道', '新塍路', '康和路', '中山西路'] },
  { code: '330421', name: '嘉善县', weight: 12, streets: ['解放东路', '施家南路', '亭桥北路', '体育南路'] },
  { code: '330424', name: '海盐县', weight: 9, streets: ['武原大道', '海滨东路', '朝阳东路', '枣园东路'] },
  { code: '330481', name: '海宁市', weight: 16, streets: ['海昌南路', '文苑南路', '水月亭西路', '西山路'] },
  { code: '330482', name: '平湖市', weight: 12, streets: ['当湖路', '胜利路', '新华中路', '东湖大道'] },
  { code: '330483', name: '桐乡市', weight: 16, streets: ['庆丰中路', '振兴东路', '校场东路', '环城南路'] },
];

// Common surnames, most common first: the picker favours the front of the list.
const SURNAMES = [...'王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤'];
const COMPOUND_SURNAMES = ['欧阳', '上官', '司马', '诸葛'];
const MALE_GIVEN = [...'伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆旭宁龙林阳建国志文海东峰晨昊博轩睿嘉子然天佑家豪振'];
const FEMALE_GIVEN = [...'芳娜敏静丽艳娟霞秀玲桂英婷雪慧琳颖倩洁萍燕红琴梅丹璐怡欣悦思雨诗涵梓萱佳可馨蕾晓'];

const TRADE_CHARS = [...'禾丰瑞华鑫泰恒达源盛嘉宏锦信隆宇创博新晟诚远德利兴安润和祥康'];
const INDUSTRIES = ['科技', '贸易', '纺织', '机械', '电子', '建材', '食品', '服饰', '物流', '化工', '新材料', '信息技术', '餐饮管理', '建筑工程', '光伏科技', '皮革'];
const CREDIT_CODE_CHARS = [...CREDIT_CODE_ALPHABET];
// Most common first.
const ROUND_CAPITALS = [100, 50, 200, 10, 500, 30, 300, 1_000, 800, 2_000, 3, 5_000, 10_000];

const BIRTH_FROM = Date.UTC(1940, 0, 1);
const BIRTH_TO = Date.UTC(2008, 11, 31);
// Ages, contribution months and establishment dates are as of this day, not
// today, so that a seed means the same city next year.
const AS_OF = Date.UTC(2025, 5, 30);
const FIRST_ESTABLISHMENT = Date.UTC(1993, 0, 1);
// The first unified social credit codes with `MA…` organisation codes were issued in late 2015.
const UNIFIED_CODES_FROM = Date.UTC(2015, 9, 1);
const DAY_MS = 86_400_000;
const YEAR_MS = 365.25 * DAY_MS;
// Heads of households of two or more, so that their children can be born by BIRTH_TO.
const HEAD_BIRTH_TO = Date.UTC(1986, 11, 31);
// Representatives are at least 22 when they found an enterprise, and every enterprise exists by AS_OF.
const LATEST_REPRESENTATIVE_BIRTH = '2003-06-30';
// Zhejiang's 2024 lower and upper social insurance contribution bases, yuan per month.
const MIN_BASE_YUAN = 4_462;
const MAX_BASE_YUAN = 22_311;

/**
 * Generates a demo city in 浙江省嘉兴市: residents with household
 * registrations, enterprises whose legal representatives are residents, and
 * social insurance accounts for about 80% of the residents, whose employers
 * are enterprises. Every value is made up; identity numbers and credit codes
 * are well-formed (valid check characters, real district codes, real dates).
 *
 * Deterministic: the same options always give an identical city.
 *
 * @example
 * const city = generateCity({ seed: 7, persons: 50, enterprises: 10 });
 * city.persons[0].idNumber; // e.g. '330481198703154216'
 * @throws RangeError on a seed that is not an integer, counts out of range
 *   (persons up to 1,000,000, enterprises up to 100,000), or
 *   enterprises without any resident old enough to represent them.
 */
export function generateCity(options: GenerateCityOptions = {}): City {
  const seed = options.seed ?? DEFAULT_CITY_SEED;
  const personCount = options.persons ?? DEFAULT_PERSONS;
  const enterpriseCount = options.enterprises ?? DEFAULT_ENTERPRISES;
  if (!Number.isInteger(seed)) throw new RangeError('seed must be an integer');
  checkCount('persons', personCount, MAX_PERSONS);
  checkCount('enterprises', enterpriseCount, MAX_ENTERPRISES);

  const pick = createPicker(createMulberry32(seed));
  const persons = generatePersons(pick, personCount);
  const enterprises = generateEnterprises(pick, persons, enterpriseCount);
  const insuranceAccounts = generateInsuranceAccounts(pick, persons, enterprises);
  return Object.freeze({
    seed,
    persons: Object.freeze(persons),
    enterprises: Object.freeze(enterprises),
    insuranceAccounts: Object.freeze(insuranceAccounts),
  });
}

let defaultCity: City | undefined;

/**
 * The default city ({@link DEFAULT_CITY_SEED}, 1,000 persons, 200
 * enterprises), generated on first call and shared afterwards: every bureau
 * of one process serves the same data without generating it three times.
 */
export function demoCity(): City {
  defaultCity ??= generateCity();
  return defaultCity;
}

function checkCount(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${name} must be an integer from 0 to ${max}`);
  }
}

interface Picker {
  /** A float in [0, 1). */
  readonly random: () => number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  one<T>(items: readonly T[]): T;
  /** Favours the front of the list, like real name frequencies. */
  skewed<T>(items: readonly T[]): T;
  weighted<T>(entries: readonly (readonly [T, number])[]): T;
}

function createPicker(random: () => number): Picker {
  return {
    random,
    int: (min, max) => min + Math.floor(random() * (max - min + 1)),
    one: (items) => items[Math.floor(random() * items.length)]!,
    skewed: (items) => items[Math.floor(random() * random() * items.length)]!,
    weighted(entries) {
      const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
      let roll = random() * total;
      for (const [item, weight] of entries) {
        roll -= weight;
        if (roll < 0) return item;
      }
      return entries[entries.length - 1]![0];
    },
  };
}

const DISTRICT_WEIGHTS = DISTRICTS.map((district) => [district, district.weight] as const);
const HOUSEHOLD_SIZES = [[1, 25], [2, 30], [3, 30], [4, 15]] as const;

function generatePersons(pick: Picker, count: number): CityPerson[] {
  const persons: CityPerson[] = [];
  const idNumbers = new Set<string>();
  const householdIds = new Set<string>();
  while (persons.length < count) {
    const district = pick.weighted(DISTRICT_WEIGHTS);
    const householdId = unique(householdIds, () => `H${district.code}${String(pick.int(0, 9_999_999)).padStart(7, '0')}`);
    const address = `${PROVINCE_CITY}${district.name}${streetAddress(pick, district)}`;
    const size = Math.min(pick.weighted(HOUSEHOLD_SIZES), count - persons.length);
    const familyName = surname(pick);
    // A household of two or more is a couple and their children: the head is
    // old enough to have children born by 2008, the spouse is of the other
    // gender and of a similar age, the children 22 to 40 years younger.
    const headBirth = size === 1 ? birthBetween(pick, BIRTH_FROM, BIRTH_TO) : birthBetween(pick, BIRTH_FROM, HEAD_BIRTH_TO);
    let headGender: Gender = 'MALE';
    for (let member = 0; member < size; member += 1) {
      const gender: Gender = member === 1 ? otherGender(headGender) : pick.random() < 0.5 ? 'MALE' : 'FEMALE';
      if (member === 0) headGender = gender;
      const birth =
        member === 0
          ? headBirth
          : member === 1
            ? birthBetween(pick, headBirth - 6 * YEAR_MS, headBirth + 6 * YEAR_MS)
            : birthBetween(pick, headBirth + 22 * YEAR_MS, headBirth + 40 * YEAR_MS);
      const birthDate = isoDate(birth);
      const idNumber = unique(idNumbers, () => {
        // The 17th digit is odd for men and even for women.
        const sequence = `${String(pick.int(0, 99)).padStart(2, '0')}${pick.int(0, 4) * 2 + (gender === 'MALE' ? 1 : 0)}`;
        const first17 = `${district.code}${birthDate.replaceAll('-', '')}${sequence}`;
        return first17 + idNumberCheckDigit(first17);
      });
      // Member 1 is the spouse, who kept their own surname; the rest share the household's.
      const name = fullName(pick, member === 1 ? surname(pick) : familyName, gender);
      persons.push(Object.freeze({ idNumber, name, gender, birthDate, address, householdId }));
    }
  }
  return persons;
}

/** Midnight UTC of a day between `from` and `to`, both clamped to the city's birth years. */
function birthBetween(pick: Picker, from: number, to: number): number {
  const low = Math.floor(Math.max(BIRTH_FROM, Math.min(from, BIRTH_TO)) / DAY_MS) * DAY_MS;
  const high = Math.max(low, Math.min(to, BIRTH_TO));
  return low + pick.int(0, Math.floor((high - low) / DAY_MS)) * DAY_MS;
}

function otherGender(gender: Gender): Gender {
  return gender === 'MALE' ? 'FEMALE' : 'MALE';
}

function surname(pick: Picker): string {
  return pick.random() < 0.01 ? pick.one(COMPOUND_SURNAMES) : pick.skewed(SURNAMES);
}

/** A full name of 2–3 characters: a compound surname takes a one-character given name. */
function fullName(pick: Picker, familyName: string, gender: Gender): string {
  const chars = gender === 'MALE' ? MALE_GIVEN : FEMALE_GIVEN;
  const given = familyName.length === 1 && pick.random() < 0.7 ? pick.one(chars) + pick.one(chars) : pick.one(chars);
  return familyName + given;
}

function streetAddress(pick: Picker, district: District): string {
  const house = `${pick.one(district.streets)}${pick.int(1, 399)}号`;
  // Some houses have no buildings or flats, like older street-front houses.
  if (pick.random() < 0.2) return house;
  return `${house}${pick.int(1, 24)}幢${pick.int(1, 18)}${String(pick.int(1, 4)).padStart(2, '0')}室`;
}

const STATUS_WEIGHTS = [['ACTIVE', 84], ['REVOKED', 6], ['CANCELLED', 10]] as const;

function generateEnterprises(pick: Picker, persons: readonly CityPerson[], count: number): CityEnterprise[] {
  if (count === 0) return [];
  const eligible = persons.filter((person) => person.birthDate <= LATEST_REPRESENTATIVE_BIRTH);
  if (eligible.length === 0) {
    throw new RangeError(`enterprises need a resident born on or before ${LATEST_REPRESENTATIVE_BIRTH}`);
  }

  const enterprises: CityEnterprise[] = [];
  const taken: Representation = { counts: new Map(), repeaters: [] };
  const codes = new Set<string>();
  const names = new Set<string>();
  for (let i = 0; i < count; i += 1) {
    const representative = pickRepresentative(pick, eligible, taken);

    const district = pick.weighted(DISTRICT_WEIGHTS);
    const from = Math.max(FIRST_ESTABLISHMENT, addYears(representative.birthDate, 22));
    const established = from + pick.int(0, Math.floor((AS_OF - from) / DAY_MS)) * DAY_MS;
    const creditCode = unique(codes, () => {
      const organizationBody =
        established >= UNIFIED_CODES_FROM
          ? `MA${Array.from({ length: 6 }, () => pick.one(CREDIT_CODE_CHARS)).join('')}`
          : `${pick.int(1, 9)}${String(pick.int(0, 9_999_999)).padStart(7, '0')}`;
      const first17 = `91${district.code}${organizationBody}${organizationCodeCheckChar(organizationBody)}`;
      return first17 + creditCodeCheckChar(first17);
    });
    // Enterprises in a district (区) are named after the city; elsewhere after the county or county-level city.
    const place = district.name.endsWith('区') ? '嘉兴市' : district.name;
    const name = unique(names, () => {
      const suffix = pick.random() < 0.1 ? '股份有限公司' : '有限公司';
      const tradeName = Array.from({ length: pick.random() < 0.7 ? 2 : 3 }, () => pick.one(TRADE_CHARS)).join('');
      return `${place}${tradeName}${pick.one(INDUSTRIES)}${suffix}`;
    });
    const registeredCapital =
      pick.random() < 0.8 ? pick.skewed(ROUND_CAPITALS) : pick.int(1_000, 300_000) / 100;
    enterprises.push(
      Object.freeze({
        creditCode,
        name,
        legalRepresentativeId: representative.idNumber,
        status: pick.weighted(STATUS_WEIGHTS),
        registeredCapital,
        establishedOn: isoDate(established),
      }),
    );
  }
  return enterprises;
}

/** Who represents how many enterprises so far, and who may take one more without passing three. */
interface Representation {
  readonly counts: Map<string, number>;
  /** People representing one or two enterprises, kept as a list so picking one is O(1). */
  readonly repeaters: CityPerson[];
}

function pickRepresentative(pick: Picker, eligible: readonly CityPerson[], taken: Representation): CityPerson {
  // About one enterprise in six shares its representative with another, and
  // nobody represents more than three: most people represent none.
  const chosen =
    taken.repeaters.length > 0 && pick.random() < 0.17
      ? pick.one(taken.repeaters)
      : (firstUnused(pick, eligible, taken.counts) ?? pick.one(eligible));
  const count = (taken.counts.get(chosen.idNumber) ?? 0) + 1;
  taken.counts.set(chosen.idNumber, count);
  if (count === 1) taken.repeaters.push(chosen);
  if (count === 3) taken.repeaters.splice(taken.repeaters.indexOf(chosen), 1);
  return chosen;
}

function firstUnused(pick: Picker, eligible: readonly CityPerson[], counts: ReadonlyMap<string, number>): CityPerson | undefined {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const candidate = pick.one(eligible);
    if (!counts.has(candidate.idNumber)) return candidate;
  }
  // A small city where nearly everyone already represents something: a cap of
  // three then bends rather than loops forever.
  return undefined;
}

const WORKING_STATUS = [['ACTIVE', 80], ['SUSPENDED', 12], ['TERMINATED', 8]] as const;
const RETIRED_STATUS = [['ACTIVE', 40], ['SUSPENDED', 10], ['TERMINATED', 50]] as const;

function generateInsuranceAccounts(
  pick: Picker,
  persons: readonly CityPerson[],
  enterprises: readonly CityEnterprise[],
): InsuranceAccount[] {
  const activeEmployers = enterprises.filter((enterprise) => enterprise.status === 'ACTIVE');
  const accounts: InsuranceAccount[] = [];
  for (const person of persons) {
    if (pick.random() >= 0.8) continue;
    const age = ageOn(person.birthDate, AS_OF);
    const working = age >= 18 && age < 60;
    // Minors are insured as residents, without an employer and always active.
    const insuredStatus: InsuredStatus = age < 18 ? 'ACTIVE' : pick.weighted(working ? WORKING_STATUS : RETIRED_STATUS);
    // Only current employees have an employer of record; one in ten workers is self-employed.
    const employers = insuredStatus === 'ACTIVE' ? activeEmployers : enterprises;
    const employed = working && employers.length > 0 && pick.random() < 0.9;
    const employerCreditCode = employed ? pick.one(employers).creditCode : null;
    const monthsSince18 = Math.max(0, (age - 18) * 12);
    const contributionMonths = age < 18 ? pick.int(0, age * 12) : pick.int(0, Math.min(480, monthsSince18));
    const monthlyBaseYuan = pick.int(MIN_BASE_YUAN * 100, MAX_BASE_YUAN * 100) / 100;
    accounts.push(
      Object.freeze({ idNumber: person.idNumber, insuredStatus, contributionMonths, employerCreditCode, monthlyBaseYuan }),
    );
  }
  return accounts;
}

/** Draws until `make` returns a value not in `seen`, and adds it. */
function unique(seen: Set<string>, make: () => string): string {
  for (;;) {
    const value = make();
    if (!seen.has(value)) {
      seen.add(value);
      return value;
    }
  }
}

function isoDate(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

function addYears(isoDay: string, years: number): number {
  const [year, month, day] = isoDay.split('-').map(Number) as [number, number, number];
  return Date.UTC(year + years, month - 1, day);
}

function ageOn(birthDate: string, epochMs: number): number {
  const [year, month, day] = birthDate.split('-').map(Number) as [number, number, number];
  const on = new Date(epochMs);
  const hadBirthday = on.getUTCMonth() + 1 > month || (on.getUTCMonth() + 1 === month && on.getUTCDate() >= day);
  return on.getUTCFullYear() - year - (hadBirthday ? 0 : 1);
}
