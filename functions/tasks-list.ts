import { app } from '@azure/functions';
import { httpHandler } from '../shared/http/handler.js';

app.http('tasks-list', {
  route: 'users/{userId}/tasks',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: httpHandler(async (ctx) => {
    const { tasks, cache } = await ctx.deps.tasks.list(ctx.pathUser(), ctx.log);
    return { status: 200, body: { tasks }, headers: { 'x-cache': cache } };
  }),
});
