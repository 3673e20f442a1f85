import { app } from '@azure/functions';
import { httpHandler } from '../shared/http/handler.js';
import { sessionParamsSchema } from '../shared/sessions/session-schemas.js';

app.http('session-get', {
  route: 'sessions/{sessionId}',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: httpHandler(async (ctx) => {
    const { userId } = ctx.caller();
    const { sessionId } = ctx.params(sessionParamsSchema);
    return { status: 200, body: await ctx.deps.sessions.get(sessionId, userId, ctx.log), headers: { 'cache-control': 'no-store' } };
  }),
});
