import { app } from '@azure/functions';
import { checkHealth } from '../shared/health/health-service.js';
import { httpHandler } from '../shared/http/handler.js';

app.http('health', {
  route: 'health',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: httpHandler(async ({ deps, log }) => {
    const report = await checkHealth([deps.stores.hot, deps.stores.durable], log);
    return { status: report.status === 'ok' ? 200 : 503, body: report, headers: { 'cache-control': 'no-store' } };
  }),
});
