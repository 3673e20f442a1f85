// The state API: Azure Functions on Container Apps (kind functionapp) with a Dapr sidecar. Settings
// are the ones shared/config.ts reads (settingsSchema) plus what the Functions host itself needs.
@description('Azure region.')
param location string

@description('Tags applied to every resource; the app also gets azd-service-name.')
param tags object

@description('Container app name.')
param name string

@description('Image to run (see api-image.bicep).')
param image string

@description('Container Apps environment id.')
param environmentId string

@description('Dapr app id; the Dapr components are scoped to it.')
param daprAppId string

@description('Resource id of the app identity.')
param identityId string

@description('Client id of the app identity.')
param identityClientId string

@description('Registry login server the image is pulled from.')
param registryLoginServer string

@description('Storage account of the Functions host.')
param storageAccountName string

@description('Application Insights connection string.')
param applicationInsightsConnectionString string

@description('Dapr component name of the hot state store.')
param stateStoreName string

@description('Dapr component name of the durable state store.')
param durableStateStoreName string

@description('Entra app registration (client) id. Empty: internal ingress only, no authentication config.')
param authClientId string = ''

@minValue(0)
@description('Minimum replicas.')
param minReplicas int = 1

@minValue(1)
@description('Maximum replicas.')
param maxReplicas int = 10

@description('Concurrent HTTP requests per replica before another replica is added.')
param concurrentRequestsPerReplica int = 50

var authEnabled = !empty(authClientId)

resource app 'Microsoft.App/containerApps@2026-01-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    environmentId: environmentId
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      // External only behind Container Apps authentication: AUTH_MODE=platform trusts the
      // x-ms-client-principal headers that authentication injects.
      ingress: {
        external: authEnabled
        targetPort: 80
        transport: 'auto'
        allowInsecure: false
      }
      // No appPort: the app only calls out to its sidecar; nothing reaches the app through Dapr.
      dapr: {
        enabled: true
        appId: daprAppId
        enableApiLogging: false
      }
      registries: [
        {
          server: registryLoginServer
          identity: identityId
        }
      ]
    }
    template: {
      containers: [
        {
          name: 'api'
          image: image
          resources: {
            cpu: json('0.5')
            memory: '1Gi'
          }
          env: [
            // Functions host.
            { name: 'FUNCTIONS_WORKER_RUNTIME', value: 'node' }
            { name: 'AzureWebJobsStorage__accountName', value: storageAccountName }
            { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
            { name: 'AzureWebJobsStorage__clientId', value: identityClientId }
            { name: 'AzureWebJobsSecretStorageType', value: 'files' }
            { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: applicationInsightsConnectionString }
            // Bytes (the host parses a whole number; anything else is ignored and the 100 MB default
            // applies). Past it Kestrel answers 413 before the app buffers anything. 256 KiB (the
            // app's own limit, MAX_BODY_BYTES in shared/http/request.ts) plus 4 KiB, so the app still
            // answers every body up to there with its own JSON 413.
            { name: 'FUNCTIONS_REQUEST_BODY_SIZE_LIMIT', value: '266240' }
            // The app: every name in settingsSchema (shared/config.ts).
            { name: 'AUTH_MODE', value: 'platform' }
            // The app trusts x-ms-client-principal only when this names the registration the
            // authConfigs resource below validates tokens for; empty: every data route answers 401.
            { name: 'AUTH_CLIENT_ID', value: authClientId }
            { name: 'LOG_LEVEL', value: 'info' }
            { name: 'DAPR_HOST', value: '127.0.0.1' }
            { name: 'DAPR_HTTP_PORT', value: '3500' }
            { name: 'DAPR_TIMEOUT_MS', value: '3000' }
            { name: 'REQUEST_TIMEOUT_MS', value: '5000' }
            { name: 'STATE_BREAKER_THRESHOLD', value: '5' }
            { name: 'STATE_BREAKER_HALF_OPEN_MS', value: '5000' }
            { name: 'STATE_STORE_NAME', value: stateStoreName }
            { name: 'DURABLE_STATE_STORE_NAME', value: durableStateStoreName }
            { name: 'CHAT_HISTORY_MAX_MESSAGES', value: '50' }
            { name: 'CHAT_HISTORY_TTL_SECONDS', value: '86400' }
            { name: 'CHAT_SESSION_TTL_SECONDS', value: '3600' }
            { name: 'TASK_CACHE_TTL_SECONDS', value: '300' }
            { name: 'USER_CACHE_TTL_SECONDS', value: '1800' }
            { name: 'WORKFLOW_TTL_SECONDS', value: '600' }
          ]
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
        rules: [
          {
            name: 'http'
            http: {
              metadata: {
                concurrentRequests: string(concurrentRequestsPerReplica)
              }
            }
          }
        ]
      }
    }
  }
}

// Microsoft Entra ID in front of every route but the anonymous ones: the health probe and the API
// reference (page, its script, the OpenAPI document), which functions/docs.ts, docs-script.ts and
// openapi.ts serve without sign-in. Exact paths, one per route. Bearer tokens for the API's
// registration are validated by the platform, which then injects x-ms-client-principal. Validating
// tokens needs no client secret.
resource auth 'Microsoft.App/containerApps/authConfigs@2025-07-01' = if (authEnabled) {
  parent: app
  name: 'current'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      unauthenticatedClientAction: 'Return401'
      excludedPaths: [
        '/api/health'
        '/api/docs'
        '/api/docs/scalar.js'
        '/api/openapi.json'
      ]
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: authClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [
            authClientId
            'api://${authClientId}'
          ]
        }
      }
    }
  }
}

output name string = app.name
output uri string = 'https://${app.properties.configuration.ingress.fqdn}'
