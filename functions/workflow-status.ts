import { app } from '@azure/functions';
import { httpHandler } from '../shared/http/handler.js';

app.http('workflow-status', {
  route: 'users/{userId}/chat/workflow',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: httpHandler(async (ctx) => ({ status: 200, body: await ctx.deps.workflow.status(ctx.pathUser()) })),
});
