import { app } from '@azure/functions';
import { httpHandler } from '../shared/http/handler.js';
import { putProfileSchema } from '../shared/users/profile-schemas.js';

app.http('profile-put', {
  route: 'users/{userId}/profile',
  methods: ['PUT'],
  authLevel: 'anonymous',
  handler: httpHandler(async (ctx) => {
    const userId = ctx.pathUser();
    const profile = await ctx.deps.profiles.put(userId, await ctx.body(putProfileSchema), ctx.log);
    return { status: 200, body: { profile } };
  }),
});
