// Key Vault holding the Dapr state encryption key. Access is by Azure RBAC only (Key Vault Secrets
// User for the app identity, see identity.bicep); Dapr reads the key through the
// `secretstores.azure.keyvault` component (dapr-components.bicep).
@description('Azure region.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Key Vault name (3-24 characters, globally unique).')
param name string

@secure()
@description('Secret seed the encryption key is derived from. The same seed always yields the same key, so re-provisioning never rotates it by accident.')
param encryptionKeySeed string

@description('Name of the secret that holds the key. Dapr tags every encrypted value with it, so a rotation uses a new name (see README "Deploy to Azure").')
param encryptionKeySecretName string = 'dapr-state-encryption-key'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    publicNetworkAccess: 'Enabled'
  }
}

// Dapr wants a hex-encoded AES key (128, 192 or 256 bits). guid() hashes its arguments (name-based
// UUID), so two GUIDs over the secret seed give 64 hex digits: a 256-bit AES key (about 244 of its
// bits vary: each GUID fixes its version and variant bits) that is stable across deployments and
// never appears in the template, its parameters file or the deployment history.
resource encryptionKey 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: encryptionKeySecretName
  properties: {
    contentType: 'hex-encoded AES-256 key (Dapr state encryption)'
    value: '${replace(guid(encryptionKeySeed, 'dapr-state-encryption', '1'), '-', '')}${replace(guid(encryptionKeySeed, 'dapr-state-encryption', '2'), '-', '')}'
  }
}

output name string = vault.name
output encryptionKeySecretName string = encryptionKey.name
