@description('Storage account name (3-24 lowercase letters and digits).')
param name string
param location string
param tags object

@description('Blob container holding the app package Flex Consumption deploys from.')
param deploymentContainerName string
param payloadContainerName string
param lockContainerName string
param queueNames array
param historyTableName string
param ledgerTableName string
param lockTableName string
param boardTableName string
param previewTableName string

// Claim-check payload blobs have no age-based deletion: a waiting or poisoned message can outlive any age, and the app
// deletes each payload blob itself when the one message that references it completes.

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }

  resource blobs 'blobServices' = {
    name: 'default'

    resource deployment 'containers' = {
      name: deploymentContainerName
      properties: { publicAccess: 'None' }
    }

    resource payloads 'containers' = {
      name: payloadContainerName
      properties: { publicAccess: 'None' }
    }

    resource locks 'containers' = {
      name: lockContainerName
      properties: { publicAccess: 'None' }
    }
  }

  resource queueService 'queueServices' = {
    name: 'default'
  }

  resource tableService 'tableServices' = {
    name: 'default'

    resource history 'tables' = {
      name: historyTableName
    }

    resource ledger 'tables' = {
      name: ledgerTableName
    }

    resource locks 'tables' = {
      name: lockTableName
    }
    resource board 'tables' = {
      name: boardTableName
    }

    resource previews 'tables' = {
      name: previewTableName
    }
  }
}

// The four queues and their poison queues (the host would create the latter on first use).
resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [
  for queue in concat(queueNames, map(queueNames, q => '${q}-poison')): {
    parent: storage::queueService
    name: queue
  }
]

output id string = storage.id
output name string = storage.name
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output queueEndpoint string = storage.properties.primaryEndpoints.queue
output tableEndpoint string = storage.properties.primaryEndpoints.table
