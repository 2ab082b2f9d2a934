// An Azure Monitor workbook with DORA's four keys, for people who live in the Azure portal: computed from the lines the
// app logs as the board counts each result ("Board counted deployment ...", "Board undid deployment ..."), over the
// portal's time range, for one environment (production by default).
param name string
param location string
param tags object

@description('The Application Insights component the app logs to.')
param applicationInsightsId string

var counted = 'traces | where message startswith "Board counted deployment" | extend Repository = tostring(customDimensions.Repository), Environment = tostring(customDimensions.Environment), DeploymentId = tostring(customDimensions.DeploymentId), Outcome = tostring(customDimensions.Outcome), Lead = todouble(customDimensions.LeadSeconds), Restore = todouble(customDimensions.RestoreSeconds) | where Environment =~ "{Environment}" | summarize arg_min(timestamp, *) by DeploymentId'
var undone = 'traces | where message startswith "Board undid deployment" | where tostring(customDimensions.Environment) =~ "{Environment}" | distinct DeploymentId = tostring(customDimensions.DeploymentId)'

var content = {
  version: 'Notebook/1.0'
  items: [
    {
      type: 1
      name: 'intro'
      content: {
        json: '## DeployFunctions: DORA\'s four keys\nFrom DeployFunctions\' own deployments as its ledger recorded them (the deploy board counts the same; see docs/board.md). Lead time is merge to success, for merges; a change failed when its deployment failed or errored, or was rolled back or reverted within 24 hours.'
      }
    }
    {
      type: 9
      name: 'parameters'
      content: {
        version: 'KqlParameterItem/1.0'
        parameters: [
          {
            id: 'time'
            version: 'KqlParameterItem/1.0'
            name: 'TimeRange'
            type: 4
            isRequired: true
            value: { durationMs: 2592000000 }
            typeSettings: { allowCustom: true }
          }
          {
            id: 'environment'
            version: 'KqlParameterItem/1.0'
            name: 'Environment'
            type: 1
            isRequired: true
            value: 'production'
          }
        ]
      }
    }
    {
      type: 3
      name: 'four-keys'
      content: {
        version: 'KqlItem/1.0'
        title: 'The four keys'
        query: 'let undone = ${undone}; let days = max_of(1.0, ({TimeRange:end} - {TimeRange:start}) / 1d); ${counted} | summarize Succeeded = countif(Outcome == "success"), Failed = countif(Outcome != "success"), Undone = countif(Outcome == "success" and DeploymentId in (undone)), LeadMedianHours = round(percentile(Lead, 50) / 3600, 2), LeadP90Hours = round(percentile(Lead, 90) / 3600, 2), RestoreMedianHours = round(percentile(Restore, 50) / 3600, 2) | extend DeploymentsPerDay = round(Succeeded / days, 2), ChangeFailureRate = round(todouble(Failed + Undone) / (Succeeded + Failed), 3)'
        queryType: 0
        resourceType: 'microsoft.insights/components'
        crossComponentResources: [applicationInsightsId]
        timeContextFromParameter: 'TimeRange'
        visualization: 'table'
      }
    }
    {
      type: 3
      name: 'frequency'
      content: {
        version: 'KqlItem/1.0'
        title: 'Deployments per day'
        query: '${counted} | summarize Succeeded = countif(Outcome == "success"), Failed = countif(Outcome != "success") by bin(timestamp, 1d)'
        queryType: 0
        resourceType: 'microsoft.insights/components'
        crossComponentResources: [applicationInsightsId]
        timeContextFromParameter: 'TimeRange'
        visualization: 'barchart'
      }
    }
    {
      type: 3
      name: 'by-repository'
      content: {
        version: 'KqlItem/1.0'
        title: 'By repository'
        query: 'let undone = ${undone}; ${counted} | summarize Succeeded = countif(Outcome == "success"), Failed = countif(Outcome != "success"), Undone = countif(Outcome == "success" and DeploymentId in (undone)), LeadMedianHours = round(percentile(Lead, 50) / 3600, 2) by Repository | extend ChangeFailureRate = round(todouble(Failed + Undone) / (Succeeded + Failed), 3) | order by Succeeded desc'
        queryType: 0
        resourceType: 'microsoft.insights/components'
        crossComponentResources: [applicationInsightsId]
        timeContextFromParameter: 'TimeRange'
        visualization: 'table'
      }
    }
  ]
}

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(resourceGroup().id, name)
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'DeployFunctions: DORA four keys'
    category: 'workbook'
    sourceId: applicationInsightsId
    serializedData: string(content)
  }
}

output id string = workbook.id
