// DeployFunctions on Azure: a Flex Consumption function app with a user-assigned identity, identity-only storage,
// Key Vault for secrets and Application Insights. `azd up` runs it; so does `az deployment sub create`.
targetScope = 'subscription'

@minLength(1)
@maxLength(40)
@description('Name of the environment (azd: AZURE_ENV_NAME); used to name and tag every resource.')
param environmentName string

@minLength(1)
@description('Azure region of every resource (azd: AZURE_LOCATION). Flex Consumption must be offered there.')
param location string

@secure()
@description('The GitHub webhook secret (Webhook__Secrets__0).')
param webhookSecret string

@secure()
@description('A second accepted webhook secret while rotating (Webhook__Secrets__1); empty: none.')
param webhookSecretNext string = ''

@secure()
@description('GitHub token with Deployments read & write (GitHub__Token); empty when a GitHub App is used.')
param githubToken string = ''

@description('GitHub App id (GitHub__AppId); empty when a token is used.')
param githubAppId string = ''

@secure()
@description('GitHub App private key, PEM (GitHub__AppPrivateKey); empty when a token is used.')
param githubAppPrivateKey string = ''

@description('GitHub REST API root (GitHub__ApiBaseUrl): https://api.github.com/ or https://HOST/api/v3/.')
param githubApiBaseUrl string = 'https://api.github.com/'

@description('Base branches to environments, e.g. main=production;release=staging (Deploy__BranchEnvironments); empty: default branch -> production.')
param branchEnvironments string = ''

@description('Repositories allowed to deploy (Deploy__Repositories): owner/name, owner/* or *, separated by ;. Required: nothing deploys until you name what may.')
@minLength(1)
param repositories string

@description('Required commit status contexts (Deploy__RequiredContexts): empty = all, none = skip, or a list.')
param requiredContexts string = ''

@description('Pull request chat commands (.deploy, .lock, ...) on or off (Commands__Enabled).')
@allowed(['true', 'false'])
param commandsEnabled string = 'true'

@description('Preview environments per pull request, for repositories whose file has a previews: section (Previews__Enabled).')
@allowed(['true', 'false'])
param previewsEnabled string = 'false'

@description('Who may run commands besides having write permission: logins and org/team slugs (Commands__AllowedUsers); empty: everyone with write.')
param commandsAllowedUsers string = ''

@description('Hooks whose failed deliveries the sweeper redelivers: owner/name#hookId or org#hookId, separated by ; (Sweeper__Hooks); empty: none.')
param sweeperHooks string = ''

@description('Also sweep the GitHub App\'s own hook (Sweeper__AppHook).')
@allowed(['true', 'false'])
param sweeperAppHook string = 'false'

@allowed(['simulated', 'http', 'github-actions'])
@description('Provider of environments with no provider of their own (Deploy__DefaultProvider).')
param defaultProvider string = 'simulated'

@allowed(['simulated', 'http', 'github-actions'])
@description('Provider of the production environment (Environments__production__Provider).')
param productionProvider string = 'simulated'

@description('URL reported as the production environment_url (Environments__production__EnvironmentUrl); empty: none.')
param productionEnvironmentUrl string = ''

@secure()
@description('Slack- or Teams-compatible incoming webhook URL for final states (Notifications__WebhookUrl); empty: none.')
param notificationWebhookUrl string = ''

@secure()
@description('Production deploy hook URL for the http provider (Environments__production__Url, kept in Key Vault); empty: none.')
param productionHookUrl string = ''

@secure()
@description('Production deploy hook signing key for the http provider (Environments__production__Secret, kept in Key Vault); empty: none.')
param productionHookSecret string = ''

@description('Production workflow file for the github-actions provider, e.g. deploy.yml (Environments__production__Workflow); empty: none.')
param productionWorkflow string = ''

@description('Object id of the operator (azd sets AZURE_PRINCIPAL_ID to yours); gets Key Vault Secrets Officer on the vault to rotate secrets, and Storage Queue Data Contributor to replay poison queues. Empty: nobody.')
param operatorPrincipalId string = ''

@allowed(['User', 'Group', 'ServicePrincipal'])
@description('What operatorPrincipalId is.')
param operatorPrincipalType string = 'User'

@allowed(['true', 'false'])
@description('Key Vault purge protection. On: a deleted vault cannot be purged for 90 days, so the same environment name cannot be installed again until then. Off: azd down --purge removes it at once.')
param keyVaultPurgeProtection string = 'false'

@description('The targets catalogue (Targets__<name>__*), each granted to some repositories: [{ name, provider (simulated|http|github-actions), repositories (owner/name;owner/*), workflow?, workflowRef?, timeoutSeconds?, delaySeconds?, watchdogMinutes?, environmentUrl? }]. Names: letters, digits and underscores (app setting names on Linux). An http target reads its hook URL and signing key from the Key Vault secrets target-<name>-url and target-<name>-secret (with _ as -), which the operator sets before the target is added (an unresolved reference stops start-up); no secret passes through this template.')
param targets array = []

@description('More app settings, e.g. Environments__staging__Provider; secrets belong in Key Vault and are referenced here.')
param additionalAppSettings object = {}

@description('Send Azure Monitor alerts (poison queues, watchdog errors, production change failure rate, webhook 5xx, failures) to this address; empty: no alerts.')
param alertEmail string = ''

@description('The production change failure rate over a day above which an alert fires, in percent (a string, as azd passes it).')
param alertFailureRatePercent string = '30'

@description('Where each alert\'s text points for what to do: your copy of the README\'s "When an alert fires".')
param runbookUrl string = 'README.md#when-an-alert-fires (DeployFunctions repository)'

@description('Microsoft Entra ID sign-in in front of the deploy board: the tenant id; with boardSignInClientId. Empty: the board needs its function key only.')
param boardSignInTenantId string = ''

@description('The app registration (client id) people sign in to the board with.')
param boardSignInClientId string = ''

@secure()
@description('The app registration\'s client secret (kept in Key Vault); empty: the registration issues ID tokens without one.')
param boardSignInSecret string = ''

var abbreviations = loadJsonContent('abbreviations.json')
var token = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var functionAppName = '${abbreviations.webSitesFunctions}${token}'
var identityName = '${abbreviations.managedIdentityUserAssignedIdentities}${token}'
var storageName = '${abbreviations.storageStorageAccounts}${token}'
var vaultName = '${abbreviations.keyVaultVaults}${token}'
var insightsName = '${abbreviations.insightsComponents}${token}'
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}'

// One name per setting, the same as local.settings.sample.json and docs/configuration.md.
var queues = {
  PullRequestsQueue: 'github-pull-requests'
  DeploymentsQueue: 'github-deployments'
  DeploymentStatusesQueue: 'github-deployment-statuses'
  CommandsQueue: 'github-commands'
  ProtectionRulesQueue: 'github-protection-rules'
  PreviewsQueue: 'github-previews'
}
var payloadContainer = 'webhook-payloads'
var lockContainer = 'deployment-locks'
var historyTable = 'DeploymentHistory'
var ledgerTable = 'DeploymentLedger'
var lockTable = 'EnvironmentLocks'
var boardTable = 'DeployBoard'
var previewTable = 'Previews'

resource resourceGroup 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: '${abbreviations.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: resourceGroup
  params: {
    name: identityName
    location: location
    tags: tags
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: resourceGroup
  params: {
    name: storageName
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    payloadContainerName: payloadContainer
    lockContainerName: lockContainer
    queueNames: [queues.PullRequestsQueue, queues.DeploymentsQueue, queues.DeploymentStatusesQueue, queues.CommandsQueue, queues.ProtectionRulesQueue, queues.PreviewsQueue]
    historyTableName: historyTable
    ledgerTableName: ledgerTable
    lockTableName: lockTable
    boardTableName: boardTable
    previewTableName: previewTable
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: resourceGroup
  params: {
    logAnalyticsName: '${abbreviations.operationalInsightsWorkspaces}${token}'
    applicationInsightsName: insightsName
    location: location
    tags: tags
  }
}

module vault 'app/keyvault.bicep' = {
  name: 'keyvault'
  scope: resourceGroup
  params: {
    name: vaultName
    location: location
    tags: tags
    webhookSecret: webhookSecret
    webhookSecretNext: webhookSecretNext
    githubToken: githubToken
    githubAppPrivateKey: githubAppPrivateKey
    notificationWebhookUrl: notificationWebhookUrl
    productionHookUrl: productionHookUrl
    productionHookSecret: productionHookSecret
    boardSignInSecret: boardSignInSecret
    purgeProtection: keyVaultPurgeProtection == 'true'
  }
}

module roles 'app/roles.bicep' = {
  name: 'roles'
  scope: resourceGroup
  dependsOn: [identity, storage, vault, monitoring]
  params: {
    identityName: identityName
    storageAccountName: storageName
    keyVaultName: vaultName
    applicationInsightsName: insightsName
    operatorPrincipalId: operatorPrincipalId
    operatorPrincipalType: operatorPrincipalType
  }
}

// A Key Vault reference, resolved by the app's user-assigned identity (keyVaultReferenceIdentity).
func keyVaultReference(vault string, secret string) string => '@Microsoft.KeyVault(VaultName=${vault};SecretName=${secret})'

// Each target of the catalogue as the app settings the app binds (Targets__<name>__*); an http target's URL and key are
// Key Vault references, so a second or third target needs no hand-edited app settings and no secret in a parameter.
var targetSettings = reduce(targets, {}, (settings, target) => union(settings, {
  'Targets__${target.name}__Provider': target.provider
  'Targets__${target.name}__Repositories': target.repositories
  'Targets__${target.name}__Workflow': target.?workflow ?? ''
  'Targets__${target.name}__WorkflowRef': target.?workflowRef ?? ''
  'Targets__${target.name}__DelaySeconds': string(target.?delaySeconds ?? 2)
  'Targets__${target.name}__TimeoutSeconds': string(target.?timeoutSeconds ?? 120)
  'Targets__${target.name}__WatchdogMinutes': string(target.?watchdogMinutes ?? 60)
  'Targets__${target.name}__EnvironmentUrl': target.?environmentUrl ?? ''
  'Targets__${target.name}__Url': target.provider == 'http'
    ? keyVaultReference(vaultName, 'target-${replace(target.name, '_', '-')}-url')
    : ''
  'Targets__${target.name}__Secret': target.provider == 'http'
    ? keyVaultReference(vaultName, 'target-${replace(target.name, '_', '-')}-secret')
    : ''
}))

module function 'app/function.bicep' = {
  name: 'function'
  scope: resourceGroup
  dependsOn: [roles]
  params: {
    name: functionAppName
    planName: '${abbreviations.webServerFarms}${token}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageBlobEndpoint: storage.outputs.blobEndpoint
    storageQueueEndpoint: storage.outputs.queueEndpoint
    storageTableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerName: deploymentContainerName
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    signInTenantId: boardSignInTenantId
    signInClientId: boardSignInClientId
    signInCredentialSettingName: empty(boardSignInSecret) ? '' : 'MICROSOFT_PROVIDER_AUTHENTICATION_SECRET'
    appSettings: union({
      Webhook__Secrets__0: keyVaultReference(vaultName, 'webhook-secret')
      Webhook__Secrets__1: empty(webhookSecretNext) ? '' : keyVaultReference(vaultName, 'webhook-secret-next')
      Webhook__MaxBodyBytes: '26214400'
      Webhook__StorageTimeoutSeconds: '7'
      PullRequestsQueue: queues.PullRequestsQueue
      DeploymentsQueue: queues.DeploymentsQueue
      DeploymentStatusesQueue: queues.DeploymentStatusesQueue
      CommandsQueue: queues.CommandsQueue
      ProtectionRulesQueue: queues.ProtectionRulesQueue
      PreviewsQueue: queues.PreviewsQueue
      WatchdogSchedule: '0 */5 * * * *'
      PoisonWatchSchedule: '30 */5 * * * *'
      SweeperSchedule: '0 */10 * * * *'
      PreviewSweepSchedule: '0 20 * * * *'
      PayloadContainer: payloadContainer
      LockContainer: lockContainer
      HistoryTable: historyTable
      LedgerTable: ledgerTable
      LockTable: lockTable
      BoardTable: boardTable
      PreviewTable: previewTable
      Previews__Enabled: previewsEnabled
      MICROSOFT_PROVIDER_AUTHENTICATION_SECRET: empty(boardSignInSecret) ? '' : keyVaultReference(vaultName, 'board-signin-secret')
      GitHub__ApiBaseUrl: githubApiBaseUrl
      GitHub__Token: empty(githubToken) ? '' : keyVaultReference(vaultName, 'github-token')
      GitHub__AppId: githubAppId
      GitHub__AppPrivateKey: empty(githubAppPrivateKey) ? '' : keyVaultReference(vaultName, 'github-app-private-key')
      GitHub__RequestTimeoutSeconds: '30'
      Deploy__BranchEnvironments: branchEnvironments
      Deploy__DefaultEnvironment: 'production'
      Deploy__Repositories: repositories
      Deploy__SkipLabel: 'no-deploy'
      Deploy__RequiredContexts: requiredContexts
      Deploy__WaitForChecksMinutes: '60'
      Deploy__ChecksRetrySeconds: '60'
      Deploy__LockWaitSeconds: '15'
      Deploy__DefaultProvider: defaultProvider
      Deploy__FreezeMerges: 'wait'
      Deploy__AllowForce: 'false'
      Protection__MaxWaitMinutes: '1440'
      Protection__PollSeconds: '30'
      Sweeper__Hooks: sweeperHooks
      Sweeper__AppHook: sweeperAppHook
      Sweeper__MaxPerRun: '20'
      Sweeper__MaxAttempts: '4'
      Sweeper__Pages: '3'
      Commands__Enabled: commandsEnabled
      Commands__Prefix: '.'
      Commands__MinimumPermission: 'write'
      Commands__AllowedUsers: commandsAllowedUsers
      Commands__RequireApproval: 'true'
      Commands__AllowForks: 'false'
      Commands__NoopSkipsReview: 'false'
      Commands__OutdatedMode: 'strict'
      Commands__UpdateBranch: 'warn'
      Commands__DisableNakedCommands: 'false'
      Commands__DraftPermittedTargets: ''
      Commands__Checks: ''
      Commands__IgnoredChecks: ''
      Commands__AllowShaDeployments: 'false'
      Commands__DeploymentConfirmation: ''
      Commands__DeploymentConfirmationTimeoutSeconds: '60'
      Commands__DeploymentConfirmationPollSeconds: '2'
      Commands__StickyLocks: 'false'
      Commands__UnlockOnMerge: 'false'
      Commands__StableBranch: ''
      Commands__LockWaitMinutes: '120'
      Commands__LockPollSeconds: '15'
      Environments__production__Provider: productionProvider
      Environments__production__DelaySeconds: '2'
      Environments__production__EnvironmentUrl: productionEnvironmentUrl
      Environments__production__WatchdogMinutes: '60'
      Environments__production__Url: empty(productionHookUrl) ? '' : keyVaultReference(vaultName, 'production-hook-url')
      Environments__production__Secret: empty(productionHookSecret) ? '' : keyVaultReference(vaultName, 'production-hook-secret')
      Environments__production__Workflow: productionWorkflow
      Retry__MaxAttempts: '8'
      Retry__BaseDelaySeconds: '15'
      Retry__MaxDelaySeconds: '600'
      Notifications__WebhookUrl: empty(notificationWebhookUrl) ? '' : keyVaultReference(vaultName, 'notification-webhook-url')
    }, targetSettings, additionalAppSettings)
  }
}

module alerts 'app/alerts.bicep' = if (!empty(alertEmail)) {
  name: 'alerts'
  scope: resourceGroup
  params: {
    namePrefix: functionAppName
    location: location
    tags: tags
    alertEmail: alertEmail
    applicationInsightsId: monitoring.outputs.applicationInsightsId
    failureRatePercent: int(alertFailureRatePercent)
    runbookUrl: runbookUrl
  }
}

module workbook 'app/workbook.bicep' = {
  name: 'workbook'
  scope: resourceGroup
  params: {
    name: '${functionAppName}-dora'
    location: location
    tags: tags
    applicationInsightsId: monitoring.outputs.applicationInsightsId
  }
}

output AZURE_LOCATION string = location
output AZURE_RESOURCE_GROUP string = resourceGroup.name
output AZURE_FUNCTION_APP_NAME string = function.outputs.name
output WEBHOOK_URL string = 'https://${function.outputs.defaultHostName}/api/github/webhooks'
output BOARD_URL string = 'https://${function.outputs.defaultHostName}/api/board'
output AZURE_KEY_VAULT_NAME string = vault.outputs.name
