import { app } from '@azure/functions';
import { historyQuerySchema } from '../shared/chat/chat-schemas.js';
import { httpHandler } from '../shared/http/handler.js';

app.http('chat-history', {
  route: 'users/{userId}/chat/messages',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: httpHandler(async (ctx) => {
    const userId = ctx.pathUser();
    const page = await ctx.deps.chat.history.list(userId, ctx.query(historyQuerySchema));
    return { status: 200, body: page };
  }),
});
