/** surecron's testing kit for your tasks: README "Testing your tasks". */
export { createTestEnvironment, quietRuntime } from './environment.js';
export { runFire, type FireCode, type FireOptions, type FireOutcome } from './fire.js';
export { testHandler, type HandlerTestOptions, type HandlerTestOutcome } from './handler.js';
export { loadHistories, replayHistories, type SavedHistory } from './replay.js';
export { userWorkflowBundle, writeUserWorkflowBundle } from './bundle.js';
