import { app } from '@azure/functions';
import { httpHandler } from '../shared/http/handler.js';

app.http('chat-clear', {
  route: 'users/{userId}/chat/messages',
  methods: ['DELETE'],
  authLevel: 'anonymous',
  handler: httpHandler(async (ctx) => {
    await ctx.deps.chat.history.clear(ctx.pathUser());
    return { status: 204 };
  }),
});
