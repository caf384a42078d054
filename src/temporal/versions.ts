/**
 * Every Temporal binary surecron runs, pinned here and nowhere else. The server version is the one the CLI
 * embeds (CLI 1.5.1 = server 1.29.1, UI 2.42.1), so the embedded mode and the cluster run the same engine.
 */
export const TEMPORAL_CLI_VERSION = '1.5.1';
export const TEMPORAL_SERVER_VERSION = '1.29.1';
export const TEMPORAL_UI_VERSION = '2.42.1';
