import type { BureauDatabase } from '../bureau-server.ts';

/** One row of the HRSS bureau's own record of a read made through Isthmus (`audit.isthmus_reads`). */
export interface IsthmusRead {
  readonly consumerBureau: string | null;
  readonly consumerApp: string | null;
  readonly consumerUser: string | null;
  readonly purpose: string | null;
  readonly caseId: string | null;
  readonly agreementIds: readonly string[];
  readonly requestId: string | null;
  readonly tableName: string;
  /** The insured person read. */
  readonly idNumber: string;
}

/**
 * The bureau's record of reads through Isthmus, oldest first, as the bureau
 * itself reads it (beside the gateway's connection).
 *
 * @example
 * const reads = await isthmusReads(bureaus.hrss);
 * reads.filter((read) => read.requestId === reply.headers.get('x-request-id'));
 */
export async function isthmusReads(database: BureauDatabase): Promise<IsthmusRead[]> {
  const rows = await database.query<{
    consumer_bureau: string | null;
    consumer_app: string | null;
    consumer_user: string | null;
    purpose: string | null;
    case_id: string | null;
    agreement_ids: string[];
    request_id: string | null;
    table_name: string;
    id_number: string;
  }>(
    `select consumer_bureau, consumer_app, consumer_user, purpose, case_id, agreement_ids, request_id, table_name, id_number
       from audit.isthmus_reads order by id`,
  );
  return rows.map((row) => ({
    consumerBureau: row.consumer_bureau,
    consumerApp: row.consumer_app,
    consumerUser: row.consumer_user,
    purpose: row.purpose,
    caseId: row.case_id,
    agreementIds: row.agreement_ids,
    requestId: row.request_id,
    tableName: row.table_name,
    idNumber: row.id_number,
  }));
}
