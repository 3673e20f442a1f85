import { app } from '@azure/functions';
import { httpHandler } from '../shared/http/handler.js';
import { openApiDocument } from '../shared/openapi/openapi-document.js';

app.http('openapi', {
  route: 'openapi.json',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: httpHandler(async () => ({ status: 200, body: openApiDocument(), headers: { 'cache-control': 'public, max-age=300' } })),
});
