import { BREAK, Kind, TypeInfo, getNamedType, isAbstractType, isObjectType, visit, visitWithTypeInfo, type DocumentNode, type FieldNode, type GraphQLSchema, type SelectionSetNode } from 'graphql';
import type { Catalogue } from './catalogue.ts';
import type { OperationPlan, PlannedField } from './field-plan.ts';
import type { FieldDecision } from './decide.ts';
import type { DataSubject } from './access-record.ts';

/** Response keys the gateway adds to read each returned record's key when it cannot use the key field itself; never shown to clients. */
const SUBJECT_ALIAS_PREFIX = '_isthmus_subject_';

/** The kind of data subject each entity type's records are. */
const SUBJECT_KINDS: ReadonlyMap<string, DataSubject['kind']> = new Map([
  ['Person', 'person'],
  ['Enterprise', 'enterprise'],
]);

/**
 * Where the executed data holds each returned record's key: under the
 * entity's key field itself (`idNumber`, `creditCode`) — the field stitching
 * fetches anyway to merge the entity across bureaus, so reading it costs no
 * extra field — or, where the document makes that unsafe, under a reserved
 * alias per entity type.
 */
export type SubjectKeyPlacement = 'key-fields' | 'aliases';

/** A document ready to execute, and where its subject keys will be found. */
export interface SubjectKeyedDocument {
  readonly document: DocumentNode;
  readonly placement: SubjectKeyPlacement;
}

/**
 * Makes sure every selection set on a merged entity (`Person`, `Enterprise`)
 * selects the entity's key, so the gateway learns whose records an operation
 * returned even when the client did not ask for the key — and learns it
 * unmasked, since masks apply later, to the client's fields only. The result
 * is shaped back to what the client asked before it leaves.
 *
 * The key field itself is selected, unaliased, unless the document uses a
 * key field's name as the alias of some other field (`idNumber: name`),
 * which the added field would collide with, or selects below an interface or
 * union, where the walk cannot tell a record's type: then each key goes under
 * a reserved alias instead (an extra field for stitching to carry).
 */
export function withSubjectKeys(document: DocumentNode, schema: GraphQLSchema, catalogue: Catalogue): SubjectKeyedDocument {
  const placement = keyFieldsAreSafe(document, schema, catalogue) ? 'key-fields' : 'aliases';
  const typeInfo = new TypeInfo(schema);
  const keyed = visit(
    document,
    visitWithTypeInfo(typeInfo, {
      SelectionSet: {
        leave(node: SelectionSetNode): SelectionSetNode | undefined {
          const type = typeInfo.getParentType();
          if (!type || !isObjectType(getNamedType(type))) return undefined;
          const entity = catalogue.entities.get(type.name);
          if (!entity || !SUBJECT_KINDS.has(entity.typeName)) return undefined;
          const responseKey = placement === 'key-fields' ? entity.keyField : SUBJECT_ALIAS_PREFIX + entity.typeName;
          const present = node.selections.some(
            (selection) => selection.kind === Kind.FIELD && selection.name.value === entity.keyField && (selection.alias?.value ?? selection.name.value) === responseKey,
          );
          if (present) return undefined;
          const keyField: FieldNode = {
            kind: Kind.FIELD,
            ...(placement === 'aliases' ? { alias: { kind: Kind.NAME, value: responseKey } } : {}),
            name: { kind: Kind.NAME, value: entity.keyField },
          };
          return { ...node, selections: [...node.selections, keyField] };
        },
      },
    }),
  );
  return { document: keyed, placement };
}

/** No alias anywhere in the document names a key field for another field, and nothing is selected below an abstract type. */
function keyFieldsAreSafe(document: DocumentNode, schema: GraphQLSchema, catalogue: Catalogue): boolean {
  const keyFields = new Set([...catalogue.entities.values()].map((entity) => entity.keyField));
  const typeInfo = new TypeInfo(schema);
  let safe = true;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node: FieldNode) {
        const type = typeInfo.getType();
        if ((node.alias && node.alias.value !== node.name.value && keyFields.has(node.alias.value)) || (type && isAbstractType(getNamedType(type)))) {
          safe = false;
          return BREAK;
        }
        return undefined;
      },
    }),
  );
  return safe;
}

/** Whose records an operation returned, and how many records each providing bureau released. */
export interface RecordsRead {
  readonly subjects: readonly DataSubject[];
  readonly rowCounts: Readonly<Record<string, number>>;
}

/**
 * Walks the executed (unmasked, unshaped) data along the plan: every entity
 * record returned is a data subject (its key read where `placement` says);
 * a record counts for a bureau when at least one field that bureau provides
 * was released on it.
 */
export function recordsRead(
  data: Readonly<Record<string, unknown>> | null | undefined,
  plan: Pick<OperationPlan, 'rootType' | 'fields'>,
  decisions: ReadonlyMap<string, FieldDecision>,
  ownBureau: string,
  catalogue: Catalogue,
  placement: SubjectKeyPlacement,
): RecordsRead {
  const subjects = new Map<string, DataSubject>();
  const rowCounts: Record<string, number> = {};
  const visitObject = (object: Readonly<Record<string, unknown>>, children: readonly PlannedField[], typeName: string) => {
    if (placement === 'aliases') {
      // The aliases name their type, so a record's own type does not matter (below an interface or union it is not known).
      for (const [entityType, kind] of SUBJECT_KINDS) {
        const value = object[SUBJECT_ALIAS_PREFIX + entityType];
        if (typeof value === 'string') subjects.set(`${kind}:${value}`, { kind, id: value });
      }
    } else {
      const kind = SUBJECT_KINDS.get(typeName);
      const keyField = kind && catalogue.entities.get(typeName)?.keyField;
      const value = keyField && object[keyField];
      if (kind && typeof value === 'string') subjects.set(`${kind}:${value}`, { kind, id: value });
    }
    const bureaus = new Set<string>();
    for (const child of children) {
      const value = object[child.responseKey];
      const decision = decisions.get(child.key);
      if (value === null || value === undefined || !decision || decision.effect === 'deny') continue;
      if (decision.bureau && decision.bureau !== ownBureau && child.path.length > 1) bureaus.add(decision.bureau);
      if (child.children.length > 0) visitValue(value, child.children, child);
    }
    for (const bureau of bureaus) rowCounts[bureau] = (rowCounts[bureau] ?? 0) + 1;
  };
  const visitValue = (value: unknown, children: readonly PlannedField[], field: PlannedField): void => {
    if (Array.isArray(value)) for (const item of value) visitValue(item, children, field);
    // With key fields nothing is selected below an abstract type, so the field's type is the record's.
    else if (value !== null && typeof value === 'object') visitObject(value as Record<string, unknown>, children, field.returnType);
  };
  if (data) visitObject(data, plan.fields, plan.rootType);
  return { subjects: [...subjects.values()], rowCounts };
}
