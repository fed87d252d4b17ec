import {
  Kind,
  visit,
  type DocumentNode,
  type FieldNode,
  type InlineFragmentNode,
  type NameNode,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import type { OperationPlan, PlannedField } from './field-plan.ts';

/**
 * Rebuilds an executable document from `plan` with only the fields `keep`
 * accepts: the document the gateway executes, so that a field that was not
 * kept is never fetched from a bureau.
 *
 * - Fragments are inlined, `@include`/`@skip` already resolved and gone;
 *   aliases stay, so the result has the response keys the client asked for.
 * - Arguments are the original AST nodes, so variables still work.
 * - Variable definitions are the original ones, less those no kept field
 *   refers to any more: the printed document passes GraphQL validation.
 * - A field whose parent is not kept is not kept either, whatever `keep`
 *   says of it.
 * - `__typename` is selected where a selection set would otherwise be empty
 *   (also at the root, when no root field is kept), and below every
 *   interface or union, where the concrete types' fields sit in `... on T`
 *   fragments and masks need the type to tell them apart. The caller drops
 *   response keys the client did not ask for.
 * - Other directives are dropped: `@include` and `@skip` are the only
 *   executable directives the gateway serves.
 *
 * @example
 * ```ts
 * const document = printPlan(plan, keepAllowed(decision));
 * print(document);
 * // query ($id: ID!) { p1: person(idNumber: $id) { name __typename } }   (address denied, enterprises dropped)
 * ```
 */
export function printPlan(plan: OperationPlan, keep: (field: PlannedField) => boolean): DocumentNode {
  const selectionSet = objectSelections(plan.fields, keep);
  const used = new Set<string>();
  visit(selectionSet, {
    Variable(node) {
      used.add(node.name.value);
    },
  });
  const operation: OperationDefinitionNode = {
    kind: Kind.OPERATION_DEFINITION,
    operation: plan.operation,
    ...(plan.operationName === undefined ? {} : { name: name(plan.operationName) }),
    variableDefinitions: plan.variableDefinitions.filter((definition) => used.has(definition.variable.name.value)),
    directives: [],
    selectionSet,
  };
  return { kind: Kind.DOCUMENT, definitions: [operation] };
}

function objectSelections(fields: readonly PlannedField[], keep: (field: PlannedField) => boolean): SelectionSetNode {
  const selections: SelectionNode[] = fields.filter(keep).map((field) => fieldNode(field, keep));
  return selectionSet(selections.length > 0 ? selections : [typename()]);
}

function abstractSelections(fields: readonly PlannedField[], keep: (field: PlannedField) => boolean): SelectionSetNode {
  const kept = fields.filter(keep);
  const byType = new Map<string, PlannedField[]>();
  for (const field of kept) {
    const group = byType.get(field.parentType) ?? [];
    group.push(field);
    byType.set(field.parentType, group);
  }
  const fragments = [...byType].map(
    ([typeName, group]): InlineFragmentNode => ({
      kind: Kind.INLINE_FRAGMENT,
      typeCondition: { kind: Kind.NAMED_TYPE, name: name(typeName) },
      directives: [],
      selectionSet: selectionSet(group.map((field) => fieldNode(field, keep))),
    }),
  );
  // An alias may already claim the response key `__typename`; then it must not be selected a second way.
  const claimed = kept.some((field) => field.responseKey === '__typename' && field.fieldName !== '__typename');
  return selectionSet(claimed ? fragments : [typename(), ...fragments]);
}

function fieldNode(field: PlannedField, keep: (field: PlannedField) => boolean): FieldNode {
  return {
    kind: Kind.FIELD,
    ...(field.responseKey === field.fieldName ? {} : { alias: name(field.responseKey) }),
    name: name(field.fieldName),
    arguments: field.argumentNodes,
    directives: [],
    ...(field.returnKind === 'LEAF'
      ? {}
      : { selectionSet: field.returnKind === 'ABSTRACT' ? abstractSelections(field.children, keep) : objectSelections(field.children, keep) }),
  };
}

function typename(): FieldNode {
  return { kind: Kind.FIELD, name: name('__typename'), arguments: [], directives: [] };
}

function selectionSet(selections: readonly SelectionNode[]): SelectionSetNode {
  return { kind: Kind.SELECTION_SET, selections };
}

function name(value: string): NameNode {
  return { kind: Kind.NAME, value };
}
