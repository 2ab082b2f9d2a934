param name string
param location string
param tags object

@secure()
@description('The GitHub webhook secret.')
param webhookSecret string

@secure()
@description('A second accepted webhook secret during rotation; empty: none.')
param webhookSecretNext string

@secure()
@description('GitHub token; empty when a GitHub App is used.')
param githubToken string

@secure()
@description('GitHub App private key (PEM); empty when a token is used.')
param githubAppPrivateKey string

@secure()
@description('Slack- or Teams-compatible incoming webhook URL (it embeds a credential); empty: no notifications.')
param notificationWebhookUrl string

@secure()
@description('The production deploy hook URL (http provider); empty: none.')
param productionHookUrl string

@secure()
@description('The production deploy hook signing key (http provider); empty: none.')
param productionHookSecret string

@secure()
@description('The deploy board sign-in app registration\'s client secret; empty: none.')
param boardSignInSecret string

@description('Purge protection: a deleted vault cannot be purged for 90 days, so the same environment name cannot be installed again until then.')
param purgeProtection bool

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    // Once on, purge protection cannot be turned off again; ARM accepts only true or nothing.
    enablePurgeProtection: purgeProtection ? true : null
    publicNetworkAccess: 'Enabled'
  }

  resource webhook 'secrets' = {
    name: 'webhook-secret'
    properties: { value: webhookSecret }
  }

  resource webhookNext 'secrets' = if (!empty(webhookSecretNext)) {
    name: 'webhook-secret-next'
    properties: { value: webhookSecretNext }
  }

  resource token 'secrets' = if (!empty(githubToken)) {
    name: 'github-token'
    properties: { value: githubToken }
  }

  resource appKey 'secrets' = if (!empty(githubAppPrivateKey)) {
    name: 'github-app-private-key'
    properties: { value: githubAppPrivateKey }
  }

  resource notifications 'secrets' = if (!empty(notificationWebhookUrl)) {
    name: 'notification-webhook-url'
    properties: { value: notificationWebhookUrl }
  }

  resource hookUrl 'secrets' = if (!empty(productionHookUrl)) {
    name: 'production-hook-url'
    properties: { value: productionHookUrl }
  }

  resource hookSecret 'secrets' = if (!empty(productionHookSecret)) {
    name: 'production-hook-secret'
    properties: { value: productionHookSecret }
  }

  resource signInSecret 'secrets' = if (!empty(boardSignInSecret)) {
    name: 'board-signin-secret'
    properties: { value: boardSignInSecret }
  }
}

output id string = vault.id
output name string = vault.name
output uri string = vault.properties.vaultUri
