using System.Text.Json;
using DeployFunctions.GitHub;
using DeployFunctions.Storage;
using DeployFunctions.Webhooks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DeployFunctions.Queues;

/// <summary>A queue's business logic: one delivery in, one outcome out.</summary>
public interface IDeliveryHandler
{
    DeliveryQueueKind Queue { get; }

    /// <summary>True when the handler calls GitHub, and so must respect a rate limit GitHub announced.</summary>
    bool CallsGitHub { get; }

    Task<HandlerOutcome> HandleAsync(QueuedDelivery delivery, CancellationToken cancellationToken);

    /// <summary>Called once when the delivery is given up on (poison), e.g. to leave a deployment <c>error</c>.</summary>
    Task OnGiveUpAsync(QueuedDelivery delivery, string reason, CancellationToken cancellationToken);
}

/// <summary>Retry policy for transient faults. Section <c>Retry</c>.</summary>
public sealed class DeliveryRetryOptions
{
    public const string SectionName = "Retry";

    /// <summary>Transient faults tolerated per delivery before it goes to poison. App setting <c>Retry__MaxAttempts</c>.</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>First back-off when GitHub gave no wait of its own. App setting <c>Retry__BaseDelaySeconds</c>.</summary>
    public double BaseDelaySeconds { get; set; } = 15;

    /// <summary>Longest back-off. App setting <c>Retry__MaxDelaySeconds</c>.</summary>
    public double MaxDelaySeconds { get; set; } = 600;

    /// <summary>Exponential back-off for the <paramref name="attempt"/>-th retry (1-based).</summary>
    public TimeSpan Backoff(int attempt) =>
        TimeSpan.FromSeconds(Math.Min(MaxDelaySeconds, BaseDelaySeconds * Math.Pow(2, Math.Max(0, attempt - 1))));
}

/// <summary>
/// Runs a handler on one queue message and applies its outcome: GitHub failures are classified in one place
/// (<see cref="GitHubFailure"/>); transient ones are retried by re-enqueueing the delivery with the delay GitHub asked
/// for; permanent ones, and deliveries out of attempts, go to <c>&lt;queue&gt;-poison</c> with the reason logged.
/// Anything else (a bug, a storage outage) propagates, so the host retries it and finally poisons it.
/// </summary>
public sealed partial class DeliveryWorker(
    DeliveryReader reader,
    IDeliveryRetries retries,
    PayloadBlobs payloads,
    GitHubRateGate rateGate,
    IOptions<DeliveryRetryOptions> options,
    TimeProvider clock,
    ILogger<DeliveryWorker> logger,
    IGitHubClientFactory? clients = null)
{
    /// <summary>host.json <c>extensions.queues.maxDequeueCount</c>; a test keeps the two equal.</summary>
    public const int HostMaxDequeueCount = 5;

    private readonly DeliveryRetryOptions options = options.Value;

    public async Task<HandlerOutcome> ProcessAsync(
        IDeliveryHandler handler, BinaryData message, long dequeueCount, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handler);
        QueuedDelivery delivery;
        try
        {
            delivery = await reader.ReadAsync(message, cancellationToken);
        }
        catch (PayloadMissingException missing)
        {
            // Handled here, not by the host's retries: retrying cannot bring a payload back.
            delivery = new QueuedDelivery(DeliveryReader.Envelope(message), ReadOnlyMemory<byte>.Empty);
            var lost = new HandlerOutcome.Failed($"the delivery cannot be handled: {missing.Message}");
            await ApplyAsync(handler, delivery, lost, cancellationToken);
            return lost;
        }

        var envelope = delivery.Envelope;
        HandlerOutcome outcome;
        try
        {
            outcome = handler.CallsGitHub && rateGate.Wait(envelope.InstallationId, clock.GetUtcNow()) is { } wait
                ? new HandlerOutcome.RetryLater(wait, "GitHub's rate limit is still in effect for these credentials", IsFault: false)
                : await handler.HandleAsync(delivery, cancellationToken);
        }
        catch (Exception exception) when (GitHubFailure.Classify(exception, clock.GetUtcNow()) is { } failure)
        {
            if (failure is { RateLimited: true, RetryAfter: { } limitedFor })
            {
                rateGate.Block(envelope.InstallationId, clock.GetUtcNow() + limitedFor);
            }

            // A rate limit is a wait, not a fault: it never uses up a delivery's attempts (the gate holds calls back until the
            // reset GitHub gave, so waiting ends).
            outcome = failure.Transient
                ? new HandlerOutcome.RetryLater(failure.RetryAfter ?? options.Backoff(envelope.Attempt + 1), failure.Reason, IsFault: !failure.RateLimited)
                : new HandlerOutcome.Failed(failure.Reason);
            if (exception is Octokit.AuthorizationException && envelope.Attempt == 0 && clients is not null)
            {
                // A cached installation token (or a repository's installation) can outlive the installation: after an
                // uninstall and reinstall GitHub answers 401. Drop what is cached and try once more with fresh credentials.
                clients.Forget(envelope.InstallationId, envelope.Repository);
                outcome = new HandlerOutcome.RetryLater(options.Backoff(1),
                    $"{failure.Reason}; the cached credentials were dropped and are looked up again", IsFault: true);
            }
        }
        catch (Exception exception) when (exception is JsonException or InvalidDataException)
        {
            outcome = new HandlerOutcome.Failed($"the payload cannot be read: {exception.Message}");
        }
        catch (Exception exception) when (dequeueCount >= HostMaxDequeueCount && exception is not OperationCanceledException)
        {
            LogHostGivesUp(logger, exception, handler.Queue, envelope.DeliveryId, dequeueCount);
            await handler.OnGiveUpAsync(delivery, $"gave up after {dequeueCount} attempts: {exception.GetType().Name}", cancellationToken);
            throw;
        }

        await ApplyAsync(handler, delivery, outcome, cancellationToken);
        return outcome;
    }

    private async Task ApplyAsync(IDeliveryHandler handler, QueuedDelivery delivery, HandlerOutcome outcome, CancellationToken cancellationToken)
    {
        var envelope = delivery.Envelope;
        var queue = handler.Queue;
        switch (outcome)
        {
            case HandlerOutcome.Completed:
                LogCompleted(logger, queue, envelope.DeliveryId, envelope.Repository, outcome.Reason);
                break;

            case HandlerOutcome.Skipped:
                LogSkipped(logger, queue, envelope.DeliveryId, envelope.Repository, outcome.Reason);
                break;

            case HandlerOutcome.RetryLater { IsFault: false } wait:
                LogWaiting(logger, queue, envelope.DeliveryId, envelope.Repository, wait.Reason, wait.Delay);
                await retries.RescheduleAsync(queue, delivery, wait.Delay, envelope.Attempt, cancellationToken);
                break;

            case HandlerOutcome.RetryLater fault when envelope.Attempt + 1 <= options.MaxAttempts:
                LogRetrying(logger, queue, envelope.DeliveryId, envelope.Repository, fault.Reason, fault.Delay,
                    envelope.Attempt + 1, options.MaxAttempts);
                await retries.RescheduleAsync(queue, delivery, fault.Delay, envelope.Attempt + 1, cancellationToken);
                break;

            default:
                var reason = outcome is HandlerOutcome.RetryLater
                    ? $"still failing after {options.MaxAttempts} retries: {outcome.Reason}"
                    : outcome.Reason;
                LogGivenUp(logger, queue, envelope.DeliveryId, envelope.Repository, reason);
                await handler.OnGiveUpAsync(delivery, reason, cancellationToken);
                await retries.PoisonAsync(queue, delivery, cancellationToken, reason);
                break;
        }

        // This message is done: the host deletes it when the function returns. A copy sent above has a blob of its own.
        await ReleasePayloadAsync(envelope, cancellationToken);
    }

    /// <summary>The message is done with its claim-check blob (a re-enqueued or poisoned copy has a blob of its own).</summary>
    private async Task ReleasePayloadAsync(WebhookEnvelope envelope, CancellationToken cancellationToken)
    {
        if (envelope.PayloadBlob is not { } reference)
        {
            return;
        }

        try
        {
            await payloads.DeleteAsync(reference, cancellationToken);
        }
        catch (Exception exception) when (exception is Azure.RequestFailedException or AggregateException)
        {
            LogPayloadKept(logger, envelope.DeliveryId, reference, exception.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Delivery {DeliveryId} is done but its payload blob {PayloadBlob} could not be deleted: {Error}")]
    private static partial void LogPayloadKept(ILogger logger, string deliveryId, string payloadBlob, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Queue}: delivery {DeliveryId} ({Repository}) done: {Reason}")]
    private static partial void LogCompleted(ILogger logger, DeliveryQueueKind queue, string deliveryId, string? repository, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Queue}: delivery {DeliveryId} ({Repository}) not deployed: {Reason}")]
    private static partial void LogSkipped(ILogger logger, DeliveryQueueKind queue, string deliveryId, string? repository, string reason);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "{Queue}: delivery {DeliveryId} ({Repository}) waits {Delay}: {Reason}")]
    private static partial void LogWaiting(
        ILogger logger, DeliveryQueueKind queue, string deliveryId, string? repository, string reason, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "{Queue}: delivery {DeliveryId} ({Repository}) retries in {Delay} (attempt {Attempt} of {MaxAttempts}): {Reason}")]
    private static partial void LogRetrying(ILogger logger, DeliveryQueueKind queue, string deliveryId, string? repository,
        string reason, TimeSpan delay, int attempt, int maxAttempts);

    [LoggerMessage(Level = LogLevel.Error,
        Message = "{Queue}: delivery {DeliveryId} ({Repository}) moved to the poison queue: {Reason}")]
    private static partial void LogGivenUp(ILogger logger, DeliveryQueueKind queue, string deliveryId, string? repository, string reason);

    [LoggerMessage(Level = LogLevel.Error,
        Message = "{Queue}: delivery {DeliveryId} failed on its last attempt ({DequeueCount}); the host moves it to the poison queue")]
    private static partial void LogHostGivesUp(ILogger logger, Exception exception, DeliveryQueueKind queue, string deliveryId, long dequeueCount);
}
