/**
 * The GraphQL documents the benchmark sends. Named operations, so that the
 * `direct` floor can tell them apart without parsing GraphQL.
 */

/** The single cross-bureau lookup's operation name. */
export const SINGLE_OPERATION = 'PersonAcrossBureaus';
/** The 100-person list's operation name. */
export const LIST_OPERATION = 'PersonsAcrossBureaus';
/** The denied-field request's operation name. */
export const DENIED_OPERATION = 'PersonWithHousehold';
/** The citizen's own record, read through a citizen app. */
export const CITIZEN_SELF_OPERATION = 'MyRecord';

/** One person from three bureaus: public security (name), HRSS (social insurance, employee counts), market supervision (enterprises). */
export const SINGLE_DOCUMENT = `query ${SINGLE_OPERATION}($idNumber: ID!) { person(idNumber: $idNumber) { name socialInsurance { contributionMonths } enterprises { name insuredEmployeeCount } } }`;

/**
 * The same fields for a list of persons: each bureau should be called once
 * per level, whatever the length. No `idNumber`: answers come in the order
 * asked, and Isthmus masks it by default (`mask: ID_NUMBER` in the catalogue),
 * which would make its answer differ from the others'.
 */
export const LIST_DOCUMENT = `query ${LIST_OPERATION}($idNumbers: [ID!]!) { persons(idNumbers: $idNumbers) { name socialInsurance { contributionMonths } enterprises { name insuredEmployeeCount } } }`;

/**
 * `householdId` is category NONE: it never leaves its bureau, so Isthmus
 * must withhold it (FORBIDDEN) and serve the rest — `name` as it is,
 * `address` masked to its district, as the reviewer's agreement says.
 */
export const DENIED_DOCUMENT = `query ${DENIED_OPERATION}($idNumber: ID!) { person(idNumber: $idNumber) { name address householdId } }`;

/** A citizen app reading the signed-in citizen's own record, under a `SELF` agreement that masks the name. */
export const CITIZEN_SELF_DOCUMENT = `query ${CITIZEN_SELF_OPERATION}($idNumber: ID!) { person(idNumber: $idNumber) { name address } }`;
