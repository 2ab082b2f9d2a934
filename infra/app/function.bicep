param name string
param planName string
param location string
param tags object

@description('Resource id and client id of the user-assigned identity.')
param identityId string
param identityClientId string

param storageBlobEndpoint string
param storageQueueEndpoint string
param storageTableEndpoint string
param deploymentContainerName string
param applicationInsightsConnectionString string

@description('App settings of the app itself (all but storage and monitoring, which this module sets).')
param appSettings object

@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Microsoft Entra ID sign-in for the deploy board: the tenant; with signInClientId. Empty: no sign-in (the function key only).')
param signInTenantId string = ''

@description('The app registration people sign in with.')
param signInClientId string = ''

@description('The app setting that holds the registration\'s client secret (a Key Vault reference); empty: ID tokens only.')
param signInCredentialSettingName string = ''

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

var platformSettings = {
  // Identity-based host storage: no connection string, no account key.
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: storageBlobEndpoint
  AzureWebJobsStorage__queueServiceUri: storageQueueEndpoint
  AzureWebJobsStorage__tableServiceUri: storageTableEndpoint
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    keyVaultReferenceIdentity: identityId
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      remoteDebuggingEnabled: false
      http20Enabled: true
      appSettings: [for setting in items(union(appSettings, platformSettings)): {
        name: setting.key
        value: setting.value
      }]
    }
  }

  // No publishing with user names and passwords: deployments use the identity (azd, az functionapp deploy).
  resource ftp 'basicPublishingCredentialsPolicies' = {
    name: 'ftp'
    properties: { allow: false }
  }

  resource scm 'basicPublishingCredentialsPolicies' = {
    name: 'scm'
    properties: { allow: false }
  }
}

// App Service Authentication: everything asks for an Entra ID sign-in (the board, its data, the DORA API) except what
// GitHub, deploy hooks and operators' scripts call with their own proof (a signature, a function or master key).
resource auth 'Microsoft.Web/sites/config@2024-04-01' = if (!empty(signInTenantId) && !empty(signInClientId)) {
  parent: app
  name: 'authsettingsV2'
  properties: {
    platform: { enabled: true }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'RedirectToLoginPage'
      redirectToProvider: 'azureactivedirectory'
      excludedPaths: [
        '/api/github/webhooks'
        '/api/deployments/report'
        '/api/deployments/history'
        '/api/deliveries/poison'
        '/api/deliveries/poison/replay'
      ]
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          openIdIssuer: '${environment().authentication.loginEndpoint}${signInTenantId}/v2.0'
          clientId: signInClientId
          clientSecretSettingName: empty(signInCredentialSettingName) ? null : signInCredentialSettingName
        }
        validation: {
          allowedAudiences: [signInClientId, 'api://${signInClientId}']
        }
      }
    }
    login: {
      tokenStore: { enabled: false }
    }
    httpSettings: {
      requireHttps: true
    }
  }
}

output name string = app.name
output defaultHostName string = app.properties.defaultHostName
