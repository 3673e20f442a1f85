import { app } from '@azure/functions';
import { httpHandler } from '../shared/http/handler.js';

app.http('chat-session-delete', {
  route: 'users/{userId}/chat/session',
  methods: ['DELETE'],
  authLevel: 'anonymous',
  handler: httpHandler(async (ctx) => {
    await ctx.deps.chat.sessions.delete(ctx.pathUser());
    return { status: 204 };
  }),
});
