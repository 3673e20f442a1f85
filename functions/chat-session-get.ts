import { app } from '@azure/functions';
import { NotFound } from '../shared/errors.js';
import { httpHandler } from '../shared/http/handler.js';

app.http('chat-session-get', {
  route: 'users/{userId}/chat/session',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: httpHandler(async (ctx) => {
    const session = await ctx.deps.chat.sessions.get(ctx.pathUser());
    if (!session) throw new NotFound('No chat session, or it has expired.');
    return { status: 200, body: session };
  }),
});
