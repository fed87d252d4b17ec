/**
 * The catalogue: every bureau, every field it exposes and how that field may
 * be shared. Plain readonly data, built once at start-up from the bureau
 * schemas (`schemas/<bureau>/`), read by decisions and by the explain tool.
 */

/** 共享类别: how a field may leave its bureau. */
export type SharingCategory = 'OPEN' | 'CONDITIONAL' | 'NONE';

/** How much harm a disclosure of the field could do to its data subject. */
export type Sensitivity = 'LOW' | 'MEDIUM' | 'HIGH';

/** How a value is masked before it is logged or returned. */
export type MaskKind = 'ID_NUMBER' | 'NAME' | 'PHONE' | 'ADDRESS' | 'DATE_TO_YEAR' | 'REDACT';

/** All sharing categories, for validation and exhaustive tables. */
export const SHARING_CATEGORIES: readonly SharingCategory[] = ['OPEN', 'CONDITIONAL', 'NONE'];
/** All mask kinds. */
export const MASK_KINDS: readonly MaskKind[] = ['ID_NUMBER', 'NAME', 'PHONE', 'ADDRESS', 'DATE_TO_YEAR', 'REDACT'];

/** One field of one bureau's type, e.g. `Person.name` of `public-security`. */
export interface CatalogueField {
  /** `Type.field` */
  readonly coordinate: string;
  readonly typeName: string;
  readonly fieldName: string;
  /** The bureau that provides the field's data. */
  readonly bureau: string;
  readonly category: SharingCategory;
  readonly sensitivity: Sensitivity;
  /** The mask the providing bureau applies by default when it shares the field masked. */
  readonly mask?: MaskKind;
  /**
   * A merge key (`Person.idNumber`): every bureau that extends the entity
   * resolves it, and the gateway passes it between bureaus to stitch.
   */
  readonly isKey: boolean;
  readonly description?: string;
}

/** A type merged across bureaus by a key, e.g. `Person` by `idNumber`. */
export interface CatalogueEntity {
  readonly typeName: string;
  readonly keyField: string;
  /** Bureaus that contribute fields to the entity, each with the root field that resolves a batch of keys. */
  readonly resolvers: readonly { readonly bureau: string; readonly fieldName: string; readonly argumentName: string }[];
}

/** Connector settings of a bureau, from its manifest. */
export interface CatalogueConnector {
  readonly kind: 'graphql' | 'rest' | 'sql';
  readonly url: string;
  readonly timeoutMs: number;
  readonly maxConcurrency: number;
  readonly breaker: { readonly failureThreshold: number; readonly resetAfterMs: number };
}

/** A bureau and how to reach it. */
export interface CatalogueBureau {
  readonly id: string;
  readonly name: { readonly zh: string; readonly en: string };
  readonly connector: CatalogueConnector;
  /** Root fields the bureau serves (`Query.person`), merge-only entry points excluded. */
  readonly rootFields: readonly string[];
  /**
   * Whether the bureau's own reads of personal or `HIGH` fields go to the
   * access log (manifest `logOwnReads`; absent means `true`, the default).
   */
  readonly logOwnReads?: boolean;
}

/** Everything the gateway knows about what bureaus expose and how it may be shared. */
export interface Catalogue {
  readonly bureaus: ReadonlyMap<string, CatalogueBureau>;
  /** By coordinate. A merge key appears once, with the bureau that owns the entity. */
  readonly fields: ReadonlyMap<string, CatalogueField>;
  readonly entities: ReadonlyMap<string, CatalogueEntity>;
  /** The bureau that serves each root field, by field name. */
  readonly rootFields: ReadonlyMap<string, string>;
  /** What `@listSize` says of list fields, by coordinate (`Query.persons`, `Person.enterprises`); absent: none says. */
  readonly listSizes?: ReadonlyMap<string, ListSize>;
}

/** How large a list field can be, from the bureau's `@listSize` (the operation cost limit reads it). */
export interface ListSize {
  /** The list's size when no slicing argument says it. */
  readonly assumedSize?: number;
  /** Arguments whose value gives the size: an Int, or a list with one result per item. */
  readonly slicingArguments: readonly string[];
}
