// Azure Monitor alerts for on-call, created when main.bicep's alertEmail is given: an email action group and one rule per
// condition. Each rule's description says what happened and links the README's section on what to do.
param namePrefix string
param location string
param tags object

@description('Where the alerts are sent.')
param alertEmail string

@description('The Application Insights component the app logs to (log search alerts query it).')
param applicationInsightsId string

@description('Production change failure rate over a day above which the failure-rate alert fires, in percent.')
@minValue(1)
@maxValue(100)
param failureRatePercent int

@description('The README section that says what to do for each alert.')
param runbookUrl string

resource group 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: '${namePrefix}-oncall'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'deployfn'
    enabled: true
    emailReceivers: [
      {
        name: 'operators'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

// Log search alerts over what the app logs (message templates in src/; AlertQueriesTests pins them to the code).
var logAlerts = [
  {
    name: 'poison'
    severity: 1
    title: 'DeployFunctions: deliveries in a poison queue'
    description: 'A delivery could not be handled and was moved to a poison queue (the poison watch logs each one). Look at it with GET /api/deliveries/poison and replay it once the cause is fixed.'
    frequency: 'PT5M'
    window: 'PT15M'
    query: 'traces | where message startswith "Poison watch:" | summarize Messages = count()'
  }
  {
    name: 'watchdog'
    severity: 2
    title: 'DeployFunctions: a deployment errored by the watchdog'
    description: 'A deployment had no result within its environment\'s WatchdogMinutes and the watchdog reported it as error. Check the provider (hook, workflow) for that run.'
    frequency: 'PT5M'
    window: 'PT15M'
    query: 'traces | where message startswith "Watchdog: deployment" and message has "reported error" | summarize Deployments = count()'
  }
  {
    name: 'failure-rate'
    severity: 2
    title: 'DeployFunctions: production change failure rate above its threshold'
    description: 'Over the last day, the share of production deployments that failed, errored, or were rolled back or reverted is above ${failureRatePercent}% (alertFailureRatePercent).'
    frequency: 'PT1H'
    window: 'P1D'
    query: 'let undone = traces | where message startswith "Board undid deployment" | where tostring(customDimensions.Environment) =~ "production" | distinct DeploymentId = tostring(customDimensions.DeploymentId); traces | where message startswith "Board counted deployment" | where tostring(customDimensions.Environment) =~ "production" | extend DeploymentId = tostring(customDimensions.DeploymentId), Outcome = tostring(customDimensions.Outcome) | summarize arg_min(timestamp, Outcome) by DeploymentId | summarize Total = count(), Failed = countif(Outcome != "success"), Undone = countif(Outcome == "success" and DeploymentId in (undone)) | extend Percent = 100.0 * (Failed + Undone) / Total | where Total >= 3 and Percent > ${failureRatePercent}'
  }
  {
    name: 'ingress-5xx'
    severity: 1
    title: 'DeployFunctions: the webhook answered GitHub with 5xx'
    description: 'The webhook endpoint answered 5xx (storage unreachable, or the app failing): GitHub does not retry by itself; the sweeper asks it to redeliver. Check storage and the app\'s failures.'
    frequency: 'PT5M'
    window: 'PT15M'
    query: 'requests | where name == "GitHubWebhook" and toint(resultCode) >= 500 | summarize Answers = count()'
  }
]

resource rules 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [for alert in logAlerts: {
  name: '${namePrefix}-${alert.name}'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: alert.title
    description: '${alert.description} What to do: ${runbookUrl}'
    severity: alert.severity
    enabled: true
    scopes: [applicationInsightsId]
    evaluationFrequency: alert.frequency
    windowSize: alert.window
    criteria: {
      allOf: [
        {
          query: alert.query
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: [group.id]
    }
  }
}]

// The app's own failures: any failed function invocation (the host records each as a failed request).
resource failures 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${namePrefix}-failures'
  location: 'global'
  tags: tags
  properties: {
    description: 'Function invocations failed (an exception a handler did not turn into an answer or a retry). What to do: ${runbookUrl}'
    severity: 2
    enabled: true
    scopes: [applicationInsightsId]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'failed-requests'
          metricNamespace: 'microsoft.insights/components'
          metricName: 'requests/failed'
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Count'
        }
      ]
    }
    autoMitigate: true
    actions: [
      {
        actionGroupId: group.id
      }
    ]
  }
}

output actionGroupId string = group.id
output ruleNames array = [for (alert, i) in logAlerts: rules[i].name]
