import { Hono } from 'hono';
import type { Agreement } from '../../policies/agreement.ts';
import type { Catalogue } from '../../policies/catalogue.ts';
import type { AgreementStore } from '../agreements/agreement-store.ts';
import { signedInAs } from './auditor-routes.ts';
import type { ConsoleEnv, RenderPage } from './console-env.ts';
import type { ReadLogAsLogged } from './console-log-reads.ts';
import { receiptDownload } from './receipt-download.ts';
import type { WitnessNamer } from './witness-names.ts';
import { renderCitizenReadsPage, type CitizenRead } from './views/citizen-reads-page.ts';

/** Reads shown per page on a phone: a short list, then "next page". */
const CITIZEN_PAGE_SIZE = 20;

/** What the citizen's page needs. */
export interface CitizenRoutesDeps {
  readonly readLog: ReadLogAsLogged;
  readonly agreements: Pick<AgreementStore, 'get'>;
  readonly catalogue: Pick<Catalogue, 'fields'>;
  readonly render: RenderPage;
  /** Witnesses as the city calls them, for the receipts' words. Default: their key names. */
  readonly witnessName?: WitnessNamer;
}

/**
 * The citizen's page: who read their data, when, which fields, why, under
 * which agreement and legal basis, and each read's receipt — provably in the
 * city's log, cosigned by the named witness — to download as JSON. The rows
 * are the reader's citizen view (`readAccessLog`): only entries about the
 * signed-in citizen, none whose disclosure delay has not ended, not their own
 * reads of the log. Looking (and downloading) is itself recorded, as the API
 * records it.
 */
export function createCitizenRoutes(deps: CitizenRoutesDeps): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();
  const witnessName = deps.witnessName ?? ((witness: string) => witness);
  app.get('/citizen/reads', async (c) => {
    const viewer = signedInAs(c, ['citizen']);
    const cursor = c.req.query('cursor');
    const result = await deps.readLog(c, viewer, {}, { limit: CITIZEN_PAGE_SIZE, ...(cursor ? { cursor } : {}) }, 'GET /citizen/reads', true);
    const items = result.view === 'citizen' ? result.items : [];
    // The agreements behind the reads, once each: their legal basis is what the citizen is owed. The basis the entry recorded at the read wins; older entries look it up.
    const recorded = (item: (typeof items)[number], id: string): string | undefined => item.agreements?.find((used) => used.id === id)?.legalBasis;
    const ids = [...new Set(items.flatMap((item) => item.agreementIds.filter((id) => recorded(item, id) === undefined)))];
    const found = await Promise.all(ids.map(async (id) => [id, (await deps.agreements.get(id))?.agreement] as const));
    const byId = new Map<string, Agreement | undefined>(found);
    const reads: CitizenRead[] = items.map((item) => ({
      item,
      agreements: item.agreementIds.map((id) => {
        const legalBasis = recorded(item, id) ?? byId.get(id)?.legalBasis;
        return { id, ...(legalBasis !== undefined && { legalBasis }) };
      }),
    }));
    const t = c.get('t');
    return deps.render(c, t.t('citizen.title'), (page) => renderCitizenReadsPage(page, reads, deps.catalogue, result.nextCursor, (witness) => witnessName(witness, t.locale)));
  });
  app.get('/citizen/reads/:id{[0-9a-f-]{36}}/receipt', async (c) => {
    const viewer = signedInAs(c, ['citizen']);
    const id = c.req.param('id');
    const result = await deps.readLog(c, viewer, { entryId: id }, { limit: 1 }, 'GET /citizen/reads/:id/receipt', true);
    return receiptDownload(c, id, result.items[0]);
  });
  return app;
}
