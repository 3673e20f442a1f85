import { app } from '@azure/functions';
import { httpHandler } from '../shared/http/handler.js';

app.http('openapi', {
  route: 'openapi.json',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: httpHandler(async () => {
    // Loaded on first use: no other function needs the generator (zod-openapi).
    const { openApiJson } = await import('../shared/openapi/openapi-document.js');
    return { status: 200, text: openApiJson(), headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' } };
  }),
});
