// A unit's export over HTTP (issue 14, docs/export.md): the same .tar.gz that
// `provenant export <unit> --out file.tar.gz` writes, recorded the same way as
// UnitExported.v1 in the unit's stream. The unit key is URL-encoded in one path
// segment (`/v1/units/openssl%2F3.2.1%2F2.el9%2Fx86_64%2Frpm/export`).
import type { FastifyInstance } from 'fastify';
import { buildExport, packExport, recordExport } from '../../application/export/index.js';
import { normalizeUnitKey } from '../../domain/index.js';
import type { RouteDeps } from '../deps.js';
import { problemResponse, unitKeyParams } from '../schemas.js';

/** A file name for the archive: the unit key with every character outside [A-Za-z0-9._+-] as `_`. */
const archiveName = (unit: string): string =>
  `${unit.replace(/[^A-Za-z0-9._+-]/g, '_')}.export.tar.gz`;

export function exportRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.get<{ Params: { key: string } }>(
    '/v1/units/:key/export',
    {
      config: { permission: 'export' },
      schema: {
        tags: ['units'],
        summary: "Export a unit's evidence as a .tar.gz, for offline verification",
        description:
          "The unit's events (with digests and chain), the gate and stage definitions its verdicts name, its " +
          'attestations (in-toto envelopes and Sigstore bundles), the public keys that verify them and a manifest, ' +
          'as a gzipped tar (`provenant verify-export` checks it offline). The export is recorded as ' +
          "UnitExported.v1 in the unit's stream; the `x-provenant-manifest-sha256` header names it. " +
          'The unit key is URL-encoded in one segment.',
        params: unitKeyParams,
        response: {
          200: {
            description: 'The export archive (application/gzip)',
            content: { 'application/gzip': { schema: { type: 'string', format: 'binary' } } },
          },
          400: problemResponse('Malformed unit key (DOMAIN_INVALID_UNIT_KEY)'),
          404: problemResponse('The unit has no events (DOMAIN_UNIT_NOT_FOUND)'),
        },
      },
    },
    async (request, reply) => {
      const unit = normalizeUnitKey(request.params.key);
      const principal = request.principal?.id;
      const built = await buildExport(deps.store, unit, {
        publicKeys: deps.attestationPublicKeys ?? [],
        ...(principal === undefined ? {} : { principal }),
        ...(deps.transparency === undefined ? {} : { transparency: deps.transparency }),
      });
      const archive = await packExport(built);
      await recordExport(deps.store, built, principal);
      return reply
        .header('content-type', 'application/gzip')
        .header('content-disposition', `attachment; filename="${archiveName(unit)}"`)
        .header('x-provenant-manifest-sha256', built.manifestDigest)
        .send(archive);
    },
  );
}
