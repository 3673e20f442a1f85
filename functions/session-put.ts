import { app } from '@azure/functions';
import { httpHandler } from '../shared/http/handler.js';
import { putSessionSchema, SESSION_BODY_MAX_BYTES, sessionParamsSchema } from '../shared/sessions/session-schemas.js';

app.http('session-put', {
  route: 'sessions/{sessionId}',
  methods: ['PUT'],
  authLevel: 'anonymous',
  handler: httpHandler(async (ctx) => {
    const { userId } = ctx.caller();
    const { sessionId } = ctx.params(sessionParamsSchema);
    const input = await ctx.body(putSessionSchema, SESSION_BODY_MAX_BYTES);
    return { status: 200, body: await ctx.deps.sessions.put(sessionId, userId, input, ctx.log) };
  }),
});
