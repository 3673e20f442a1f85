// The container registry azd pushes the api image to (remote build runs here too). No admin user:
// the app pulls with its managed identity (AcrPull, see identity.bicep).
@description('Azure region.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Registry name (alphanumeric, globally unique).')
param name string

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: name
  location: location
  tags: tags
  sku: { name: 'Basic' }
  properties: {
    adminUserEnabled: false
    anonymousPullEnabled: false
    publicNetworkAccess: 'Enabled'
  }
}

output name string = registry.name
output loginServer string = registry.properties.loginServer
