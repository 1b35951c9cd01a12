// Export of a unit's evidence and its offline verification (docs/export.md).
export {
  buildExport,
  exportUnit,
  packExport,
  recordExport,
  type BuiltExport,
  type ExportOptions,
  type ExportResult,
} from './exportUnit.js';
export {
  verifyExport,
  verifyExportFiles,
  type AttestationCheck,
  type ExportProblem,
  type VerifyExportResult,
} from './verifyExport.js';
export { EXPORT_MAX_BYTES, isArchivePath } from './archive.js';
export {
  EXPORT_FORMAT,
  EVENTS_FILE,
  DEFINITIONS_FILE,
  MANIFEST_FILE,
  bundlePath,
  envelopePath,
  keyPath,
  type ExportManifest,
  type ManifestFile,
} from './format.js';
export { exportEvidence, type ExportEvidence } from './evidence.js';
