import { DEMO_CONSUMERS } from '../../examples/demo-agreements.ts';
import type { TestCity } from './test-city.ts';
import { bearer, HRSS } from './upstream-calls.ts';

/**
 * The housing fund's loan review asking the social security bureau for
 * insured statuses on a running test city: the people involved (its
 * developer who requests, the bureau's data officer who decides, a reader
 * whose token holds the new agreement's scope) and the request's body.
 */

/** Their headers; `officerToken` bare, for the CLI. */
export interface HousingFundPeople {
  readonly developer: Record<string, string>;
  readonly officerToken: string;
  readonly officer: Record<string, string>;
  /** Holds `scope` and states the loan review's purpose. */
  readonly reader: Record<string, string>;
}

/** Signs their tokens with the city's dev issuer. */
export async function housingFundPeople(testCity: TestCity, scope: string): Promise<HousingFundPeople> {
  const { housingFund } = DEMO_CONSUMERS;
  const officerToken = await testCity.token({ bureau: HRSS, app: 'isthmus-console', user: 'li.na@hrss', roles: ['data_officer'], ttl: '1h' });
  return {
    developer: bearer(await testCity.token({ bureau: housingFund.bureau, app: housingFund.app, user: 'zhao.qiang@housing-fund', roles: ['developer'], ttl: '1h' })),
    officerToken,
    officer: bearer(officerToken),
    reader: {
      ...bearer(await testCity.token({ bureau: housingFund.bureau, app: housingFund.app, user: 'qian.li@housing-fund', roles: ['developer'], scopes: [scope], ttl: '1h' })),
      'x-isthmus-purpose': housingFund.purpose,
    },
  };
}

/** `POST /agreements` for insured statuses under `scope`, valid from a minute ago for 100 days, submitted; `terms` adds the term under test. */
export function insuredStatusRequest(scope: string, legalBasis: string, terms: Record<string, unknown>): Record<string, unknown> {
  const now = Date.now();
  const { housingFund } = DEMO_CONSUMERS;
  return {
    consumerApp: housingFund.app,
    providerBureau: HRSS,
    fields: ['Person.socialInsurance', 'SocialInsurance.insuredStatus'],
    purpose: housingFund.purpose,
    legalBasis,
    rowScope: 'ANY',
    scope,
    validFrom: new Date(now - 60_000).toISOString(),
    validUntil: new Date(now + 100 * 86_400_000).toISOString(),
    ...terms,
    submit: true,
  };
}
