import { app } from '@azure/functions';
import { httpHandler } from '../shared/http/handler.js';
import { apiReferencePage } from '../shared/openapi/reference-page.js';

app.http('docs', {
  route: 'docs',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: httpHandler(async ({ deps }) => ({
    status: 200,
    text: apiReferencePage(deps.config.authMode),
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' },
  })),
});
