/**
 * The daprd release the stand-in follows: the one Azure Container Apps runs (its managed Dapr
 * was moved to 1.16.4 in the spring 2026 staged upgrade), and the components-contrib release that
 * daprd 1.16.4 is built with (its go.mod). When Container Apps moves on, re-read daprd's HTTP API
 * and the two components at the new tags, then change these two lines and the README together.
 */
export const DAPRD_VERSION = '1.16.4';

export const COMPONENTS_CONTRIB_VERSION = '1.16.4';
