// SLSA Provenance v1: how an artifact was built — the build's definition (type,
// parameters, resolved dependencies) and the run that executed it (builder,
// times, byproducts). Spec: https://slsa.dev/spec/v1.0/provenance
import { z } from 'zod';
import { ResourceDescriptorSchema, TimestampSchema, UriSchema } from './resourceDescriptor.js';

/** predicateType of SLSA Provenance v1 (https://slsa.dev/spec/v1.0/provenance). */
export const SLSA_PROVENANCE_PREDICATE_TYPE = 'https://slsa.dev/provenance/v1';

const JsonObjectSchema = z.record(z.string(), z.json());

/** `buildDefinition`: the inputs that, together with the build type, define the build. */
export const BuildDefinitionSchema = z.looseObject({
  /** TypeURI of the template that says how externalParameters are interpreted. */
  buildType: UriSchema,
  /** Parameters under the control of whoever asked for the build. */
  externalParameters: JsonObjectSchema,
  /** Parameters under the control of the builder. */
  internalParameters: JsonObjectSchema.optional(),
  /** Artifacts the build read: sources, dependencies, base images. */
  resolvedDependencies: z.array(ResourceDescriptorSchema).optional(),
});
export type BuildDefinition = z.infer<typeof BuildDefinitionSchema>;

/** `runDetails.builder`: the transitive closure of what ran the build and is trusted. */
export const BuilderSchema = z.looseObject({
  id: UriSchema,
  builderDependencies: z.array(ResourceDescriptorSchema).optional(),
  /** Component name → version. */
  version: z.record(z.string(), z.string()).optional(),
});
export type Builder = z.infer<typeof BuilderSchema>;

/** `runDetails.metadata`: the particular run. */
export const BuildMetadataSchema = z.looseObject({
  invocationId: z.string().min(1).optional(),
  startedOn: TimestampSchema.optional(),
  finishedOn: TimestampSchema.optional(),
});
export type BuildMetadata = z.infer<typeof BuildMetadataSchema>;

/** `runDetails`: who ran the build, when, and what else came out of it. */
export const RunDetailsSchema = z.looseObject({
  builder: BuilderSchema,
  metadata: BuildMetadataSchema.optional(),
  /** Other artifacts of the run that are not subjects: logs, receipts, SBOMs. */
  byproducts: z.array(ResourceDescriptorSchema).optional(),
});
export type RunDetails = z.infer<typeof RunDetailsSchema>;

/** The SLSA Provenance v1 predicate. */
export const SlsaProvenanceSchema = z.looseObject({
  buildDefinition: BuildDefinitionSchema,
  runDetails: RunDetailsSchema,
});
export type SlsaProvenance = z.infer<typeof SlsaProvenanceSchema>;
