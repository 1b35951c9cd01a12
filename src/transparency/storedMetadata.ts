// The metadata of a leaf text from the stored metadata text, without
// canonicalising it again. A stored event's metadata as read back is the stored
// fields plus the two integrity columns `contentDigest` and `prevDigest`; the
// store writes the fields as RFC 8785 canonical JSON, whose members are sorted
// by name, so the canonical JSON of the whole is the stored text with the two
// members inserted where their names sort.
//
// This is a guess for a row written otherwise (or altered): `log verify` uses
// it only when the leaf it gives equals the leaf the Merkle log recorded for the
// event (SHA-256 of the exact canonical text), and canonicalises otherwise.
import { canonicalize } from '../encoding/canonicalJson.js';

const INTEGRITY = ['contentDigest', 'prevDigest'] as const;

/**
 * The stored metadata text (`fields`, parsed from it) with `contentDigest` and
 * `prevDigest` inserted as members, or undefined when it cannot be spliced
 * (not an object's text, or the fields already have one of those names).
 */
export function withIntegrityFields(
  text: string,
  fields: Record<string, unknown>,
  integrity: { contentDigest: string; prevDigest: string },
): string | undefined {
  if (INTEGRITY.some((name) => Object.hasOwn(fields, name))) return undefined;
  const starts = memberStarts(text);
  const names = Object.keys(fields);
  if (starts?.length !== names.length) return undefined;
  let spliced = '';
  let from = 0;
  INTEGRITY.forEach((name, k) => {
    // Members are sorted by name (UTF-16 code units, as `<` compares): this one
    // goes in front of the first member named after it.
    const before = names.filter((other) => other < name).length;
    const member = `"${name}":${canonicalize(integrity[name])}`;
    const at = starts[before];
    if (at === undefined) {
      // After the last member, and after a comma when any member is before it.
      const end = text.length - 1;
      spliced += text.slice(from, end) + (before > 0 || k > 0 ? `,${member}` : member);
      from = end;
    } else {
      spliced += `${text.slice(from, at)}${member},`;
      from = at;
    }
  });
  return spliced + text.slice(from);
}

/**
 * Where each member of an object's JSON text (no whitespace, as canonical JSON
 * has none) starts, at its name's opening quote; undefined for another text.
 */
function memberStarts(text: string): number[] | undefined {
  if (!text.startsWith('{') || !text.endsWith('}')) return undefined;
  const starts: number[] = [];
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      if (depth === 1 && (text[i - 1] === '{' || text[i - 1] === ',')) starts.push(i);
      // Skip the string, escapes included.
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return starts;
}
