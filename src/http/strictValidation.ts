// Strict input (issue 15, docs/security.md "Input"): fastify's validator coerces
// types by default, so `"requiredActions": "build"` became `["build"]`,
// `"name": 123` became `"123"` and `{"reason": ["x"]}` revoked a receipt. Bodies
// are JSON and carry their own types: they are validated without coercion, and a
// wrong type is 400 `HTTP_VALIDATION`, as docs/api.md says. Querystrings, path
// parameters and headers are text on the wire, so there (and only there)
// `"25"` may still become the integer 25.
//
// This is the validator compiler fastify's `schemaController` builds per scope: two
// Ajv instances (the same options fastify's own compiler uses, but for the
// coercion), sharing the schemas added with `addSchema`.
import AjvModule, { type AnySchema, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyServerOptions } from 'fastify';

const Ajv = AjvModule.default;
const addFormats = addFormatsModule.default;

type ExternalSchemas = Record<string, unknown>;
interface AjvServerOption {
  customOptions?: object;
}
interface RouteSchema {
  schema: AnySchema;
  httpPart?: string;
}

function compilerFor(externalSchemas: ExternalSchemas, options: Record<string, unknown>) {
  const ajv = new Ajv({
    useDefaults: true,
    removeAdditional: true,
    addUsedSchema: false,
    allErrors: false,
    ...options,
  });
  addFormats(ajv);
  for (const schema of Object.values(externalSchemas)) ajv.addSchema(schema as object);
  return (schema: AnySchema): ValidateFunction => {
    const id = typeof schema === 'object' ? schema.$id : undefined;
    const stored = typeof id === 'string' ? ajv.getSchema(id) : undefined;
    return stored ?? ajv.compile(schema);
  };
}

type Validator = (route: RouteSchema) => ValidateFunction;

/**
 * `schemaController.compilersFactory.buildValidator`: bodies strict, the rest
 * coerced. fastify asks for a compiler per encapsulated scope; scopes of one app
 * with the same shared schemas and options share one (as @fastify/ajv-compiler
 * pools its instances), or every scope would compile every shared schema again.
 */
export const buildStrictBodyValidator = (pool = new Map<string, Validator>()) =>
  function build(externalSchemas: ExternalSchemas, ajvServerOption?: AjvServerOption): Validator {
    const custom = ajvServerOption?.customOptions ?? {};
    const key = JSON.stringify([externalSchemas, custom]);
    const pooled = pool.get(key);
    if (pooled !== undefined) return pooled;
    const coercing = compilerFor(externalSchemas, { ...custom, coerceTypes: 'array' });
    const strict = compilerFor(externalSchemas, { ...custom, coerceTypes: false });
    const validator: Validator = ({ schema, httpPart }) =>
      httpPart === 'body' ? strict(schema) : coercing(schema);
    pool.set(key, validator);
    return validator;
  };

/**
 * fastify's `schemaController` option with the validator above. (fastify's typings
 * describe the compiler as taking the schema; at run time it takes the route
 * schema object with `httpPart`, as @fastify/ajv-compiler does.)
 */
export const strictSchemaController = (): NonNullable<FastifyServerOptions['schemaController']> =>
  ({
    compilersFactory: { buildValidator: buildStrictBodyValidator() },
  }) as unknown as NonNullable<FastifyServerOptions['schemaController']>;
