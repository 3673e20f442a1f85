import { app } from '@azure/functions';
import { httpHandler } from '../shared/http/handler.js';
import { idempotent } from '../shared/idempotency/idempotent.js';
import { createTaskSchema, taskEtag } from '../shared/tasks/task-schemas.js';

app.http('tasks-create', {
  route: 'users/{userId}/tasks',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: httpHandler(async (ctx) => {
    const userId = ctx.pathUser();
    const input = await ctx.body(createTaskSchema);
    // The task id derives from the key, so a retry converges on one task even without its record.
    return idempotent(ctx, { operation: 'tasks-create', userId, request: input, whenStoreDown: 'proceed' }, async (taskId) => {
      const { task } = await ctx.deps.tasks.create(userId, input, ctx.log, taskId);
      return {
        status: 201,
        body: { task },
        headers: { location: `/api/users/${userId}/tasks/${task.id}`, etag: taskEtag(task) },
      };
    });
  }),
});
