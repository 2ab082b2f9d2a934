using Azure.Storage.Queues.Models;
using DeployFunctions.Storage;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace DeployFunctions.Functions;

/// <summary>
/// The three queue-triggered functions, one per queue. Each reads its envelope (inline or claim-check) and hands it
/// on; queue names come from app settings, as the host requires for binding expressions.
/// </summary>
public sealed partial class QueuedDeliveryFunctions(DeliveryReader reader, ILogger<QueuedDeliveryFunctions> logger)
{
    public const string MergedPullRequest = "MergedPullRequest";
    public const string DeploymentProcessing = "DeploymentProcessing";
    public const string DeploymentStatusLog = "DeploymentStatusLog";

    [Function(MergedPullRequest)]
    public Task OnMergedPullRequest(
        [QueueTrigger("%PullRequestsQueue%", Connection = "AzureWebJobsStorage")] QueueMessage message,
        CancellationToken cancellationToken) =>
        ReadAsync(MergedPullRequest, message, cancellationToken);

    [Function(DeploymentProcessing)]
    public Task OnDeployment(
        [QueueTrigger("%DeploymentsQueue%", Connection = "AzureWebJobsStorage")] QueueMessage message,
        CancellationToken cancellationToken) =>
        ReadAsync(DeploymentProcessing, message, cancellationToken);

    [Function(DeploymentStatusLog)]
    public Task OnDeploymentStatus(
        [QueueTrigger("%DeploymentStatusesQueue%", Connection = "AzureWebJobsStorage")] QueueMessage message,
        CancellationToken cancellationToken) =>
        ReadAsync(DeploymentStatusLog, message, cancellationToken);

    private async Task ReadAsync(string function, QueueMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var delivery = await reader.ReadAsync(message.Body, cancellationToken);
        var envelope = delivery.Envelope;
        LogReceived(logger, function, envelope.DeliveryId, envelope.Event, envelope.Action, envelope.Repository,
            delivery.Payload.Length, message.DequeueCount);
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "{Function}: delivery {DeliveryId} ({Event} {Action}, {Repository}), {PayloadBytes} bytes, attempt {DequeueCount}")]
    private static partial void LogReceived(ILogger logger, string function, string deliveryId, string @event,
        string? action, string? repository, int payloadBytes, long dequeueCount);
}
