import { sql, type Kysely } from 'kysely';
import { proveConsistency } from '../../gateway/access-log/log-tree-store.ts';
import type { StoreSchema } from '../../gateway/store/store-schema.ts';

/** What one witness has cosigned of one chain: the size it holds, and the next checkpoint number to send. */
interface Sent {
  size: number;
  next: number;
}

/**
 * Sends a chain's checkpoints, in number order, to a witness over the
 * C2SP tlog-witness `POST /add-checkpoint` (`old <N>`, the consistency proof
 * from N computed by the gateway's proof helper, the signed note), and
 * records each cosignature in `access_log_cosignatures`, as the gateway's
 * publisher does — but when called, so a test knows exactly what was witnessed.
 */
export function createWitnessPublisher(db: Kysely<StoreSchema>, witness: { readonly name: string; readonly url: string }) {
  const sent = new Map<string, Sent>();
  return {
    /** Sends every checkpoint of `chainId` not sent yet; resolves with how many the witness cosigned. */
    async publish(chainId: string): Promise<number> {
      const state = sent.get(chainId) ?? { size: 0, next: 0 };
      sent.set(chainId, state);
      const { rows } = await sql<{ number: number; size: string | number; note: string }>`
        select number, size, note from access_log_tree_checkpoints where chain_id = ${chainId} and number >= ${state.next} order by number`.execute(db);
      let cosigned = 0;
      for (const row of rows) {
        const size = Number(row.size);
        const proof = state.size > 0 && state.size < size ? await proveConsistency(db, chainId, state.size, size) : [];
        const body = `old ${state.size}\n${proof.map((hash) => `${Buffer.from(hash).toString('base64')}\n`).join('')}\n${row.note}`;
        const response = await fetch(`${witness.url}/add-checkpoint`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body, signal: AbortSignal.timeout(10_000) });
        const text = await response.text();
        if (response.status !== 200) throw new Error(`witness ${witness.name} refused checkpoint #${row.number} of ${chainId}: ${response.status} ${text}`);
        await sql`insert into access_log_cosignatures (chain_id, number, witness, signature, cosigned_at) values (${chainId}, ${row.number}, ${witness.name}, ${text}, now())`.execute(db);
        state.size = size;
        state.next = row.number + 1;
        cosigned += 1;
      }
      return cosigned;
    },
  };
}
