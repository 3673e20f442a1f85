import { app } from '@azure/functions';
import { httpHandler } from '../shared/http/handler.js';
import { createTaskSchema } from '../shared/tasks/task-schemas.js';

app.http('tasks-create', {
  route: 'users/{userId}/tasks',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: httpHandler(async (ctx) => {
    const userId = ctx.pathUser();
    const { task } = await ctx.deps.tasks.create(userId, await ctx.body(createTaskSchema), ctx.log);
    return {
      status: 201,
      body: { task },
      headers: { location: `/api/users/${userId}/tasks/${task.id}`, etag: `"${task.version}"` },
    };
  }),
});
