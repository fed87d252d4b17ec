/**
 * Decodes standard, padded base64 strictly, or returns `undefined`: Node's
 * decoder skips characters it does not know, and a signed text must have one
 * spelling only, or two different notes would carry the same bytes.
 */
export function decodeBase64(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

/** Encodes as standard, padded base64, the spelling the note and checkpoint formats use. */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}
