// Azure Managed Redis for hot state (Dapr `statestore`, state.redis). TLS only, access keys off: the
// app identity authenticates with Microsoft Entra ID through the database's default access policy.
@description('Azure region.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Cluster name.')
param name string

@description('Object (principal) id of the app identity granted data access.')
param principalId string

@description('Managed Redis SKU. Balanced_B0 is the smallest; see README "Deploy to Azure" for sizing.')
param skuName string = 'Balanced_B0'

@allowed(['Enabled', 'Disabled'])
@description('Replication across two nodes. Disabled halves the cost; hot state can be rebuilt, durable state lives in PostgreSQL.')
param highAvailability string = 'Disabled'

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
    accessKeysAuthentication: 'Disabled'
  }
}

// The assignment name must be alphanumeric: the principal id without its dashes.
resource appAccess 'Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments@2025-07-01' = {
  parent: database
  name: replace(principalId, '-', '')
  properties: {
    accessPolicyName: 'default'
    user: {
      objectId: principalId
    }
  }
}

output name string = cluster.name
@description('host:port as Dapr\'s redisHost expects it.')
output host string = '${cluster.properties.hostName}:${database.properties.port}'
