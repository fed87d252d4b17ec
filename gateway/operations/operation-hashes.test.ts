import { parse, print } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createOperationHashes } from './operation-hashes.ts';
import { operationHashOf } from './operation-manifest.ts';

const TEXT = 'query Q($id: ID!) {\n  person(idNumber: $id) { name }\n}';

describe('the hash of each request\'s document', () => {
  it('is the sha256 of the text as sent, the same from the text trusted operations checked and from the parsed document', () => {
    const hashes = createOperationHashes();
    const request = new Request('http://gateway/graphql');
    expect(hashes.ofText(request, TEXT)).toBe(operationHashOf(TEXT));
    const document = parse(TEXT);
    expect(hashes.ofDocument(document, request)).toBe(operationHashOf(TEXT));
    // Kept by the document for the next request that brings it.
    expect(hashes.ofDocument(document)).toBe(operationHashOf(TEXT));
  });

  it('does not reuse a request\'s hash for another text, and hashes a document without a source by its print', () => {
    const hashes = createOperationHashes();
    const request = new Request('http://gateway/graphql');
    hashes.ofText(request, '{ a }');
    expect(hashes.ofDocument(parse(TEXT), request)).toBe(operationHashOf(TEXT));
    expect(hashes.ofText(request, TEXT)).toBe(operationHashOf(TEXT));
    const bare = parse(TEXT, { noLocation: true });
    expect(hashes.ofDocument(bare)).toBe(operationHashOf(print(bare)));
  });
});
