import { GraphQLError, Kind, type ASTVisitor, type FragmentDefinitionNode, type SelectionSetNode, type ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { documentError } from './error-codes.ts';

/** Limits on the shape of one operation. */
export interface OperationLimits {
  /** Deepest nesting of selections, fragments expanded. */
  readonly maxDepth: number;
  /** Most aliased fields in one document. */
  readonly maxAliases: number;
}

/**
 * Refuses operations that are too deep or use too many aliases, before any
 * bureau is called. Runs as validation rules, so yoga's validation cache
 * makes the check free for documents it has seen. A refusal is a validation
 * failure: `LIMIT_EXCEEDED` with 400 for `application/graphql-response+json`,
 * 200 for `application/json` (see {@link documentError}).
 */
export function useOperationLimits(limits: OperationLimits): Plugin {
  if (!(limits.maxDepth > 0) || !(limits.maxAliases >= 0)) throw new Error('operation limits must be positive');
  return {
    onValidate({ addValidationRule }) {
      addValidationRule((context: ValidationContext) => limitsRule(context, limits));
    },
  };
}

function limitsRule(context: ValidationContext, limits: OperationLimits): ASTVisitor {
  let aliases = 0;
  return {
    Field(node) {
      if (node.alias && ++aliases === limits.maxAliases + 1) {
        context.reportError(limitError(`The operation uses more than ${limits.maxAliases} aliases.`, 'aliases', limits.maxAliases));
      }
    },
    OperationDefinition(node) {
      const fragments = new Map(
        context
          .getDocument()
          .definitions.filter((definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION)
          .map((fragment) => [fragment.name.value, fragment]),
      );
      const depth = depthOf(node.selectionSet, fragments, new Set(), limits.maxDepth + 1);
      if (depth > limits.maxDepth) {
        context.reportError(limitError(`The operation is nested deeper than ${limits.maxDepth} levels.`, 'depth', limits.maxDepth));
      }
    },
  };
}

/** Depth of a selection set, stopping once it passes `cap` (cycles are another rule's business). */
function depthOf(selectionSet: SelectionSetNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>, visiting: Set<string>, cap: number): number {
  if (cap <= 0) return 0;
  let deepest = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      deepest = Math.max(deepest, selection.selectionSet ? 1 + depthOf(selection.selectionSet, fragments, visiting, cap - 1) : 1);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      deepest = Math.max(deepest, depthOf(selection.selectionSet, fragments, visiting, cap));
    } else {
      const fragment = fragments.get(selection.name.value);
      if (!fragment || visiting.has(fragment.name.value)) continue;
      visiting.add(fragment.name.value);
      deepest = Math.max(deepest, depthOf(fragment.selectionSet, fragments, visiting, cap));
      visiting.delete(fragment.name.value);
    }
    if (deepest >= cap) return deepest;
  }
  return deepest;
}

function limitError(message: string, limit: string, max: number): GraphQLError {
  return documentError('LIMIT_EXCEEDED', message, { limit, max });
}
