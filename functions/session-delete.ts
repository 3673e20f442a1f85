import { app } from '@azure/functions';
import { httpHandler } from '../shared/http/handler.js';
import { sessionParamsSchema } from '../shared/sessions/session-schemas.js';

app.http('session-delete', {
  route: 'sessions/{sessionId}',
  methods: ['DELETE'],
  authLevel: 'anonymous',
  handler: httpHandler(async (ctx) => {
    const { userId } = ctx.caller();
    const { sessionId } = ctx.params(sessionParamsSchema);
    await ctx.deps.sessions.delete(sessionId, userId, ctx.log);
    return { status: 204 };
  }),
});
