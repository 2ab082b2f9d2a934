param logAnalyticsName string
param applicationInsightsName string
param location string
param tags object

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
    // Queries and ingestion need Entra identities; the workspace's shared keys do not work.
    features: { disableLocalAuth: true }
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    // Telemetry is accepted only from Entra-authenticated clients (the app's identity), not with the key alone.
    DisableLocalAuth: true
  }
}

output applicationInsightsId string = insights.id
output applicationInsightsName string = insights.name
output connectionString string = insights.properties.ConnectionString
