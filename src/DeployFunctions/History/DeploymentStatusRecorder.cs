using DeployFunctions.Board;
using DeployFunctions.Commands;
using DeployFunctions.Ledger;
using DeployFunctions.Queues;
using DeployFunctions.Storage;
using DeployFunctions.Webhooks;
using Microsoft.Extensions.Logging;
using Octokit.Webhooks.Events.DeploymentStatus;

namespace DeployFunctions.History;

/// <summary>
/// Every deployment status: a structured log line ("Deployment status for {id} is {state}", as the guide logs it), a
/// history row, and on a final state a notification, at least once: a repeated delivery adds no row, and notifies only if
/// the notification was not sent yet (the process may have died between the row and the notification).
/// </summary>
public sealed partial class DeploymentStatusRecorder(
    IDeploymentHistory history,
    INotifier notifier,
    ILogger<DeploymentStatusRecorder> logger,
    CommandFeedback? feedback = null,
    IDeploymentLedger? ledger = null,
    IDeployBoard? board = null,
    Previews.PreviewService? previews = null) : IDeliveryHandler
{
    private static readonly string[] NotifiedStates = ["success", "failure", "error"];

    /// <summary>It answers commands on GitHub (<see cref="CommandFeedback"/>).</summary>
    public bool CallsGitHub => feedback is not null;

    public DeliveryQueueKind Queue => DeliveryQueueKind.DeploymentStatuses;

    public async Task<HandlerOutcome> HandleAsync(QueuedDelivery delivery, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        var created = delivery.Read<DeploymentStatusCreatedEvent>();
        var status = created.DeploymentStatus ?? throw new InvalidDataException("The payload has no deployment_status.");
        var deployment = created.Deployment ?? throw new InvalidDataException("The payload has no deployment.");
        var repository = created.Repository?.FullName ?? delivery.Envelope.Repository ?? "unknown";
        var state = status.State.StringValue;
        var environment = status.Environment ?? deployment.Environment;
        var creator = status.Creator?.Login;
        var logUrl = status.LogUrl ?? status.TargetUrl;

        LogStatus(logger, deployment.Id, state, repository, environment, creator, logUrl, status.EnvironmentUrl, delivery.Envelope.DeliveryId);

        var record = new StatusRecord
        {
            Repository = repository,
            DeploymentId = deployment.Id,
            StatusId = status.Id,
            State = state,
            Environment = environment,
            Sha = deployment.Sha,
            Ref = deployment.Ref,
            Creator = creator,
            Description = status.Description,
            LogUrl = string.IsNullOrEmpty(logUrl) ? null : logUrl,
            EnvironmentUrl = string.IsNullOrEmpty(status.EnvironmentUrl) ? null : status.EnvironmentUrl,
            CreatedAt = status.CreatedAt,
            DeliveryId = delivery.Envelope.DeliveryId,
        };

        var owed = await history.AddAsync(record, cancellationToken);
        if (feedback is not null && await feedback.OnStatusAsync(delivery.Envelope,
                new ReportedStatus(repository, environment, deployment.Id, state, record.Description, record.LogUrl, record.EnvironmentUrl),
                cancellationToken) == false)
        {
            return new HandlerOutcome.RetryLater(TimeSpan.FromSeconds(1),
                $"the command behind deployment {deployment.Id} is being answered by another delivery", IsFault: false);
        }

        var notified = false;
        // A preview is deployed on every push: the channel hears of one only when it fails.
        var quiet = state == "success" && deployment.Task == Previews.PreviewService.Task;
        if (owed && NotifiedStates.Contains(state) && !quiet)
        {
            await notifier.NotifyAsync(
                $"Deployment {deployment.Id} of {repository}@{deployment.Sha[..Math.Min(7, deployment.Sha.Length)]} to {environment}: " +
                $"{state}{(record.Description is { Length: > 0 } d ? $" ({d})" : "")}" +
                $"{(record.EnvironmentUrl is { } url ? $" {url}" : "")}" +
                $" (status by @{creator ?? "unknown"})", // anyone with write access can post one: say who did
                cancellationToken);
            await history.MarkNotifiedAsync(record, cancellationToken);
            notified = true;
        }

        // Last, so that the board and a preview's comment (read models) never hold up a notification; a failure here retries
        // the delivery, which adds no row and notifies nothing again. Only the app's own deployments, as its ledger says.
        var ours = ledger is null ? null : await ledger.FindDeploymentAsync(repository, deployment.Environment, record.DeploymentId, cancellationToken);
        if (ours is { Source: LedgerSources.Preview })
        {
            // Previews are listed apart from the environments and count in none of the four keys.
            if (previews is not null && !await previews.OnResultAsync(ours, cancellationToken))
            {
                return new HandlerOutcome.RetryLater(TimeSpan.FromSeconds(1), $"the preview of deployment {deployment.Id} is being changed", IsFault: false);
            }
        }
        else if (ours is not null)
        {
            await RecordOnBoardAsync(record, ours, repository, deployment.Environment, cancellationToken);
        }

        return new HandlerOutcome.Completed(notified
            ? $"recorded status {status.Id} ({state}) of deployment {deployment.Id} and notified"
            : owed
                ? $"recorded status {status.Id} ({state}) of deployment {deployment.Id}"
                : $"status {status.Id} of deployment {deployment.Id} was recorded and notified already");
    }

    /// <summary>The board counts only the app's own deployments, as its ledger says they ended.</summary>
    private async Task RecordOnBoardAsync(StatusRecord record, LedgerEntry ours, string repository, string environment, CancellationToken cancellationToken)
    {
        if (board is null || await board.RecordAsync(record, ours, cancellationToken) is not { } counted)
        {
            return;
        }

        // One line per result for the workbook and the change-failure-rate alert (a repeat logs it again: they count by id).
        var result = counted.Result;
        LogCounted(logger, record.DeploymentId, repository, environment, result.Succeeded ? "success" : "failure", result.LeadSeconds, result.RestoreSeconds);
        foreach (var undone in counted.Undone)
        {
            LogUndone(logger, undone, repository, environment, record.DeploymentId);
        }
    }

    public Task OnGiveUpAsync(QueuedDelivery delivery, string reason, CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Board counted deployment {DeploymentId} of {Repository} to {Environment}: {Outcome}, lead time {LeadSeconds} s, time to restore {RestoreSeconds} s")]
    private static partial void LogCounted(ILogger logger, long deploymentId, string repository, string environment, string outcome,
        long? leadSeconds, long? restoreSeconds);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Board undid deployment {DeploymentId} of {Repository} to {Environment}: a failed change, rolled back or reverted by deployment {UndoneBy}")]
    private static partial void LogUndone(ILogger logger, long deploymentId, string repository, string environment, long undoneBy);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Deployment status for {DeploymentId} is {State} ({Repository}, {Environment}, by {Creator}, log {LogUrl}, environment {EnvironmentUrl}, delivery {DeliveryId})")]
    private static partial void LogStatus(ILogger logger, long deploymentId, string state, string repository, string environment,
        string? creator, string? logUrl, string? environmentUrl, string deliveryId);
}
