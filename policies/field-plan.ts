import {
  GraphQLError,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  TypeNameMetaFieldDef,
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  getVariableValues,
  isAbstractType,
  isLeafType,
  isNonNullType,
  isObjectType,
  print,
  typeFromAST,
  type ArgumentNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type OperationTypeNode,
  type SelectionSetNode,
  type VariableDefinitionNode,
} from 'graphql';

/**
 * The field plan of one GraphQL operation: exactly the fields it touches,
 * once named fragments, inline fragments, aliases, variables and
 * `@include`/`@skip` are resolved. Decisions are taken on the plan, and the
 * document the gateway executes is printed back from it (`print-plan.ts`),
 * so what is decided and what is fetched can never drift apart.
 */

/** What a field returns, as far as selecting beneath it is concerned. */
export type ReturnKind = 'LEAF' | 'OBJECT' | 'ABSTRACT';

/** One field the operation touches, with everything merged into it under its response key. */
export interface PlannedField {
  /**
   * Unique within the plan: the response keys from the root joined by `.`;
   * below an interface or union each segment is qualified by its concrete
   * type (`search.Person:name`), because one response key may then stand
   * for fields of several types.
   */
  readonly key: string;
  /** The alias, or the field name. */
  readonly responseKey: string;
  readonly fieldName: string;
  /** The concrete object type the field is selected on. */
  readonly parentType: string;
  /** `Type.field`; root fields are `Query.person`. */
  readonly coordinate: string;
  /** Response keys from the root, e.g. `['p1', 'enterprises', 'name']`. */
  readonly path: readonly string[];
  /** Argument values, coerced and with variables substituted (defaults applied). */
  readonly args: Readonly<Record<string, unknown>>;
  /** The argument nodes as written, so that a printed plan still refers to the operation's variables. */
  readonly argumentNodes: readonly ArgumentNode[];
  /** The named type the field returns (`Person` for `[Person]!`). */
  readonly returnType: string;
  readonly returnKind: ReturnKind;
  /** `__typename`, `__schema`, `__type` and everything selected beneath them. */
  readonly introspection: boolean;
  /** Sub-fields in selection order; below an abstract type, grouped by concrete type in the schema's order. */
  readonly children: readonly PlannedField[];
}

/** A resolved operation. */
export interface OperationPlan {
  readonly kind: 'plan';
  readonly operation: OperationTypeNode;
  readonly operationName?: string;
  /** The operation's variable definitions, as written. */
  readonly variableDefinitions: readonly VariableDefinitionNode[];
  /** The variables' values, coerced, with defaults applied. */
  readonly variables: Readonly<Record<string, unknown>>;
  /** `Query`, or the schema's own name for it. */
  readonly rootType: string;
  readonly fields: readonly PlannedField[];
}

/** Why an operation could not be planned. */
export type PlanProblemCode =
  | 'NO_OPERATION'
  | 'OPERATION_NOT_FOUND'
  | 'OPERATION_NAME_REQUIRED'
  | 'UNSUPPORTED_OPERATION'
  | 'VARIABLE_MISSING'
  | 'VARIABLE_INVALID'
  | 'UNKNOWN_FRAGMENT'
  | 'UNKNOWN_TYPE'
  | 'UNKNOWN_FIELD'
  | 'INVALID_ARGUMENT'
  | 'FIELD_CONFLICT'
  | 'TOO_DEEP';

/** An operation that cannot be planned. The message names variables and fields, never their values. */
export interface PlanProblem {
  readonly kind: 'problem';
  readonly code: PlanProblemCode;
  readonly message: string;
}

/** Nesting beyond this is refused: it only happens through a fragment that spreads itself below a field. */
export const DEFAULT_MAX_PLAN_DEPTH = 64;

const INTROSPECTION_ROOT_FIELDS = new Set([SchemaMetaFieldDef.name, TypeMetaFieldDef.name]);

/**
 * Plans `operationName` of `document` (or its only operation) with
 * `variables`. The document should have passed GraphQL validation; an
 * unvalidated one is still planned safely or refused with a
 * {@link PlanProblem}, never a throw.
 *
 * @example
 * ```ts
 * const plan = planOperation(schema, parse(`
 *   query ($id: ID!, $withAddress: Boolean!) {
 *     p1: person(idNumber: $id) { ...Basic address @include(if: $withAddress) }
 *   }
 *   fragment Basic on Person { name }
 * `), undefined, { id: '330402198203151234', withAddress: false });
 * // plan.kind === 'plan'
 * // plan.fields[0]: { responseKey: 'p1', coordinate: 'Query.person', args: { idNumber: '3304…' },
 * //                   children: [{ coordinate: 'Person.name', path: ['p1', 'name'], … }] }
 * ```
 */
export function planOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName?: string | null,
  variables?: Readonly<Record<string, unknown>> | null,
): OperationPlan | PlanProblem {
  try {
    return plan(schema, document, operationName ?? undefined, variables ?? {});
  } catch (error) {
    if (error instanceof Refusal) return { kind: 'problem', code: error.code, message: error.message };
    throw error;
  }
}

/** Every planned field, depth first, parents before their children. */
export function planFields(plan: OperationPlan): PlannedField[] {
  const all: PlannedField[] = [];
  const walk = (fields: readonly PlannedField[]): void => {
    for (const field of fields) {
      all.push(field);
      walk(field.children);
    }
  };
  walk(plan.fields);
  return all;
}

/** Control flow inside the planner only: {@link planOperation} turns it into a {@link PlanProblem}. */
class Refusal extends Error {
  readonly code: PlanProblemCode;
  constructor(code: PlanProblemCode, message: string) {
    super(message);
    this.code = code;
  }
}

interface Context {
  readonly schema: GraphQLSchema;
  readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  readonly variables: Readonly<Record<string, unknown>>;
}

function plan(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | undefined,
  inputs: Readonly<Record<string, unknown>>,
): OperationPlan {
  const operation = chooseOperation(document, operationName);
  const rootType = schema.getRootType(operation.operation);
  if (!rootType) throw new Refusal('UNSUPPORTED_OPERATION', `the schema has no ${operation.operation} type`);
  const variableDefinitions = operation.variableDefinitions ?? [];
  const variables = coerceVariables(schema, variableDefinitions, inputs);
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const context: Context = { schema, fragments, variables };
  const fields = planSelections(context, rootType, [operation.selectionSet], [], '', false, 0);
  return {
    kind: 'plan',
    operation: operation.operation,
    ...(operation.name ? { operationName: operation.name.value } : {}),
    variableDefinitions,
    variables,
    rootType: rootType.name,
    fields,
  };
}

function chooseOperation(document: DocumentNode, operationName: string | undefined): OperationDefinitionNode {
  const operations = document.definitions.filter(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  );
  if (operationName !== undefined) {
    const named = operations.find((operation) => operation.name?.value === operationName);
    if (!named) throw new Refusal('OPERATION_NOT_FOUND', `the document has no operation named "${operationName}"`);
    return named;
  }
  if (operations.length === 0) throw new Refusal('NO_OPERATION', 'the document has no operation');
  if (operations.length > 1) throw new Refusal('OPERATION_NAME_REQUIRED', 'the document has several operations: name the one to run');
  return operations[0]!;
}

function coerceVariables(
  schema: GraphQLSchema,
  definitions: readonly VariableDefinitionNode[],
  inputs: Readonly<Record<string, unknown>>,
): Readonly<Record<string, unknown>> {
  for (const definition of definitions) {
    const name = definition.variable.name.value;
    const given = Object.hasOwn(inputs, name) ? inputs[name] : undefined;
    if (isNonNullType(typeFromAST(schema, definition.type)) && !definition.defaultValue && (given === undefined || given === null)) {
      throw new Refusal('VARIABLE_MISSING', `variable $${name} is required but has no value`);
    }
  }
  const result = getVariableValues(schema, definitions, inputs as Record<string, unknown>, { hideSuggestions: true, maxErrors: 50 });
  if (result.errors) {
    // graphql's own messages quote the offending values, which may be personal data.
    const names = result.errors.flatMap((error) =>
      (error.nodes ?? []).flatMap((node) => (node.kind === Kind.VARIABLE_DEFINITION ? [`$${node.variable.name.value}`] : [])),
    );
    const which = names.length > 0 ? [...new Set(names)].join(', ') : 'a variable';
    throw new Refusal('VARIABLE_INVALID', `${which}: invalid value for the declared type`);
  }
  return result.coerced;
}

/**
 * Plans the fields that `selectionSets`, all selected on `parentType`,
 * resolve to: the collection step of GraphQL execution, plus recursion.
 */
function planSelections(
  context: Context,
  parentType: GraphQLObjectType,
  selectionSets: readonly SelectionSetNode[],
  parentPath: readonly string[],
  parentKey: string,
  parentIsAbstract: boolean,
  depth: number,
): PlannedField[] {
  if (depth > DEFAULT_MAX_PLAN_DEPTH) {
    throw new Refusal('TOO_DEEP', `the operation nests deeper than ${DEFAULT_MAX_PLAN_DEPTH} levels`);
  }
  const grouped = new Map<string, FieldNode[]>();
  const visitedFragments = new Set<string>();
  for (const selectionSet of selectionSets) collect(context, parentType, selectionSet, grouped, visitedFragments);

  const planned: PlannedField[] = [];
  for (const [responseKey, nodes] of grouped) {
    const first = nodes[0]!;
    const fieldName = first.name.value;
    const definition = fieldDefinition(context.schema, parentType, fieldName);
    const coordinate = `${parentType.name}.${fieldName}`;
    if (!definition) throw new Refusal('UNKNOWN_FIELD', `${coordinate} does not exist`);
    for (const other of nodes.slice(1)) {
      if (other.name.value !== fieldName || printArguments(other) !== printArguments(first)) {
        throw new Refusal('FIELD_CONFLICT', `"${responseKey}" on ${parentType.name} selects different fields or arguments`);
      }
    }
    let args: Record<string, unknown>;
    try {
      args = getArgumentValues(definition, first, context.variables as Record<string, unknown>);
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
      throw new Refusal('INVALID_ARGUMENT', `${coordinate} has a missing or invalid argument`);
    }
    const path = [...parentPath, responseKey];
    const segment = parentIsAbstract ? `${parentType.name}:${responseKey}` : responseKey;
    const key = parentKey === '' ? segment : `${parentKey}.${segment}`;
    const namedType = getNamedType(definition.type);
    const returnKind: ReturnKind = isLeafType(namedType) ? 'LEAF' : isAbstractType(namedType) ? 'ABSTRACT' : 'OBJECT';
    const subSelections = nodes.flatMap((node) => (node.selectionSet ? [node.selectionSet] : []));
    let children: PlannedField[] = [];
    if (isObjectType(namedType)) {
      children = planSelections(context, namedType, subSelections, path, key, false, depth + 1);
    } else if (isAbstractType(namedType)) {
      for (const possible of context.schema.getPossibleTypes(namedType)) {
        children.push(...planSelections(context, possible, subSelections, path, key, true, depth + 1));
      }
    }
    planned.push({
      key,
      responseKey,
      fieldName,
      parentType: parentType.name,
      coordinate,
      path,
      args,
      argumentNodes: first.arguments ?? [],
      returnType: namedType.name,
      returnKind,
      introspection: fieldName.startsWith('__') || parentType.name.startsWith('__'),
      children,
    });
  }
  return planned;
}

/** Groups the fields of one selection set by response key, as `CollectFields` of the GraphQL specification does for a runtime type. */
function collect(
  context: Context,
  runtimeType: GraphQLObjectType,
  selectionSet: SelectionSetNode,
  grouped: Map<string, FieldNode[]>,
  visitedFragments: Set<string>,
): void {
  for (const selection of selectionSet.selections) {
    switch (selection.kind) {
      case Kind.FIELD: {
        if (!included(context, selection)) continue;
        const responseKey = selection.alias?.value ?? selection.name.value;
        const nodes = grouped.get(responseKey);
        if (nodes) nodes.push(selection);
        else grouped.set(responseKey, [selection]);
        break;
      }
      case Kind.INLINE_FRAGMENT: {
        if (!included(context, selection)) continue;
        if (selection.typeCondition && !applies(context, selection.typeCondition.name.value, runtimeType)) continue;
        collect(context, runtimeType, selection.selectionSet, grouped, visitedFragments);
        break;
      }
      case Kind.FRAGMENT_SPREAD: {
        const name = selection.name.value;
        if (visitedFragments.has(name) || !included(context, selection)) continue;
        visitedFragments.add(name);
        const fragment = context.fragments.get(name);
        if (!fragment) throw new Refusal('UNKNOWN_FRAGMENT', `fragment ${name} is not defined`);
        if (!applies(context, fragment.typeCondition.name.value, runtimeType)) continue;
        collect(context, runtimeType, fragment.selectionSet, grouped, visitedFragments);
        break;
      }
    }
  }
}

function included(context: Context, node: { readonly directives?: FieldNode['directives'] }): boolean {
  try {
    const skip = getDirectiveValues(GraphQLSkipDirective, node, context.variables as Record<string, unknown>);
    if (skip?.if === true) return false;
    const include = getDirectiveValues(GraphQLIncludeDirective, node, context.variables as Record<string, unknown>);
    return include?.if !== false;
  } catch (error) {
    if (!(error instanceof GraphQLError)) throw error;
    throw new Refusal('INVALID_ARGUMENT', '@include or @skip has a missing or invalid "if"');
  }
}

function applies(context: Context, typeName: string, runtimeType: GraphQLObjectType): boolean {
  const conditionType = context.schema.getType(typeName);
  if (!conditionType) throw new Refusal('UNKNOWN_TYPE', `type ${typeName} does not exist`);
  if (conditionType === runtimeType) return true;
  return isAbstractType(conditionType) && context.schema.isSubType(conditionType, runtimeType);
}

function fieldDefinition(schema: GraphQLSchema, parentType: GraphQLObjectType, name: string): GraphQLField<unknown, unknown> | undefined {
  if (name === TypeNameMetaFieldDef.name) return TypeNameMetaFieldDef;
  if (INTROSPECTION_ROOT_FIELDS.has(name)) {
    if (parentType !== schema.getQueryType()) return undefined;
    return name === SchemaMetaFieldDef.name ? SchemaMetaFieldDef : TypeMetaFieldDef;
  }
  return parentType.getFields()[name];
}

function printArguments(node: FieldNode): string {
  return (node.arguments ?? [])
    .map((argument) => `${argument.name.value}:${print(argument.value)}`)
    .sort()
    .join(',');
}
