// PostgreSQL Flexible Server for durable state (Dapr `statestore-durable`, state.postgresql v2).
// Password authentication is off: the app identity is the server's Microsoft Entra administrator and
// signs in with a token (the component's useAzureAD).
@description('Azure region.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Server name (globally unique).')
param name string

@description('Object (principal) id of the identity made Entra administrator.')
param adminPrincipalId string

@description('Display name of that identity; it is also the PostgreSQL role name it signs in as.')
param adminPrincipalName string

@description('Database holding the Dapr state tables.')
param databaseName string = 'state'

@description('Compute SKU. Standard_B1ms (Burstable) is the smallest.')
param skuName string = 'Standard_B1ms'

@allowed(['Burstable', 'GeneralPurpose', 'MemoryOptimized'])
@description('Compute tier matching skuName.')
param skuTier string = 'Burstable'

@description('PostgreSQL major version.')
param version string = '16'

resource server 'Microsoft.DBforPostgreSQL/flexibleServers@2025-08-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: skuTier
  }
  properties: {
    version: version
    storage: {
      storageSizeGB: 32
      autoGrow: 'Enabled'
    }
    backup: {
      backupRetentionDays: 7
      geoRedundantBackup: 'Disabled'
    }
    highAvailability: {
      mode: 'Disabled'
    }
    authConfig: {
      activeDirectoryAuth: 'Enabled'
      passwordAuth: 'Disabled'
      tenantId: tenant().tenantId
    }
    network: {
      publicNetworkAccess: 'Enabled'
    }
  }
}

// Without a VNet the Container Apps environment reaches the server over Azure's public backbone;
// 0.0.0.0-0.0.0.0 is the documented rule for "Azure services" (it admits no internet address).
// The server accepts one control-plane change at a time, hence the dependsOn chain.
resource allowAzureServices 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2025-08-01' = {
  parent: server
  name: 'AllowAllAzureServicesAndResourcesWithinAzureIps'
  properties: {
    startIpAddress: '0.0.0.0'
    endIpAddress: '0.0.0.0'
  }
}

resource entraAdmin 'Microsoft.DBforPostgreSQL/flexibleServers/administrators@2025-08-01' = {
  parent: server
  name: adminPrincipalId
  properties: {
    principalType: 'ServicePrincipal'
    principalName: adminPrincipalName
    tenantId: tenant().tenantId
  }
  dependsOn: [allowAzureServices]
}

resource database 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2025-08-01' = {
  parent: server
  name: databaseName
  properties: {
    charset: 'UTF8'
    collation: 'en_US.utf8'
  }
  dependsOn: [entraAdmin]
}

output name string = server.name
output fqdn string = server.properties.fullyQualifiedDomainName
output databaseName string = database.name
