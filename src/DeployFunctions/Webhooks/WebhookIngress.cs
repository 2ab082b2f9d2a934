using Azure;
using DeployFunctions.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DeployFunctions.Webhooks;

/// <summary>
/// Receives one GitHub delivery: bounds and reads the body, runs <see cref="DeliveryIntake"/>, and puts accepted
/// deliveries on their queue. Every answer says why; storage trouble is a 503 so GitHub marks the delivery failed
/// and it can be redelivered.
/// </summary>
public sealed partial class WebhookIngress(
    DeliveryIntake intake,
    IDeliveryQueues queue,
    IOptions<WebhookOptions> options,
    ILogger<WebhookIngress> logger)
{
    private readonly WebhookOptions options = options.Value;

    public async Task<IngressAnswer> HandleAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var headers = new DeliveryHeaders
        {
            Event = request.Headers["X-GitHub-Event"],
            DeliveryId = request.Headers["X-GitHub-Delivery"],
            Signature256 = request.Headers["X-Hub-Signature-256"],
            HookId = request.Headers["X-GitHub-Hook-ID"],
            ContentType = request.ContentType,
        };

        if (request.ContentLength > options.MaxBodyBytes)
        {
            return Reject(headers, 413, $"the body is {request.ContentLength} bytes; the limit is {options.MaxBodyBytes}");
        }

        if (DeliveryIntake.CheckHeaders(headers) is { } early)
        {
            return Reject(headers, early.StatusCode, early.Reason);
        }

        var body = await ReadBodyAsync(request, cancellationToken);
        if (body is null)
        {
            return Reject(headers, 413, $"the body is larger than the limit of {options.MaxBodyBytes} bytes");
        }

        switch (intake.Evaluate(headers, body))
        {
            case IntakeResult.Rejected rejected:
                return Reject(headers, rejected.StatusCode, rejected.Reason);

            case IntakeResult.Accepted { Route: DeliveryRoute.Pong pong, Envelope: var envelope }:
                LogPong(logger, envelope.DeliveryId, pong.HookId);
                return IngressAnswer.Pong(pong.HookId, envelope.DeliveryId);

            case IntakeResult.Accepted { Route: DeliveryRoute.Ignored ignored, Envelope: var envelope }:
                LogIgnored(logger, envelope.DeliveryId, envelope.Event, envelope.Repository, ignored.Reason);
                return IngressAnswer.Ignored(ignored.Reason, envelope.DeliveryId);

            case IntakeResult.Accepted { Route: DeliveryRoute.Queued queued } accepted:
                return await EnqueueAsync(queued, accepted, cancellationToken);

            default:
                throw new InvalidOperationException("Unknown intake result.");
        }
    }

    /// <summary>
    /// Onto its queue, and its second one if it has one: both or the answer is 503 (a redelivery queues both again; each
    /// handler takes a repeat as done).
    /// </summary>
    private async Task<IngressAnswer> EnqueueAsync(
        DeliveryRoute.Queued route, IntakeResult.Accepted accepted, CancellationToken cancellationToken)
    {
        var envelope = accepted.Envelope;
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(TimeSpan.FromSeconds(options.StorageTimeoutSeconds));
        try
        {
            var queueName = await queue.EnqueueAsync(route.Queue, envelope, accepted.Payload, budget.Token);
            if (route.Also is { } also)
            {
                queueName += ", " + await queue.EnqueueAsync(also, envelope, accepted.Payload, budget.Token);
            }

            LogQueued(logger, envelope.DeliveryId, envelope.Event, envelope.Action, envelope.Repository, queueName);
            return IngressAnswer.Queued(queueName, envelope.DeliveryId);
        }
        catch (Exception exception) when (exception is RequestFailedException or OperationCanceledException
                                              or HttpRequestException or IOException or AggregateException)
        {
            LogStorageFailed(logger, exception, envelope.DeliveryId, envelope.Event);
            return IngressAnswer.Unavailable(
                "storage did not accept the delivery; nothing was queued. Redeliver it from the webhook's Recent Deliveries");
        }
    }

    /// <summary>What is allocated before any byte arrives; larger bodies grow as their bytes do.</summary>
    private const int InitialBodyBuffer = 64 * 1024;

    /// <summary>Once this much has really arrived, <c>Content-Length</c> is believed and the rest is read in place.</summary>
    private const int TrustDeclaredLengthAfter = 1024 * 1024;

    /// <summary>
    /// The whole body, or null when it passes the size limit. <c>Content-Length</c> is only a claim (nothing is verified
    /// before the body is read): memory grows with the bytes that actually arrive, doubling, until 1 MiB has arrived;
    /// then the declared length is allocated at once (one copy fewer for a real large delivery). A request that
    /// announces 25 MB and sends nothing costs 64 KiB, not 25 MB; one that must send 1 MiB to get 25 MB allocated.
    /// </summary>
    private async Task<byte[]?> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var declared = request.ContentLength;
        var limit = declared ?? options.MaxBodyBytes + 1;
        var buffer = new byte[(int)Math.Min(limit, InitialBodyBuffer)];
        var filled = 0;
        while (true)
        {
            if (filled == buffer.Length)
            {
                if (filled >= limit)
                {
                    break;
                }

                var grown = filled >= TrustDeclaredLengthAfter && declared is not null ? limit : Math.Min(limit, (long)buffer.Length * 2);
                Array.Resize(ref buffer, (int)grown);
            }

            var count = await request.Body.ReadAsync(buffer.AsMemory(filled), cancellationToken);
            if (count == 0)
            {
                break;
            }

            filled += count;
        }

        if (filled > options.MaxBodyBytes)
        {
            return null;
        }

        return filled == buffer.Length ? buffer : buffer[..filled];
    }

    private IngressAnswer Reject(DeliveryHeaders headers, int statusCode, string reason)
    {
        LogRejected(logger, headers.DeliveryId, headers.Event, statusCode, reason);
        return IngressAnswer.Rejected(statusCode, reason);
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Delivery {DeliveryId} ({Event} {Action}, {Repository}) queued on {Queue}")]
    private static partial void LogQueued(
        ILogger logger, string deliveryId, string @event, string? action, string? repository, string queue);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Delivery {DeliveryId} ({Event}, {Repository}) ignored: {Reason}")]
    private static partial void LogIgnored(ILogger logger, string deliveryId, string @event, string? repository, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Delivery {DeliveryId}: ping from hook {HookId}")]
    private static partial void LogPong(ILogger logger, string deliveryId, long? hookId);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Delivery {DeliveryId} ({Event}) rejected with {StatusCode}: {Reason}")]
    private static partial void LogRejected(ILogger logger, string? deliveryId, string? @event, int statusCode, string reason);

    [LoggerMessage(Level = LogLevel.Error,
        Message = "Delivery {DeliveryId} ({Event}) not queued: storage failed; answered 503 so it can be redelivered")]
    private static partial void LogStorageFailed(ILogger logger, Exception exception, string deliveryId, string @event);
}
