import type { AgreementStore } from '../../gateway/agreements/agreement-store.ts';
import { approveAgreement, requestAgreement, type LifecycleResult } from '../../policies/agreement-lifecycle.ts';
import type { Catalogue, MaskKind } from '../../policies/catalogue.ts';
import type { AgreementQuota } from '../../policies/agreement.ts';
import type { OperationHash } from '../../gateway/operations/operation-manifest.ts';
import type { Principal } from '../../policies/principal.ts';

/** Who the benchmark's load speaks for, and the purpose each states (the `x-isthmus-purpose` header). */
export const BENCH_CONSUMERS = {
  /** 民政局's allowance review app: reads persons across all three bureaus. */
  reviewer: { bureau: 'civil-affairs', app: 'bench-allowance-review', scope: 'bench-allowance-review', purpose: 'minimum-living-allowance-review' },
  /** The one-stop citizen app: a signed-in citizen reads their own record. */
  citizenApp: { bureau: 'government-service-center', app: 'bench-one-stop-app', scope: 'bench-citizen-self-service', purpose: 'citizen-self-service' },
} as const;

/**
 * The reviewer's terms: every field `single`, `list100` and `denied-field`
 * read, `Person.address` masked to its district. (`Person.householdId` is of
 * category NONE: no agreement can cover it, which `denied-field` relies on.)
 */
const REVIEWER_FIELDS = ['Person.name', 'Person.address', 'Person.enterprises', 'Person.socialInsurance', 'SocialInsurance.contributionMonths', 'Enterprise.name', 'Enterprise.insuredEmployeeCount'];
const REVIEWER_MASKS: Readonly<Record<string, MaskKind>> = { 'Person.address': 'ADDRESS' };
/** The citizen's terms: their own name and address, the name masked as on a shared screen. */
const CITIZEN_FIELDS = ['Person.name', 'Person.address'];
const CITIZEN_MASKS: Readonly<Record<string, MaskKind>> = { 'Person.name': 'NAME' };

/** Terms every bench agreement gets on top of its fields: the `isthmus-hardened` system meters a quota. */
export interface BenchAgreementTerms {
  readonly quota?: AgreementQuota;
  /** The operations every agreement pins (`sha256:` hashes of the bench's documents). */
  readonly operations?: readonly OperationHash[];
}

const VALID_DAYS = 30;
const DAY_MS = 86_400_000;

/**
 * Creates and approves the benchmark's sharing agreements the way real ones
 * are made (requested by the consumer's developer, approved by the
 * provider's data officer, each step an event), one per providing bureau as
 * `catalogue` says who provides each field — so the same terms hold for the
 * mixed city and the all-GraphQL one, whose catalogues differ in who
 * provides entity keys. Fields of category `OPEN` need no agreement and are
 * left out. Returns the ids it stored.
 *
 * @throws Error when the lifecycle refuses a term (naming the agreement).
 */
export async function seedBenchAgreements(agreements: AgreementStore, catalogue: Catalogue, now: Date = new Date(), extra: BenchAgreementTerms = {}): Promise<readonly string[]> {
  const created: string[] = [];
  const { reviewer, citizenApp } = BENCH_CONSUMERS;
  const terms = [
    { name: 'reviewer', consumer: reviewer, fields: REVIEWER_FIELDS, masks: REVIEWER_MASKS, rowScope: 'ANY' as const },
    { name: 'citizen', consumer: citizenApp, fields: CITIZEN_FIELDS, masks: CITIZEN_MASKS, rowScope: 'SELF' as const },
  ];
  for (const term of terms) {
    const byProvider = new Map<string, string[]>();
    for (const coordinate of term.fields) {
      const field = catalogue.fields.get(coordinate);
      if (!field || field.category === 'OPEN') continue;
      byProvider.set(field.bureau, [...(byProvider.get(field.bureau) ?? []), coordinate]);
    }
    for (const [provider, fields] of byProvider) {
      const id = `agr-bench-${term.name}-${provider}`;
      if (await agreements.get(id)) continue;
      const masks = Object.fromEntries(Object.entries(term.masks).filter(([coordinate]) => fields.includes(coordinate)));
      const requested = ok(
        requestAgreement(
          staff(term.consumer.bureau, `bench-developer@${term.consumer.bureau}`, 'developer'),
          {
            id,
            consumerApp: term.consumer.app,
            providerBureau: provider,
            fields,
            masks,
            purpose: term.consumer.purpose,
            legalBasis: 'Isthmus benchmark (bench/): generated data only',
            rowScope: term.rowScope,
            scope: term.consumer.scope,
            ...(extra.quota ? { quota: extra.quota } : {}),
            ...(extra.operations ? { operations: extra.operations } : {}),
            // Not back-dated: a window starts no earlier than its request (agreement-terms.ts).
            validFrom: now.toISOString(),
            validUntil: new Date(now.getTime() + VALID_DAYS * DAY_MS).toISOString(),
            submit: true,
          },
          now,
          catalogue,
        ),
        id,
      );
      await agreements.create(requested);
      await agreements.transition(ok(approveAgreement(requested.agreement, staff(provider, `bench-officer@${provider}`, 'data_officer'), {}, now, catalogue), id));
      created.push(id);
    }
  }
  return created;
}

function staff(bureau: string, user: string, role: 'developer' | 'data_officer'): Principal {
  return { issuer: 'isthmus-dev', subject: user, user, bureau, app: 'isthmus-console', roles: [role], scopes: [], expiresAt: Number.MAX_SAFE_INTEGER };
}

function ok(result: LifecycleResult, id: string): Extract<LifecycleResult, { ok: true }> {
  if (!result.ok) throw new Error(`bench agreement ${id} was refused: ${result.code} ${result.message}`);
  return result;
}
