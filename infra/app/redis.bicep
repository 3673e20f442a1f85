// Azure Managed Redis for hot state (Dapr `statestore`, state.redis), TLS only. How the Dapr sidecar
// signs in is a switch (redisAuthMode, azd env REDIS_AUTH_MODE):
// - 'accessKey' (default): the database's access key is written straight from listKeys() into a Key
//   Vault secret, which the statestore component reads through the Key Vault secret store. The key
//   appears in no output, parameter, app setting or component metadata value.
// - 'entraId': access keys off, the app identity signs in with Microsoft Entra ID through an access
//   policy assignment. Not the default: the Dapr Redis component replays its start-up token on new
//   pool connections (dapr/components-contrib#3554), so a sidecar fails with WRONGPASS once that
//   token expires (~24 h). Switch when Container Apps' managed Dapr ships the fix (README "Deploy to
//   Azure").
@description('Azure region.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Cluster name.')
param name string

@description('Object (principal) id of the app identity granted data access.')
param principalId string

@allowed(['accessKey', 'entraId'])
@description('How the Dapr sidecar signs in: the access key kept in Key Vault, or Microsoft Entra ID.')
param authMode string = 'accessKey'

@description('Key Vault that receives the access key (accessKey mode).')
param keyVaultName string

@description('Name of the Key Vault secret holding the access key (accessKey mode).')
param accessKeySecretName string = 'redis-access-key'

@description('Managed Redis SKU. Balanced_B0 is the smallest; see README "Deploy to Azure" for sizing.')
param skuName string = 'Balanced_B0'

@allowed(['Enabled', 'Disabled'])
@description('Replication across two nodes. Disabled halves the cost; hot state can be rebuilt, durable state lives in PostgreSQL.')
param highAvailability string = 'Disabled'

var useAccessKey = authMode == 'accessKey'

resource cluster 'Microsoft.Cache/redisEnterprise@2025-07-01' = {
  name: name
  location: location
  tags: tags
  sku: { name: skuName }
  properties: {
    minimumTlsVersion: '1.2'
    highAvailability: highAvailability
    publicNetworkAccess: 'Enabled'
  }
}

// EnterpriseCluster presents the database as one endpoint, so Dapr's multi-key commands (transactions,
// bulk) work; OSSCluster would break them.
resource database 'Microsoft.Cache/redisEnterprise/databases@2025-07-01' = {
  parent: cluster
  name: 'default'
  properties: {
    port: 10000
    clientProtocol: 'Encrypted'
    clusteringPolicy: 'EnterpriseCluster'
    evictionPolicy: 'VolatileLRU'
    accessKeysAuthentication: useAccessKey ? 'Enabled' : 'Disabled'
  }
}

// Entra ID mode only. The assignment name must be alphanumeric: the principal id without its dashes.
resource appAccess 'Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments@2025-07-01' = if (!useAccessKey) {
  parent: database
  name: replace(principalId, '-', '')
  properties: {
    accessPolicyName: 'default'
    user: {
      objectId: principalId
    }
  }
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

// Access key mode only. ARM evaluates list*() of a conditional resource even when it is skipped, so
// the call sits behind the same condition: in Entra ID mode (keys disabled) it is never made. A
// regenerated key reaches the sidecar on the next `azd provision` plus a new revision (README).
resource accessKey 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (useAccessKey) {
  parent: vault
  name: accessKeySecretName
  properties: {
    contentType: 'Azure Managed Redis access key (Dapr statestore redisPassword)'
    value: useAccessKey ? database.listKeys().primaryKey : ''
  }
}

output name string = cluster.name
@description('host:port as Dapr\'s redisHost expects it.')
output host string = '${cluster.properties.hostName}:${database.properties.port}'
@description('The sign-in mode the statestore component must use.')
output authMode string = authMode
@description('Name (not value) of the Key Vault secret with the access key; empty in Entra ID mode.')
output accessKeySecretName string = useAccessKey ? accessKeySecretName : ''
