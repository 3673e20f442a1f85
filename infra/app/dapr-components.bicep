// The Dapr components the app uses, defined on the environment and scoped to the app's Dapr app id.
// Their names are the app's store names (STATE_STORE_NAME, DURABLE_STATE_STORE_NAME in
// shared/config.ts) and the names in components/*.yaml used locally. Components authenticate with
// the app's user-assigned identity (azureClientId), except Redis in access key mode, whose key Dapr
// reads from Key Vault (see redis.bicep); no component holds a key or password in its metadata.
// Both state stores encrypt values at rest with the key Dapr reads from Key Vault.
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

@allowed(['accessKey', 'entraId'])
@description('How the statestore signs in to Redis (see redis.bicep).')
param redisAuthMode string

@description('Key Vault secret holding the Redis access key (accessKey mode).')
param redisAccessKeySecretName string

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

// Access key mode: redisPassword comes from Key Vault through the secret store. Entra ID mode: the
// app identity's token, which the component fails to renew (dapr/components-contrib#3554).
var redisSignIn = redisAuthMode == 'entraId' ? [
  { name: 'useEntraID', value: 'true' }
  { name: 'azureClientId', value: identityClientId }
] : [
  { name: 'redisPassword', secretRef: redisAccessKeySecretName }
]

var redisConnection = [
  { name: 'redisHost', value: redisHost }
  { name: 'enableTLS', value: 'true' }
  { name: 'keyPrefix', value: 'appid' }
  // The Redis client's own command retries, off: retries belong to the app (see below).
  { name: 'redisMaxRetries', value: '-1' }
  { name: 'primaryEncryptionKey', secretRef: encryptionKeySecretName }
]

// Hot state: chat history, sessions, caches, workflows.
resource stateStore 'Microsoft.App/managedEnvironments/daprComponents@2025-07-01' = {
  parent: managedEnvironment
  name: 'statestore'
  properties: {
    componentType: 'state.redis'
    version: 'v1'
    secretStoreComponent: secretStore.name
    metadata: concat(redisConnection, redisSignIn)
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

// Sidecar-side resiliency, the same as components/resiliency.yaml for `dapr run`. daprd cuts a state
// call off after 2 s, below the app's DAPR_TIMEOUT_MS (3000 ms), so the sidecar gives up first. No
// retry and no circuit breaker here: the app retries only compare-and-set conflicts (409) and owns
// the breaker; a sidecar retry of a write that had landed would come back as a conflict the app
// retries again.
var stateCallTimeoutSeconds = 2

resource stateStoreResiliency 'Microsoft.App/managedEnvironments/daprComponents/resiliencyPolicies@2025-02-02-preview' = {
  parent: stateStore
  name: 'state-call-timeout'
  properties: {
    outboundPolicy: {
      timeoutPolicy: {
        responseTimeoutInSeconds: stateCallTimeoutSeconds
      }
    }
  }
}

resource durableStateStoreResiliency 'Microsoft.App/managedEnvironments/daprComponents/resiliencyPolicies@2025-02-02-preview' = {
  parent: durableStateStore
  name: 'state-call-timeout'
  properties: {
    outboundPolicy: {
      timeoutPolicy: {
        responseTimeoutInSeconds: stateCallTimeoutSeconds
      }
    }
  }
}

output stateStoreName string = stateStore.name
output durableStateStoreName string = durableStateStore.name
