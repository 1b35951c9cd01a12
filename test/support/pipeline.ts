// A small pipeline played through the domain service, for export tests and the
// benchmark: gates build, tests and security; stages qa (build, tests) and
// release (security, after qa); a unit whose receipts pass all of them.
import type { DomainService } from '../../src/application/index.js';
import type { ReceiptInput } from '../../src/domain/index.js';

export async function definePipeline(service: DomainService): Promise<void> {
  await service.defineGate('build', { requiredActions: ['build'] });
  await service.defineGate('tests', { requiredActions: ['unit-test'] });
  await service.defineGate('security', { requiredActions: ['sast'] });
  await service.defineStage('qa', { gates: ['build', 'tests'] });
  await service.defineStage('release', { gates: ['security'], prerequisites: ['qa'] });
}

/** A hex digest derived from `seed` (not a real file's). */
export const fakeDigest = (seed: string): string =>
  Buffer.from(seed.padEnd(32, '.').slice(0, 32)).toString('hex');

/** The receipts of a passing run of `unit`, each action once. */
export function passingReceipts(unit: string): ReceiptInput[] {
  const [name = 'x', version = '0'] = unit.split('/');
  const rpm = `${name}-${version}.rpm`;
  const at = (minute: number): string => `2026-03-01T10:${String(minute).padStart(2, '0')}:00Z`;
  return [
    {
      unit,
      action: 'build',
      multipass: true,
      producer: 'https://ci.example.com/pipelines/1',
      correlationId: 'run-1',
      startedAt: at(0),
      finishedAt: at(5),
      artifacts: [
        {
          name: rpm,
          uri: `https://repo.example.com/${rpm}`,
          digest: { sha256: fakeDigest(`${unit}#rpm`) },
        },
      ],
      custom: {
        source: {
          repository: 'https://git.example.com/openssl.git',
          commit: 'a'.repeat(40),
          ref: 'refs/heads/main',
        },
      },
    },
    {
      unit,
      action: 'unit-test',
      multipass: true,
      correlationId: 'run-1',
      startedAt: at(6),
      finishedAt: at(9),
      results: { passed: 120, failed: 0 },
    },
    { unit, action: 'sast', multipass: true, correlationId: 'run-1', finishedAt: at(12) },
  ];
}
