import { app } from '@azure/functions';
import { NotFound } from '../shared/errors.js';
import { httpHandler } from '../shared/http/handler.js';
import { referenceBundle } from '../shared/openapi/reference-page.js';

app.http('docs-script', {
  route: 'docs/scalar.js',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: httpHandler(async () => {
    const script = referenceBundle();
    if (script === undefined) throw new NotFound('The API reference viewer is not part of this build; see /api/openapi.json.');
    return {
      status: 200,
      text: script,
      headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=3600' },
    };
  }),
});
