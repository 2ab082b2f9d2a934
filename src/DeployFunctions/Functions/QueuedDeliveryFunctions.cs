using Azure.Storage.Queues.Models;
using DeployFunctions.Commands;
using DeployFunctions.Deployments;
using DeployFunctions.History;
using DeployFunctions.Previews;
using DeployFunctions.Protection;
using DeployFunctions.Queues;
using Microsoft.Azure.Functions.Worker;

namespace DeployFunctions.Functions;

/// <summary>
/// The six queue-triggered functions, one per queue; queue names come from app settings, as the host requires
/// for binding expressions. Each hands its message to <see cref="DeliveryWorker"/> with the queue's handler.
/// </summary>
public sealed class QueuedDeliveryFunctions(
    DeliveryWorker worker,
    MergedPullRequestHandler mergedPullRequests,
    DeploymentRunner deployments,
    DeploymentStatusRecorder statuses,
    CommandHandler commands,
    ProtectionRuleHandler protectionRules,
    PreviewHandler previews)
{
    public const string MergedPullRequest = "MergedPullRequest";
    public const string DeploymentProcessing = "DeploymentProcessing";
    public const string DeploymentStatusLog = "DeploymentStatusLog";
    public const string PullRequestCommand = "PullRequestCommand";
    public const string ProtectionRule = "ProtectionRule";
    public const string PullRequestPreview = "PullRequestPreview";

    [Function(MergedPullRequest)]
    public Task OnMergedPullRequest(
        [QueueTrigger("%PullRequestsQueue%", Connection = "AzureWebJobsStorage")] QueueMessage message,
        CancellationToken cancellationToken) =>
        ProcessAsync(mergedPullRequests, message, cancellationToken);

    [Function(DeploymentProcessing)]
    public Task OnDeployment(
        [QueueTrigger("%DeploymentsQueue%", Connection = "AzureWebJobsStorage")] QueueMessage message,
        CancellationToken cancellationToken) =>
        ProcessAsync(deployments, message, cancellationToken);

    [Function(DeploymentStatusLog)]
    public Task OnDeploymentStatus(
        [QueueTrigger("%DeploymentStatusesQueue%", Connection = "AzureWebJobsStorage")] QueueMessage message,
        CancellationToken cancellationToken) =>
        ProcessAsync(statuses, message, cancellationToken);

    [Function(PullRequestCommand)]
    public Task OnCommand(
        [QueueTrigger("%CommandsQueue%", Connection = "AzureWebJobsStorage")] QueueMessage message,
        CancellationToken cancellationToken) =>
        ProcessAsync(commands, message, cancellationToken);

    [Function(ProtectionRule)]
    public Task OnProtectionRule(
        [QueueTrigger("%ProtectionRulesQueue%", Connection = "AzureWebJobsStorage")] QueueMessage message,
        CancellationToken cancellationToken) =>
        ProcessAsync(protectionRules, message, cancellationToken);

    [Function(PullRequestPreview)]
    public Task OnPreview(
        [QueueTrigger("%PreviewsQueue%", Connection = "AzureWebJobsStorage")] QueueMessage message,
        CancellationToken cancellationToken) =>
        ProcessAsync(previews, message, cancellationToken);

    private async Task ProcessAsync(IDeliveryHandler handler, QueueMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        await worker.ProcessAsync(handler, message.Body, message.DequeueCount, cancellationToken);
    }
}
