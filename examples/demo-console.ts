import type { ConsolePersona, LocalName } from '../gateway/console/console-persona.ts';
import type { CityPerson } from './data/generate-city.ts';
import { DEMO_CONSUMERS } from './demo-agreements.ts';
import { DEMO_WITNESS_NAME } from './demo-witness.ts';

/** What the demo city hands the console: who can sign in through the persona picker, the names of its consumer bureaus, what its purposes mean, and what it calls its log's witnesses. */
export interface DemoConsole {
  readonly personas: readonly ConsolePersona[];
  readonly bureauNames: ReadonlyMap<string, LocalName>;
  readonly purposeNames: ReadonlyMap<string, LocalName>;
  readonly witnessNames: ReadonlyMap<string, LocalName>;
}


/** The console app every staff persona's token names. */
const CONSOLE_APP = 'isthmus-console';

/** The demo's consumer bureaus (the catalogue names only the providing ones). */
const BUREAU_NAMES: ReadonlyMap<string, LocalName> = new Map([
  [DEMO_CONSUMERS.civilAffairs.bureau, { zh: '市民政局', en: 'Municipal Civil Affairs Bureau' }],
  [DEMO_CONSUMERS.housingFund.bureau, { zh: '市住房公积金管理中心', en: 'Municipal Housing Provident Fund Centre' }],
  [DEMO_CONSUMERS.citizenApp.bureau, { zh: '市政务服务中心', en: 'Municipal Government Service Centre' }],
  ['audit-office', { zh: '市审计局', en: 'Municipal Audit Office' }],
]);

/** The access log's witnesses as a citizen reads their names on a receipt. */
const WITNESS_NAMES: ReadonlyMap<string, LocalName> = new Map([[DEMO_WITNESS_NAME, { zh: '市审计局', en: 'Municipal Audit Office' }]]);

/** The purposes the demo's agreements name, as a citizen reads them. */
const PURPOSE_NAMES: ReadonlyMap<string, LocalName> = new Map([
  [DEMO_CONSUMERS.civilAffairs.purpose, { zh: '最低生活保障资格审核', en: 'Minimum living allowance review' }],
  [DEMO_CONSUMERS.citizenApp.purpose, { zh: '本人办事查询', en: 'Your own service request' }],
  [DEMO_CONSUMERS.housingFund.purpose, { zh: '住房公积金贷款审核', en: 'Housing provident fund loan review' }],
]);

/**
 * The people of the demo city one can sign in to the console as: the data
 * officers of the three providing bureaus (who approved the sample
 * agreements of `demo-agreements.ts`, under the same user ids), the housing
 * fund's developer who filed its pending request and the housing fund's own
 * data officer (who may not approve it: the provider decides), an auditor,
 * and `resident`, a citizen of the generated city.
 *
 * @example
 * await startGateway(config, { console: demoConsole(sampleResident()) });
 */
export function demoConsole(resident: CityPerson): DemoConsole {
  const { housingFund, citizenApp } = DEMO_CONSUMERS;
  const staff = (id: string, name: LocalName, bureau: string, user: string, role: 'developer' | 'data_officer' | 'auditor'): ConsolePersona => ({
    id,
    name,
    claims: { bureau, app: CONSOLE_APP, user, roles: [role] },
  });
  return {
    bureauNames: BUREAU_NAMES,
    purposeNames: PURPOSE_NAMES,
    witnessNames: WITNESS_NAMES,
    personas: [
      staff('hrss-officer', { zh: '李娜', en: 'Li Na' }, 'human-resources-social-security', 'li.na@hrss', 'data_officer'),
      staff('public-security-officer', { zh: '王磊', en: 'Wang Lei' }, 'public-security', 'wang.lei@public-security', 'data_officer'),
      staff('market-supervision-officer', { zh: '陈静', en: 'Chen Jing' }, 'market-supervision', 'chen.jing@market-supervision', 'data_officer'),
      staff('housing-fund-developer', { zh: '赵强', en: 'Zhao Qiang' }, housingFund.bureau, 'zhao.qiang@housing-fund', 'developer'),
      staff('housing-fund-officer', { zh: '钱慧', en: 'Qian Hui' }, housingFund.bureau, 'qian.hui@housing-fund', 'data_officer'),
      staff('auditor', { zh: '徐平', en: 'Xu Ping' }, 'audit-office', 'xu.ping@audit-office', 'auditor'),
      {
        id: 'citizen',
        // A generated resident: the name is the city generator's, no real person's.
        name: { zh: resident.name, en: resident.name },
        claims: { bureau: citizenApp.bureau, app: CONSOLE_APP, user: `resident-${resident.idNumber.slice(-4)}`, roles: ['citizen'], citizen: resident.idNumber },
      },
    ],
  };
}
