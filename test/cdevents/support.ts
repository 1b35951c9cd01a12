// Loads the CDEvents conformance fixtures (test/fixtures/cdevents/conformance)
// as CloudEvents, per the CDEvents CloudEvents binding.
import { readFileSync } from 'node:fs';

export const TAGS = ['v0.4.1', 'v0.5.1'] as const;
export type Tag = (typeof TAGS)[number];

export const CHAIN_ID = '4c8cb7dd-3448-41de-8768-eec704e2829b';
export const OCI_UNIT =
  'pkg:oci/myapp@sha256:0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427';
export const GOLANG_UNIT = 'pkg:golang/mygit.com/myorg/myapp@234fd47e07d1004f0aed9c';

export interface CDEventDoc {
  context: Record<string, unknown> & { id: string; source: string; type: string };
  subject: Record<string, unknown> & { id: string; content: Record<string, unknown> };
}

/** The conformance CDEvent `name` of `tag`, parsed. */
export const conformance = (tag: Tag, name: string): CDEventDoc =>
  JSON.parse(
    readFileSync(
      new URL(`../fixtures/cdevents/conformance/${tag}/${name}.json`, import.meta.url),
      'utf8',
    ),
  ) as CDEventDoc;

/**
 * A CloudEvent carrying `doc` (structured mode). The conformance examples share
 * one context id; `id` overrides it so that several can be stored together.
 */
export function asCloudEvent(
  doc: CDEventDoc,
  overrides: { id?: string; source?: string; chainId?: string | null } = {},
): Record<string, unknown> {
  const context = { ...doc.context };
  if (overrides.id !== undefined) context.id = overrides.id;
  if (overrides.source !== undefined) context.source = overrides.source;
  if (overrides.chainId === null) delete context['chainId'];
  else if (overrides.chainId !== undefined) context['chainId'] = overrides.chainId;
  return {
    specversion: '1.0',
    id: context.id,
    source: context.source,
    type: context.type,
    time: context['timestamp'],
    datacontenttype: 'application/json',
    data: { ...doc, context },
  };
}
