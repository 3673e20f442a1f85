import { app } from '@azure/functions';
import { httpHandler } from '../shared/http/handler.js';
import { idempotent } from '../shared/idempotency/idempotent.js';
import { processMessageSchema } from '../shared/workflow/conversation.js';

app.http('workflow-process', {
  route: 'users/{userId}/chat/process',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: httpHandler(async (ctx) => {
    const userId = ctx.pathUser();
    const input = await ctx.body(processMessageSchema);
    return idempotent(ctx, { operation: 'workflow-process', userId, request: input }, async (derivedId) => ({
      status: 200,
      body: await ctx.deps.workflow.process(userId, input.message, ctx.log, derivedId),
    }));
  }),
});
