// The Container Apps environment: Consumption workload profile, Dapr hosted by the platform. Logs go
// to Azure Monitor and from there to Log Analytics through a diagnostic setting, so no workspace
// shared key is needed.
@description('Azure region.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Environment name.')
param name string

@description('Log Analytics workspace receiving the environment\'s logs.')
param logAnalyticsWorkspaceId string

@description('Application Insights connection string the Dapr sidecars send their telemetry to.')
param applicationInsightsConnectionString string

resource managedEnvironment 'Microsoft.App/managedEnvironments@2025-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    appLogsConfiguration: {
      destination: 'azure-monitor'
    }
    workloadProfiles: [
      {
        name: 'Consumption'
        workloadProfileType: 'Consumption'
      }
    ]
    zoneRedundant: false
    // The Dapr sidecars report traces and metrics of their calls (state store round trips included)
    // to the same Application Insights as the Functions host.
    daprAIConnectionString: applicationInsightsConnectionString
  }
}

resource logs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  scope: managedEnvironment
  name: 'logs-to-log-analytics'
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
  }
}

output id string = managedEnvironment.id
output name string = managedEnvironment.name
output defaultDomain string = managedEnvironment.properties.defaultDomain
