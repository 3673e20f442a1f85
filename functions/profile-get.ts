import { app } from '@azure/functions';
import { NotFound } from '../shared/errors.js';
import { httpHandler } from '../shared/http/handler.js';

app.http('profile-get', {
  route: 'users/{userId}/profile',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: httpHandler(async (ctx) => {
    const { profile, cache } = await ctx.deps.profiles.get(ctx.pathUser(), ctx.log);
    if (!profile) throw new NotFound('No profile for this user.', { headers: { 'x-cache': cache } });
    return { status: 200, body: { profile }, headers: { 'x-cache': cache } };
  }),
});
