// Everything `azd up` provisions for the state API: one resource group holding monitoring, a registry,
// one user-assigned identity, storage for the Functions host, a Container Apps environment with the
// Dapr components, Azure Managed Redis (hot state), PostgreSQL (durable state), Key Vault (the Dapr
// encryption key, and the Redis access key by default) and the function app itself. No template
// output, parameter, app setting or component metadata value holds a key or a password: data stores
// are reached with the app's managed identity, or (Redis in accessKey mode) with a key that only
// ever travels from listKeys() into Key Vault.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; prefixes the resource group and feeds every resource name.')
param environmentName string

@minLength(1)
@description('Azure region for every resource.')
param location string

@description('Whether the api container app already exists (set by azd). On first provision a public placeholder image runs until `azd deploy` pushes the real one.')
param apiExists bool = false

@description('Application (client) id of a Microsoft Entra app registration. When set, the API gets external ingress behind Container Apps authentication; when empty, ingress is internal to the environment.')
param authClientId string = ''

@secure()
@minLength(32)
@description('Secret seed from which the Dapr state encryption key is derived. azd generates it once and keeps it in the azd environment; changing it later makes existing state unreadable.')
@metadata({
  azd: {
    type: 'generate'
    config: {
      length: 48
      noSpecial: true
      minLower: 8
      minUpper: 8
      minNumeric: 8
    }
  }
})
param daprEncryptionKeySeed string

@allowed(['accessKey', 'entraId'])
@description('How the Dapr sidecar signs in to Azure Managed Redis. accessKey (default): the key lives only in Key Vault. entraId: the app identity; not safe until the Dapr Redis component renews Entra ID tokens (dapr/components-contrib#3554), see README "Deploy to Azure".')
param redisAuthMode string = 'accessKey'

@minValue(0)
@maxValue(30)
@description('Replicas kept warm. 1 avoids a cold start of the Functions host and its Dapr sidecar on the first request; 0 scales to zero when idle.')
param apiMinReplicas int = 1

@minValue(1)
@maxValue(300)
@description('Upper bound for HTTP-driven scale-out.')
param apiMaxReplicas int = 10

var abbrs = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }

// The Dapr app id the app runs under (locally: `dapr run --app-id state-api`, see dev/start.ts).
// Every Dapr component is scoped to it.
var daprAppId = 'state-api'
var apiName = '${abbrs.appContainerApps}api-${resourceToken}'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    location: location
    tags: tags
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: '${abbrs.insightsComponents}${resourceToken}'
  }
}

module registry 'app/registry.bicep' = {
  name: 'registry'
  scope: rg
  params: {
    location: location
    tags: tags
    name: '${abbrs.containerRegistryRegistries}${resourceToken}'
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    location: location
    tags: tags
    name: '${abbrs.storageStorageAccounts}${resourceToken}'
  }
}

module keyVault 'app/key-vault.bicep' = {
  name: 'key-vault'
  scope: rg
  params: {
    location: location
    tags: tags
    name: '${abbrs.keyVaultVaults}${resourceToken}'
    encryptionKeySeed: daprEncryptionKeySeed
  }
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    location: location
    tags: tags
    name: '${abbrs.managedIdentityUserAssignedIdentities}api-${resourceToken}'
    registryName: registry.outputs.name
    storageAccountName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
  }
}

module redis 'app/redis.bicep' = {
  name: 'redis'
  scope: rg
  params: {
    location: location
    tags: tags
    name: '${abbrs.cacheRedisEnterprise}${resourceToken}'
    principalId: identity.outputs.principalId
    authMode: redisAuthMode
    keyVaultName: keyVault.outputs.name
  }
}

module postgres 'app/postgres.bicep' = {
  name: 'postgres'
  scope: rg
  params: {
    location: location
    tags: tags
    name: '${abbrs.dBforPostgreSQLServers}${resourceToken}'
    adminPrincipalId: identity.outputs.principalId
    adminPrincipalName: identity.outputs.name
  }
}

module containerAppsEnvironment 'app/container-apps-environment.bicep' = {
  name: 'container-apps-environment'
  scope: rg
  params: {
    location: location
    tags: tags
    name: '${abbrs.appManagedEnvironments}${resourceToken}'
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
  }
}

module daprComponents 'app/dapr-components.bicep' = {
  name: 'dapr-components'
  scope: rg
  params: {
    environmentName: containerAppsEnvironment.outputs.name
    daprAppId: daprAppId
    identityClientId: identity.outputs.clientId
    keyVaultName: keyVault.outputs.name
    encryptionKeySecretName: keyVault.outputs.encryptionKeySecretName
    redisHost: redis.outputs.host
    redisAuthMode: redis.outputs.authMode
    redisAccessKeySecretName: redis.outputs.accessKeySecretName
    postgresHost: postgres.outputs.fqdn
    postgresDatabase: postgres.outputs.databaseName
    postgresUser: identity.outputs.name
  }
}

module apiImage 'app/api-image.bicep' = {
  name: 'api-image'
  scope: rg
  params: {
    exists: apiExists
    name: apiName
  }
}

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    location: location
    tags: tags
    name: apiName
    image: apiImage.outputs.image
    environmentId: containerAppsEnvironment.outputs.id
    daprAppId: daprAppId
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    registryLoginServer: registry.outputs.loginServer
    storageAccountName: storage.outputs.name
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    stateStoreName: daprComponents.outputs.stateStoreName
    durableStateStoreName: daprComponents.outputs.durableStateStoreName
    authClientId: authClientId
    minReplicas: apiMinReplicas
    maxReplicas: apiMaxReplicas
  }
}

// azd reads these after provisioning (and writes them to .azure/<env>/.env).
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_CONTAINER_REGISTRY_ENDPOINT string = registry.outputs.loginServer
output AZURE_CONTAINER_REGISTRY_NAME string = registry.outputs.name
output AZURE_CONTAINER_ENVIRONMENT_NAME string = containerAppsEnvironment.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output SERVICE_API_NAME string = api.outputs.name
output SERVICE_API_URI string = api.outputs.uri
output API_URL string = '${api.outputs.uri}/api'
