/** The worker's workflow bundle: surecron's own workflows and yours. */
export * from '../workflows/index.js';
export * from '../user/workflows.js';
