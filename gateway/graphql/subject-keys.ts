import { Kind, TypeInfo, getNamedType, isObjectType, visit, visitWithTypeInfo, type DocumentNode, type FieldNode, type GraphQLSchema, type SelectionSetNode } from 'graphql';
import type { Catalogue } from '../../policies/catalogue.ts';
import type { PlannedField } from '../../policies/field-plan.ts';
import type { FieldDecision } from '../../policies/decide.ts';
import type { DataSubject } from '../access-log/access-log-entry.ts';

/** Response keys the gateway adds to read each returned record's key; never shown to clients. */
const SUBJECT_ALIAS_PREFIX = '_isthmus_subject_';

/**
 * Adds, to every selection set on a merged entity (`Person`, `Enterprise`),
 * the entity's key under a reserved alias, so the gateway learns whose
 * records an operation returned even when the client did not ask for the
 * key — and learns it unmasked, since masks apply later, to the client's
 * fields only. Keys are what stitching passes between bureaus anyway; the
 * result is shaped back to what the client asked before it leaves.
 */
export function withSubjectKeys(document: DocumentNode, schema: GraphQLSchema, catalogue: Catalogue): DocumentNode {
  const typeInfo = new TypeInfo(schema);
  return visit(
    document,
    visitWithTypeInfo(typeInfo, {
      SelectionSet: {
        leave(node: SelectionSetNode): SelectionSetNode | undefined {
          const type = typeInfo.getParentType();
          if (!type || !isObjectType(getNamedType(type))) return undefined;
          const entity = catalogue.entities.get(type.name);
          if (!entity) return undefined;
          const alias = SUBJECT_ALIAS_PREFIX + entity.typeName;
          if (node.selections.some((selection) => selection.kind === Kind.FIELD && selection.alias?.value === alias)) return undefined;
          const keyField: FieldNode = {
            kind: Kind.FIELD,
            alias: { kind: Kind.NAME, value: alias },
            name: { kind: Kind.NAME, value: entity.keyField },
          };
          return { ...node, selections: [...node.selections, keyField] };
        },
      },
    }),
  );
}

/** The reserved alias of each kind of data subject, as {@link withSubjectKeys} names them. */
const SUBJECT_ALIASES: readonly (readonly [alias: string, kind: DataSubject['kind']])[] = [
  [`${SUBJECT_ALIAS_PREFIX}Person`, 'person'],
  [`${SUBJECT_ALIAS_PREFIX}Enterprise`, 'enterprise'],
];

/** Whose records an operation returned, and how many records each providing bureau released. */
export interface RecordsRead {
  readonly subjects: readonly DataSubject[];
  readonly rowCounts: Readonly<Record<string, number>>;
}

/**
 * Walks the executed (unmasked, unshaped) data along the plan: every entity
 * record returned is a data subject; a record counts for a bureau when at
 * least one field that bureau provides was released on it.
 */
export function recordsRead(
  data: Readonly<Record<string, unknown>> | null | undefined,
  fields: readonly PlannedField[],
  decisions: ReadonlyMap<string, FieldDecision>,
  ownBureau: string,
): RecordsRead {
  const subjects = new Map<string, DataSubject>();
  const rowCounts: Record<string, number> = {};
  const visitObject = (object: Readonly<Record<string, unknown>>, children: readonly PlannedField[]) => {
    // Only the reserved aliases are looked up: walking every key of every record showed in profiles.
    for (const [alias, kind] of SUBJECT_ALIASES) {
      const value = object[alias];
      if (typeof value === 'string') subjects.set(`${kind}:${value}`, { kind, id: value });
    }
    const bureaus = new Set<string>();
    for (const child of children) {
      const value = object[child.responseKey];
      const decision = decisions.get(child.key);
      if (value === null || value === undefined || !decision || decision.effect === 'deny') continue;
      if (decision.bureau && decision.bureau !== ownBureau && child.path.length > 1) bureaus.add(decision.bureau);
      if (child.children.length > 0) visitValue(value, child.children);
    }
    for (const bureau of bureaus) rowCounts[bureau] = (rowCounts[bureau] ?? 0) + 1;
  };
  const visitValue = (value: unknown, children: readonly PlannedField[]): void => {
    if (Array.isArray(value)) for (const item of value) visitValue(item, children);
    else if (value !== null && typeof value === 'object') visitObject(value as Record<string, unknown>, children);
  };
  if (data) visitObject(data, fields);
  return { subjects: [...subjects.values()], rowCounts };
}
