/**
 * The OpenAPI document as `GET /api/openapi.json` serves it. Its generator (zod-openapi, with every
 * operation's description) is imported on the first call: no other function needs it, so it stays
 * off the function files' load.
 */
export async function servedOpenApiJson(): Promise<string> {
  const { openApiJson } = await import('./openapi-document.js');
  return openApiJson();
}
