import type { MaskKind, Sensitivity, SharingCategory } from '../../policies/catalogue.ts';

/** How a generated field is shared until the data officer decides: always CONDITIONAL, with a suggestion. */
export interface SuggestedShare {
  readonly category: SharingCategory;
  readonly sensitivity: Sensitivity;
  readonly mask?: MaskKind;
}

/** One field of a generated type. */
export interface ImportedField {
  readonly name: string;
  /** The SDL type, e.g. `String`, `[Tag!]`, `ID!`. */
  readonly type: string;
  readonly description?: string;
  /** Connector directives, rendered as they are: `@column(name: "sfzh")`. */
  readonly directives?: readonly string[];
  readonly share: SuggestedShare;
}

/** One generated object type. */
export interface ImportedType {
  readonly name: string;
  readonly description?: string;
  /** The `@key` field, when the system has a batch read by it. */
  readonly key?: string;
  readonly fields: readonly ImportedField[];
}

/** A root (`Query`) field: no `@share`, it is an entry point, not data. */
export interface ImportedRootField {
  readonly name: string;
  /** Rendered arguments without parentheses: `idNumber: ID!`. */
  readonly args: string;
  readonly type: string;
  readonly description?: string;
  readonly directives?: readonly string[];
}

/** Something of the system that did not become part of the schema, and why. */
export interface Unmapped {
  /** Where it is in the source: `GET /pet/{petId}/uploadImage`, `public.audit.payload`, `Mutation.addPet`. */
  readonly at: string;
  readonly reason: string;
}

/** What an importer read from a bureau's system, before it is written as `schema.graphql` + `manifest.json`. */
export interface ImportedBureau {
  readonly kind: 'graphql' | 'rest' | 'sql';
  /** The connector URL for the manifest (without credentials where the source had them). */
  readonly url: string;
  /** A line for the top of the SDL: where it was imported from. */
  readonly source: string;
  readonly rootFields: readonly ImportedRootField[];
  readonly types: readonly ImportedType[];
  /** Enum and scalar definitions the types need, rendered as SDL. */
  readonly extraDefinitions?: readonly string[];
  readonly unmapped: readonly Unmapped[];
  /** Suggestions for the officer and the IT team: `@merge` candidates, missing batch endpoints, personal data. */
  readonly notes: readonly string[];
}
