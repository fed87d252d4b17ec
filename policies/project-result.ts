import type { PlannedField } from './field-plan.ts';

/**
 * Shapes an executed result back into exactly what the client asked for:
 * the response keys of the plan, in its order; `null` where a field was
 * denied (its subtree was never fetched); nothing the gateway added to the
 * pruned document (`__typename` in an otherwise empty selection).
 *
 * Returns new objects; the executed data is not changed.
 */
export function projectResult(
  data: Readonly<Record<string, unknown>> | null | undefined,
  fields: readonly PlannedField[],
  denied: (field: PlannedField) => boolean,
): Record<string, unknown> | null {
  if (data === null || data === undefined) return null;
  return projectObject(data, fields, denied);
}

function projectObject(source: Readonly<Record<string, unknown>>, fields: readonly PlannedField[], denied: (field: PlannedField) => boolean): Record<string, unknown> {
  const typename = source.__typename;
  const projected: Record<string, unknown> = {};
  for (const field of fields) {
    // Below an abstract type the plan holds fields per concrete type: keep the ones for this object's type.
    if (typeof typename === 'string' && field.parentType !== typename) continue;
    if (denied(field)) {
      projected[field.responseKey] = null;
      continue;
    }
    const value = source[field.responseKey];
    projected[field.responseKey] = field.children.length > 0 ? projectValue(value, field.children, denied) : value;
  }
  return projected;
}

function projectValue(value: unknown, fields: readonly PlannedField[], denied: (field: PlannedField) => boolean): unknown {
  if (value === null || value === undefined) return value ?? null;
  if (Array.isArray(value)) return value.map((item) => projectValue(item, fields, denied));
  if (typeof value === 'object') return projectObject(value as Record<string, unknown>, fields, denied);
  return value;
}
