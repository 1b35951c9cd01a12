// Authentication and authorization (DESIGN.md §7, docs/security.md).
export * from './principal.js';
export * from './permissions.js';
export * from './scope.js';
export * from './authFile.js';
export * from './oidc.js';
export * from './authenticate.js';
export * from './tokens.js';
