import { app } from '@azure/functions';
import { appendMessageSchema } from '../shared/chat/chat-schemas.js';
import { httpHandler } from '../shared/http/handler.js';

app.http('chat-append', {
  route: 'users/{userId}/chat/messages',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: httpHandler(async (ctx) => {
    const userId = ctx.pathUser();
    const input = await ctx.body(appendMessageSchema);
    const { message, count, created } = await ctx.deps.chat.history.append(userId, input, ctx.log);
    return { status: created ? 201 : 200, body: { message, count } };
  }),
});
