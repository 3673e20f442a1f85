import { app } from '@azure/functions';
import { SESSION_MAX_BYTES, sessionBodySchema } from '../shared/chat/chat-schemas.js';
import { httpHandler } from '../shared/http/handler.js';

app.http('chat-session-put', {
  route: 'users/{userId}/chat/session',
  methods: ['PUT'],
  authLevel: 'anonymous',
  handler: httpHandler(async (ctx) => {
    const userId = ctx.pathUser();
    const session = await ctx.body(sessionBodySchema, SESSION_MAX_BYTES);
    return { status: 200, body: await ctx.deps.chat.sessions.put(userId, session) };
  }),
});
