// Which image the api container app should run when infra is (re)provisioned: the one azd last
// deployed if the app exists, else a public placeholder until `azd deploy` pushes the real image.
// The placeholder is the Functions Node 22 base image the Dockerfile builds on: a Functions host with
// no functions, listening on port 80, as a kind: functionapp app expects. A module of its own because a template cannot read a resource it also
// declares.
@description('Whether the container app already exists (azd passes SERVICE_API_RESOURCE_EXISTS).')
param exists bool

@description('Container app name.')
param name string

resource existingApp 'Microsoft.App/containerApps@2026-01-01' existing = if (exists) {
  name: name
}

output image string = exists ? existingApp.properties.template.containers[0].image : 'mcr.microsoft.com/azure-functions/node:4-node22'
