import { app } from '@azure/functions';
import { httpHandler } from '../shared/http/handler.js';
import { processMessageSchema } from '../shared/workflow/conversation.js';

app.http('workflow-process', {
  route: 'users/{userId}/chat/process',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: httpHandler(async (ctx) => {
    const userId = ctx.pathUser();
    const { message } = await ctx.body(processMessageSchema);
    return { status: 200, body: await ctx.deps.workflow.process(userId, message, ctx.log) };
  }),
});
