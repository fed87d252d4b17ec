/** One thing wrong with a bureau's schema or manifest. */
export interface CatalogueProblem {
  /** The file, relative to the schemas folder: `market-supervision/schema.graphql`. */
  readonly file: string;
  /** `Type.field`, `Type` or a manifest setting, where the problem has one. */
  readonly at?: string;
  readonly message: string;
}

/**
 * The bureau schemas cannot be served. Raised at start-up with every problem
 * found, so one run shows them all.
 */
export class CatalogueError extends Error {
  readonly code = 'CATALOGUE_INVALID';
  readonly problems: readonly CatalogueProblem[];
  constructor(problems: readonly CatalogueProblem[]) {
    super(
      `the bureau catalogue is invalid:\n${problems
        .map((problem) => `  ${problem.file}${problem.at ? ` ${problem.at}` : ''}: ${problem.message}`)
        .join('\n')}`,
    );
    this.name = 'CatalogueError';
    this.problems = problems;
  }
}
