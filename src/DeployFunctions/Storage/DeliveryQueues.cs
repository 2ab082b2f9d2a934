using Azure;
using Azure.Storage.Queues;
using DeployFunctions.Webhooks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DeployFunctions.Storage;

/// <summary>Puts accepted deliveries on their queue; the ingress's only I/O.</summary>
public interface IDeliveryQueues
{
    /// <summary>Enqueues the delivery and returns the queue name. Throws when storage did not take it.</summary>
    Task<string> EnqueueAsync(
        DeliveryQueueKind queue, WebhookEnvelope envelope, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken);
}

/// <summary>
/// Azure Storage queues, with payloads too large for a message stored first as a blob of their own (claim-check, see
/// <see cref="PayloadBlobs"/>). Blob first, message second: a message never references a payload that was not stored,
/// and a blob whose message could not be sent is deleted again.
/// </summary>
public sealed partial class DeliveryQueues(
    QueueServiceClient queues,
    PayloadBlobs payloads,
    IOptions<StorageNamesOptions> names,
    ILogger<DeliveryQueues> logger) : IDeliveryQueues
{
    private readonly StorageNamesOptions names = names.Value;

    public async Task<string> EnqueueAsync(
        DeliveryQueueKind queue, WebhookEnvelope envelope, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var queueName = names.QueueFor(queue);

        if (!WebhookEnvelope.FitsInline(payload.Length))
        {
            envelope = envelope with { PayloadBlob = await payloads.UploadAsync(payload, cancellationToken) };
            LogClaimCheck(logger, envelope.DeliveryId, payload.Length, envelope.PayloadBlob);
        }

        using var written = envelope.SerializePooled(payload.Span);
        var message = BinaryData.FromBytes(written.WrittenMemory);
        try
        {
            await queues.GetQueueClient(queueName).SendCreatingQueueAsync(message, visibilityTimeout: null, cancellationToken);
        }
        catch (Exception) when (envelope.PayloadBlob is { } orphan)
        {
            await DeleteOrphanAsync(orphan);
            throw;
        }

        return queueName;
    }

    private async Task DeleteOrphanAsync(string reference)
    {
        try
        {
            using var budget = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await payloads.DeleteAsync(reference, budget.Token);
        }
        catch (Exception exception) when (exception is RequestFailedException or OperationCanceledException or AggregateException)
        {
            LogOrphan(logger, reference);
        }
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Delivery {DeliveryId}: payload of {PayloadBytes} bytes stored as {PayloadBlob} (claim-check)")]
    private static partial void LogClaimCheck(ILogger logger, string deliveryId, int payloadBytes, string payloadBlob);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Payload blob {PayloadBlob} is referenced by no message (its message was not sent) and could not be deleted")]
    private static partial void LogOrphan(ILogger logger, string payloadBlob);
}
