import type { Principal } from '../policies/principal.ts';
import type { Agreement } from '../policies/agreement.ts';
import { approveAgreement, requestAgreement, type AgreementRequestInput, type LifecycleResult } from '../policies/agreement-lifecycle.ts';
import type { Gateway } from '../gateway/gateway.ts';

/**
 * The demo city's sample sharing agreements, made the way real ones are:
 * requested by a consumer bureau's developer, approved by a data officer of
 * the providing bureau (never the same person), each step an event.
 *
 * - `agr-demo-allowance-*` (ACTIVE): 民政局 (civil affairs) reviews minimum
 *   living allowance applications (最低生活保障审核) and reads, for the
 *   applicant, identity from public security, enterprises from market
 *   supervision and social insurance from HRSS — three agreements, one per
 *   providing bureau, all under the scope `allowance-review`.
 * - `agr-demo-self-service` (ACTIVE, row scope SELF): the one-stop citizen
 *   app (一网通办) shows citizens their own household registration record.
 * - `agr-demo-housing-loan` (PENDING): the housing fund asks HRSS for
 *   contribution bases, waiting for the HRSS data officer.
 */
export const DEMO_CONSUMERS = {
  civilAffairs: { bureau: 'civil-affairs', app: 'allowance-review', scope: 'allowance-review', purpose: 'minimum-living-allowance-review' },
  citizenApp: { bureau: 'government-service-center', app: 'one-stop-app', scope: 'citizen-self-service', purpose: 'citizen-self-service' },
  housingFund: { bureau: 'housing-fund', app: 'loan-review', scope: 'housing-loan-review', purpose: 'housing-loan-review' },
} as const;

const VALID_FROM = '2026-01-01T00:00:00.000Z';
const VALID_UNTIL = '2028-12-31T00:00:00.000Z';

function staff(bureau: string, user: string, role: 'developer' | 'data_officer'): Principal {
  return { issuer: 'isthmus-dev', subject: user, user, bureau, app: 'isthmus-console', roles: [role], scopes: [], expiresAt: Number.MAX_SAFE_INTEGER };
}

interface DemoAgreement {
  readonly input: AgreementRequestInput;
  readonly requester: Principal;
  /** Absent: left PENDING. */
  readonly approver?: Principal;
}

function demoAgreements(): readonly DemoAgreement[] {
  const { civilAffairs, citizenApp, housingFund } = DEMO_CONSUMERS;
  const allowance = (id: string, providerBureau: string, fields: readonly string[], masks: Agreement['masks'], approver: Principal): DemoAgreement => ({
    requester: staff(civilAffairs.bureau, 'zhou.min@civil-affairs', 'developer'),
    approver,
    input: {
      id,
      consumerApp: civilAffairs.app,
      providerBureau,
      fields,
      masks,
      purpose: civilAffairs.purpose,
      legalBasis: '《社会救助暂行办法》第十一条：县级人民政府民政部门对最低生活保障申请人的家庭收入和财产状况进行核查',
      rowScope: 'ANY',
      scope: civilAffairs.scope,
      validFrom: VALID_FROM,
      validUntil: VALID_UNTIL,
      submit: true,
    },
  });
  return [
    allowance(
      'agr-demo-allowance-identity',
      'public-security',
      ['Person.idNumber', 'Person.name', 'Person.gender', 'Person.birthDate', 'Person.address'],
      { 'Person.address': 'ADDRESS' },
      staff('public-security', 'wang.lei@public-security', 'data_officer'),
    ),
    allowance(
      'agr-demo-allowance-enterprises',
      'market-supervision',
      ['Person.enterprises', 'Enterprise.registeredCapital', 'Enterprise.legalRepresentativeId'],
      { 'Enterprise.legalRepresentativeId': 'ID_NUMBER' },
      staff('market-supervision', 'chen.jing@market-supervision', 'data_officer'),
    ),
    allowance(
      'agr-demo-allowance-insurance',
      'human-resources-social-security',
      [
        'Person.socialInsurance',
        'SocialInsurance.insuredStatus',
        'SocialInsurance.contributionMonths',
        'SocialInsurance.employerCreditCode',
        'SocialInsurance.monthlyBase',
        'Enterprise.insuredEmployeeCount',
      ],
      {},
      staff('human-resources-social-security', 'li.na@hrss', 'data_officer'),
    ),
    {
      requester: staff(citizenApp.bureau, 'sun.yue@government-service-center', 'developer'),
      approver: staff('public-security', 'wang.lei@public-security', 'data_officer'),
      input: {
        id: 'agr-demo-self-service',
        consumerApp: citizenApp.app,
        providerBureau: 'public-security',
        fields: ['Person.idNumber', 'Person.name', 'Person.gender', 'Person.birthDate', 'Person.address'],
        masks: {},
        purpose: citizenApp.purpose,
        legalBasis: '《优化营商环境条例》第三十七条与《国务院关于加快推进全国一体化在线政务服务平台建设的指导意见》：本人查询本人户籍信息',
        rowScope: 'SELF',
        scope: citizenApp.scope,
        validFrom: VALID_FROM,
        validUntil: VALID_UNTIL,
        submit: true,
      },
    },
    {
      requester: staff(housingFund.bureau, 'zhao.qiang@housing-fund', 'developer'),
      input: {
        id: 'agr-demo-housing-loan',
        consumerApp: housingFund.app,
        providerBureau: 'human-resources-social-security',
        fields: ['Person.socialInsurance', 'SocialInsurance.insuredStatus', 'SocialInsurance.monthlyBase'],
        masks: {},
        purpose: housingFund.purpose,
        legalBasis: '《住房公积金管理条例》第二十六条：核定缴存基数与贷款额度需核查职工工资收入',
        rowScope: 'ANY',
        scope: housingFund.scope,
        validFrom: VALID_FROM,
        validUntil: VALID_UNTIL,
        submit: true,
      },
    },
  ];
}

/**
 * Stores the demo agreements that are not there yet (by id), so running the
 * demo twice on the same data keeps one set, and has the gateway's registry
 * read them at once rather than at its next poll.
 */
export async function seedDemoAgreements(
  gateway: Pick<Gateway, 'agreements' | 'catalogue' | 'agreementRegistry'>,
  now: Date = new Date(),
): Promise<readonly string[]> {
  const { agreements, catalogue } = gateway;
  const created: string[] = [];
  for (const demo of demoAgreements()) {
    if (await agreements.get(demo.input.id)) continue;
    // A window may not start before its request is made (agreement-terms.ts): seeded today, the demo's windows start today.
    const input = Date.parse(demo.input.validFrom) < now.getTime() ? { ...demo.input, validFrom: now.toISOString() } : demo.input;
    const requested = ok(requestAgreement(demo.requester, input, now, catalogue), demo.input.id);
    await agreements.create(requested);
    if (demo.approver) await agreements.transition(ok(approveAgreement(requested.agreement, demo.approver, {}, now, catalogue), demo.input.id));
    created.push(demo.input.id);
  }
  await gateway.agreementRegistry.refresh();
  return created;
}

function ok(result: LifecycleResult, id: string): Extract<LifecycleResult, { ok: true }> {
  if (!result.ok) throw new Error(`demo agreement ${id} was refused: ${result.code} ${result.message}`);
  return result;
}
