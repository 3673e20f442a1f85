// The Dapr components the app uses, defined on the environment and scoped to the app's Dapr app id.
// Their names are the app's store names (STATE_STORE_NAME, DURABLE_STATE_STORE_NAME in
// shared/config.ts) and the names in components/*.yaml used locally. Every component authenticates
// with the app's user-assigned identity (azureClientId); none holds a key or password. Both state
// stores encrypt values at rest with the key Dapr reads from Key Vault.
@description('Container Apps environment the components belong to.')
param environmentName string

@description('Dapr app id of the API; the only app that loads these components.')
param daprAppId string

@description('Client id of the app identity used by every component.')
param identityClientId string

@description('Key Vault holding the encryption key.')
param keyVaultName string

@description('Key Vault secret holding the hex-encoded encryption key.')
param encryptionKeySecretName string

@description('Azure Managed Redis endpoint, host:port.')
param redisHost string

@description('PostgreSQL server FQDN.')
param postgresHost string

@description('PostgreSQL database for the state tables.')
param postgresDatabase string

@description('PostgreSQL role the identity signs in as (the identity\'s name).')
param postgresUser string

resource managedEnvironment 'Microsoft.App/managedEnvironments@2025-07-01' existing = {
  name: environmentName
}

resource secretStore 'Microsoft.App/managedEnvironments/daprComponents@2025-07-01' = {
  parent: managedEnvironment
  name: 'secretstore'
  properties: {
    componentType: 'secretstores.azure.keyvault'
    version: 'v1'
    metadata: [
      { name: 'vaultName', value: keyVaultName }
      { name: 'azureClientId', value: identityClientId }
    ]
    scopes: [daprAppId]
  }
}

// Hot state: chat history, sessions, caches, workflows.
resource stateStore 'Microsoft.App/managedEnvironments/daprComponents@2025-07-01' = {
  parent: managedEnvironment
  name: 'statestore'
  properties: {
    componentType: 'state.redis'
    version: 'v1'
    secretStoreComponent: secretStore.name
    metadata: [
      { name: 'redisHost', value: redisHost }
      { name: 'enableTLS', value: 'true' }
      { name: 'useEntraID', value: 'true' }
      { name: 'azureClientId', value: identityClientId }
      { name: 'keyPrefix', value: 'appid' }
      { name: 'primaryEncryptionKey', secretRef: encryptionKeySecretName }
    ]
    scopes: [daprAppId]
  }
}

// Durable state: tasks, profiles, migration checkpoints.
resource durableStateStore 'Microsoft.App/managedEnvironments/daprComponents@2025-07-01' = {
  parent: managedEnvironment
  name: 'statestore-durable'
  properties: {
    componentType: 'state.postgresql'
    version: 'v2'
    secretStoreComponent: secretStore.name
    metadata: [
      { name: 'connectionString', value: 'host=${postgresHost} user=${postgresUser} port=5432 database=${postgresDatabase} sslmode=require' }
      { name: 'useAzureAD', value: 'true' }
      { name: 'azureClientId', value: identityClientId }
      { name: 'keyPrefix', value: 'appid' }
      { name: 'primaryEncryptionKey', secretRef: encryptionKeySecretName }
    ]
    scopes: [daprAppId]
  }
}

output stateStoreName string = stateStore.name
output durableStateStoreName string = durableStateStore.name
