import type { GraphQLSchema } from 'graphql';
import { printSchemaWithDirectives } from '@graphql-tools/utils';
import type { Connector } from '../../connectors/connector.ts';
import type { Catalogue, CatalogueBureau } from '../../policies/catalogue.ts';
import { createEnforcer, type Enforcer } from '../../policies/enforce.ts';
import { stitchBureaus } from '../graphql/stitch-bureaus.ts';
import { loadCatalogue, type LoadedCatalogue } from './load-catalogue.ts';
import { CatalogueError, type CatalogueProblem } from './catalogue-error.ts';

/**
 * One catalogue the gateway serves from, with everything built over it: a
 * connector per bureau, the stitched schema and its enforcer. A request
 * runs on the generation it started with to its end, whatever reloads
 * happen meanwhile.
 */
export interface CatalogueGeneration {
  /** 1 for the catalogue the gateway started with, one more per reload that took. */
  readonly number: number;
  readonly catalogue: Catalogue;
  readonly connectors: ReadonlyMap<string, Connector>;
  /** The schema clients query: every bureau stitched. */
  readonly schema: GraphQLSchema;
  /** One for `/graphql` and `explain` of this generation, so the two cannot disagree. */
  readonly enforcer: Enforcer;
  /** Marks a request as running on this generation; call what it returns once the request is done. */
  enter(): () => void;
}

/** What a reload did: the new generation and which bureaus it changed, or every problem of the folder (the running catalogue stays). */
export type CatalogueReload =
  | {
      readonly ok: true;
      readonly generation: number;
      readonly added: readonly string[];
      readonly removed: readonly string[];
      /** Bureaus whose schema or manifest changed: their connectors were replaced. */
      readonly changed: readonly string[];
      readonly unchanged: readonly string[];
    }
  | { readonly ok: false; readonly generation: number; readonly problems: readonly CatalogueProblem[] };

/** Options of {@link openCatalogueGenerations}. */
export interface CatalogueGenerationsOptions {
  /** The schemas folder, read at start and again on every reload. */
  readonly dir: string;
  /** Values for `${NAME}` in manifests. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly denyWholeOperation: boolean;
  /** Opens the connector of one bureau. */
  readonly connect: (bureau: CatalogueBureau, schema: GraphQLSchema) => Connector;
  /** Told about a connector that did not close cleanly. */
  readonly onCloseError?: (error: unknown, bureau: string) => void;
}

/** The catalogue the gateway serves from now, and how it changes without downtime. */
export interface CatalogueGenerations extends AsyncDisposable {
  /** The generation new requests start on. */
  current(): CatalogueGeneration;
  /**
   * Reads and validates the schemas folder again. A valid one becomes the
   * current generation (after `prepare`, which builds what serves it, has
   * succeeded); an invalid one changes nothing and is answered with every
   * problem. Reloads run one at a time.
   */
  reload(prepare?: (candidate: CatalogueGeneration) => void): Promise<CatalogueReload>;
}

interface Generation extends CatalogueGeneration {
  /** Per bureau, what its connector was built from: a bureau whose fingerprint is the same keeps its connector. */
  readonly fingerprints: ReadonlyMap<string, string>;
  inFlight: number;
  retired: boolean;
}

/**
 * Loads the catalogue (an invalid one throws {@link CatalogueError} naming
 * file and field of every problem) and builds its first generation.
 *
 * Connector lifetime: a reload keeps the connector of every bureau whose
 * manifest and schema are unchanged, and opens new ones for the rest. A
 * connector is closed once no generation that still has requests running
 * (or is current) uses it, so a request in flight keeps the connectors it
 * started with, and a slow bureau's call finishes on them.
 *
 * @example
 * const generations = openCatalogueGenerations({ dir, env, denyWholeOperation: false, connect });
 * const result = await generations.reload();
 * if (!result.ok) for (const problem of result.problems) console.log(problem.file, problem.at, problem.message);
 */
export function openCatalogueGenerations(options: CatalogueGenerationsOptions): CatalogueGenerations {
  const live = new Set<Generation>();
  let current = build(loadCatalogue({ dir: options.dir, env: options.env }), 1, undefined);
  live.add(current);
  let queue: Promise<unknown> = Promise.resolve();

  function build(loaded: LoadedCatalogue, number: number, previous: Generation | undefined): Generation {
    const { catalogue, schemas } = loaded;
    const fingerprints = new Map<string, string>();
    const connectors = new Map<string, Connector>();
    const opened: Connector[] = [];
    try {
      for (const bureau of catalogue.bureaus.values()) {
        const schema = schemas.get(bureau.id)!;
        const fingerprint = JSON.stringify(bureau.connector) + '\n' + printSchemaWithDirectives(schema);
        fingerprints.set(bureau.id, fingerprint);
        const kept = previous?.fingerprints.get(bureau.id) === fingerprint ? previous.connectors.get(bureau.id) : undefined;
        if (kept) {
          connectors.set(bureau.id, kept);
        } else {
          const connector = options.connect(bureau, schema);
          opened.push(connector);
          connectors.set(bureau.id, connector);
        }
      }
      const schema = stitchBureaus(catalogue, connectors);
      const enforcer = createEnforcer({ schema, catalogue, denyWholeOperation: options.denyWholeOperation });
      const generation: Generation = {
        number,
        catalogue,
        connectors,
        schema,
        enforcer,
        fingerprints,
        inFlight: 0,
        retired: false,
        enter() {
          generation.inFlight += 1;
          let left = false;
          return () => {
            if (left) return;
            left = true;
            generation.inFlight -= 1;
            if (generation.retired && generation.inFlight === 0) void drop(generation);
          };
        },
      };
      return generation;
    } catch (error) {
      void closeAll(opened);
      throw error;
    }
  }

  /** A retired generation with nothing running: close the connectors no live generation uses any more. */
  async function drop(generation: Generation): Promise<void> {
    live.delete(generation);
    const inUse = new Set([...live].flatMap((other) => [...other.connectors.values()]));
    await closeAll([...generation.connectors.values()].filter((connector) => !inUse.has(connector)));
  }

  async function closeAll(connectors: readonly Connector[]): Promise<void> {
    await Promise.all(connectors.map((connector) => connector.close().catch((error: unknown) => options.onCloseError?.(error, connector.bureau))));
  }

  async function reloadNow(prepare: ((candidate: CatalogueGeneration) => void) | undefined): Promise<CatalogueReload> {
    let loaded: LoadedCatalogue;
    try {
      loaded = loadCatalogue({ dir: options.dir, env: options.env });
    } catch (error) {
      if (error instanceof CatalogueError) return { ok: false, generation: current.number, problems: error.problems };
      throw error;
    }
    const previous = current;
    const candidate = build(loaded, previous.number + 1, previous);
    try {
      prepare?.(candidate);
    } catch (error) {
      await closeAll([...candidate.connectors.values()].filter((connector) => ![...previous.connectors.values()].includes(connector)));
      throw error;
    }
    live.add(candidate);
    current = candidate;
    previous.retired = true;
    if (previous.inFlight === 0) await drop(previous);
    const before = new Set(previous.catalogue.bureaus.keys());
    const after = [...candidate.catalogue.bureaus.keys()];
    return {
      ok: true,
      generation: candidate.number,
      added: after.filter((id) => !before.has(id)).sort(),
      removed: [...before].filter((id) => !candidate.catalogue.bureaus.has(id)).sort(),
      changed: after.filter((id) => before.has(id) && candidate.connectors.get(id) !== previous.connectors.get(id)).sort(),
      unchanged: after.filter((id) => candidate.connectors.get(id) === previous.connectors.get(id)).sort(),
    };
  }

  return {
    current: () => current,
    reload(prepare) {
      const next = queue.then(() => reloadNow(prepare));
      queue = next.catch(() => undefined);
      return next;
    },
    async [Symbol.asyncDispose]() {
      await queue;
      await closeAll([...new Set([...live].flatMap((generation) => [...generation.connectors.values()]))]);
      live.clear();
    },
  };
}
