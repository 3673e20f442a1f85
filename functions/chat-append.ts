import { app } from '@azure/functions';
import { appendMessageSchema } from '../shared/chat/chat-schemas.js';
import { httpHandler } from '../shared/http/handler.js';
import { idempotent } from '../shared/idempotency/idempotent.js';

app.http('chat-append', {
  route: 'users/{userId}/chat/messages',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: httpHandler(async (ctx) => {
    const userId = ctx.pathUser();
    const input = await ctx.body(appendMessageSchema);
    // Without an id of its own, the message takes the one derived from the key (see append()).
    return idempotent(ctx, { operation: 'chat-append', userId, request: input }, async (derivedId) => {
      const { message, count, created } = await ctx.deps.chat.history.append(userId, input, ctx.log, derivedId);
      return { status: created ? 201 : 200, body: { message, count } };
    });
  }),
});
