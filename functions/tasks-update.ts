import { app } from '@azure/functions';
import { httpHandler } from '../shared/http/handler.js';
import { ifMatchSchema, taskEtag, taskParamsSchema, updateTaskSchema } from '../shared/tasks/task-schemas.js';

app.http('tasks-update', {
  route: 'users/{userId}/tasks/{taskId}',
  methods: ['PATCH'],
  authLevel: 'anonymous',
  handler: httpHandler(async (ctx) => {
    const userId = ctx.pathUser();
    const { taskId } = ctx.params(taskParamsSchema);
    const ifMatch = ctx.header('if-match', ifMatchSchema);
    const patch = await ctx.body(updateTaskSchema);
    const task = await ctx.deps.tasks.update(userId, taskId, patch, ctx.log, ifMatch);
    return { status: 200, body: { task }, headers: { etag: taskEtag(task) } };
  }),
});
