import { app } from '@azure/functions';
import { httpHandler } from '../shared/http/handler.js';
import { apiReferencePage } from '../shared/openapi/openapi-document.js';

app.http('docs', {
  route: 'docs',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: httpHandler(async () => ({
    status: 200,
    text: apiReferencePage(),
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'public, max-age=300' },
  })),
});
