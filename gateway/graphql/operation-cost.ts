import {
  Kind,
  getNamedType,
  getNullableType,
  isListType,
  isObjectType,
  isInterfaceType,
  type ASTVisitor,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLNamedType,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { ListSize } from '../../policies/catalogue.ts';
import { documentError } from './error-codes.ts';

/** The code of an operation refused for its cost (`LIMIT_EXCEEDED`, reason `COST_LIMIT`). */
export type OperationCostErrorCode = 'COST_LIMIT';

/** What the cost of an operation is measured against. */
export interface OperationCostOptions {
  /** Highest cost an operation may have (`ISTHMUS_MAX_COST`). */
  readonly maxCost: number;
  /** The size of a list whose bureau says nothing of it (`@listSize`), nor its arguments. */
  readonly defaultListSize: number;
  /** The catalogue's `@listSize` of each list field, by coordinate. */
  readonly listSizes: ReadonlyMap<string, ListSize>;
}

/**
 * Refuses an operation whose cost is over `maxCost`, before any bureau is
 * called. The cost is list sizes × selected fields: every selected field
 * counts 1 plus what it selects, and a list field multiplies that by its
 * size, so nested lists multiply. A list's size is its slicing argument's
 * value (`first: 10`, or the items of `idNumbers: [...]`), else its
 * `@listSize(assumedSize:)`, else `defaultListSize`. Introspection
 * (`__schema`, `__typename`) costs nothing: its size is the schema's, not the
 * bureaus'. Runs as a validation rule, so yoga's validation cache makes it
 * free for documents it has seen; a slicing argument given as a variable is
 * therefore counted at its assumed size.
 *
 * @example
 * // persons(idNumbers: ["a", "b"]) { name enterprises { name } } with Person.enterprises @listSize(assumedSize: 20):
 * // 2 × (1 + 1 + 20 × (1 + 1)) = 84
 */
export function useOperationCost(options: OperationCostOptions): Plugin {
  if (!(options.maxCost > 0) || !(options.defaultListSize > 0)) throw new RangeError('operation cost limits must be positive');
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(operationCostRule(options));
    },
  };
}

/** The validation rule {@link useOperationCost} adds, for graphql's `validate` directly. */
export function operationCostRule(options: OperationCostOptions): (context: ValidationContext) => ASTVisitor {
  return (context) => costRule(context, options);
}

function costRule(context: ValidationContext, options: OperationCostOptions): ASTVisitor {
  return {
    OperationDefinition(node) {
      const schema = context.getSchema();
      const root = node.operation === 'query' ? schema.getQueryType() : node.operation === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
      if (!root) return;
      const fragments = new Map(
        context
          .getDocument()
          .definitions.filter((definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION)
          .map((fragment) => [fragment.name.value, fragment]),
      );
      const cost = new CostWalk(schema, options, fragments).selections(node.selectionSet, root);
      if (cost > options.maxCost) {
        const shown = cost >= Number.MAX_SAFE_INTEGER ? 'more than can be counted' : String(cost);
        context.reportError(
          documentError('COST_LIMIT', `The operation's cost (list sizes × selected fields) is ${shown}, over the limit of ${options.maxCost}.`, {
            limit: 'cost',
            cost: Math.min(cost, Number.MAX_SAFE_INTEGER),
            max: options.maxCost,
          }),
        );
      }
    },
  };
}

/** One walk over one operation: each named fragment is costed once per type it is spread on. */
class CostWalk {
  readonly #schema: GraphQLSchema;
  readonly #options: OperationCostOptions;
  readonly #fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  readonly #fragmentCosts = new Map<string, number>();
  readonly #visiting = new Set<string>();

  constructor(schema: GraphQLSchema, options: OperationCostOptions, fragments: ReadonlyMap<string, FragmentDefinitionNode>) {
    this.#schema = schema;
    this.#options = options;
    this.#fragments = fragments;
  }

  selections(selectionSet: SelectionSetNode, parent: GraphQLNamedType): number {
    let cost = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) cost = saturated(cost + this.#field(selection, parent));
      else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? this.#schema.getType(selection.typeCondition.name.value) : parent;
        if (type) cost = saturated(cost + this.selections(selection.selectionSet, type));
      } else cost = saturated(cost + this.#spread(selection.name.value));
    }
    return cost;
  }

  #spread(name: string): number {
    const known = this.#fragmentCosts.get(name);
    if (known !== undefined) return known;
    const fragment = this.#fragments.get(name);
    // An unknown fragment or a cycle is another rule's error: it costs nothing here.
    if (!fragment || this.#visiting.has(name)) return 0;
    const type = this.#schema.getType(fragment.typeCondition.name.value);
    if (!type) return 0;
    this.#visiting.add(name);
    const cost = this.selections(fragment.selectionSet, type);
    this.#visiting.delete(name);
    this.#fragmentCosts.set(name, cost);
    return cost;
  }

  #field(node: FieldNode, parent: GraphQLNamedType): number {
    if (node.name.value.startsWith('__')) return 0;
    if (!isObjectType(parent) && !isInterfaceType(parent)) return 0;
    const definition = parent.getFields()[node.name.value];
    // An unknown field is another rule's error.
    if (!definition) return 0;
    const below = node.selectionSet ? this.selections(node.selectionSet, getNamedType(definition.type)) : 0;
    const size = isListType(getNullableType(definition.type)) ? this.#sizeOf(node, `${parent.name}.${definition.name}`) : 1;
    return saturated(size * (1 + below));
  }

  #sizeOf(node: FieldNode, coordinate: string): number {
    const listSize = this.#options.listSizes.get(coordinate);
    if (!listSize) return this.#options.defaultListSize;
    let sliced: number | undefined;
    for (const argument of node.arguments ?? []) {
      if (!listSize.slicingArguments.includes(argument.name.value)) continue;
      const value = argument.value;
      const size = value.kind === Kind.INT ? Math.max(0, Number(value.value)) : value.kind === Kind.LIST ? value.values.length : undefined;
      if (size !== undefined) sliced = Math.max(sliced ?? 0, size);
    }
    return sliced ?? listSize.assumedSize ?? this.#options.defaultListSize;
  }
}

function saturated(cost: number): number {
  return Number.isFinite(cost) && cost < Number.MAX_SAFE_INTEGER ? cost : Number.MAX_SAFE_INTEGER;
}
