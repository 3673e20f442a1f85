import { app } from '@azure/functions';
import { httpHandler } from '../shared/http/handler.js';
import { taskParamsSchema } from '../shared/tasks/task-schemas.js';

app.http('tasks-delete', {
  route: 'users/{userId}/tasks/{taskId}',
  methods: ['DELETE'],
  authLevel: 'anonymous',
  handler: httpHandler(async (ctx) => {
    const userId = ctx.pathUser();
    const { taskId } = ctx.params(taskParamsSchema);
    await ctx.deps.tasks.remove(userId, taskId, ctx.log);
    return { status: 204 };
  }),
});
