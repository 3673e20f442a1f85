import { app } from '@azure/functions';
import { httpHandler } from '../shared/http/handler.js';
import { servedOpenApiJson } from '../shared/openapi/served-document.js';

app.http('openapi', {
  route: 'openapi.json',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: httpHandler(async () => ({
    status: 200,
    text: await servedOpenApiJson(),
    headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' },
  })),
});
