import { app } from '@azure/functions';
import { RETRY_AFTER_SECONDS } from '../shared/errors.js';
import { checkHealth } from '../shared/health/health-service.js';
import { httpHandler, type Reply } from '../shared/http/handler.js';

app.http('health', {
  route: 'health',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: httpHandler(async ({ deps, log }): Promise<Reply> => {
    const report = await checkHealth([deps.stores.hot, deps.stores.durable], log);
    if (report.status === 'ok') return { status: 200, body: report, headers: { 'cache-control': 'no-store' } };
    return { status: 503, body: report, headers: { 'cache-control': 'no-store', 'retry-after': String(RETRY_AFTER_SECONDS) } };
  }),
});
