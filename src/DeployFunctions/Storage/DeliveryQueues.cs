using Azure;
using Azure.Storage.Blobs;
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
/// Azure Storage queues, with payloads too large for a message stored first as a blob (claim-check). Blob first,
/// message second: a failure leaves at worst an unreferenced blob (removed by the container's lifecycle rule),
/// never a message whose payload is missing.
/// </summary>
public sealed partial class DeliveryQueues(
    QueueServiceClient queues,
    BlobServiceClient blobs,
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
            var blobName = $"{envelope.DeliveryId}.json";
            await UploadAsync(blobName, payload, cancellationToken);
            envelope = envelope with { PayloadBlob = $"{names.PayloadContainer}/{blobName}" };
            LogClaimCheck(logger, envelope.DeliveryId, payload.Length, envelope.PayloadBlob);
        }

        var message = BinaryData.FromBytes(envelope.Serialize(payload.Span));
        await queues.GetQueueClient(queueName).SendCreatingQueueAsync(message, visibilityTimeout: null, cancellationToken);
        return queueName;
    }

    private async Task UploadAsync(string blobName, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var container = blobs.GetBlobContainerClient(names.PayloadContainer);
        var blob = container.GetBlobClient(blobName);
        try
        {
            await blob.UploadAsync(BinaryData.FromBytes(payload), overwrite: true, cancellationToken);
        }
        catch (RequestFailedException exception) when (exception.ErrorCode == "ContainerNotFound")
        {
            await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
            await blob.UploadAsync(BinaryData.FromBytes(payload), overwrite: true, cancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Delivery {DeliveryId}: payload of {PayloadBytes} bytes stored as {PayloadBlob} (claim-check)")]
    private static partial void LogClaimCheck(ILogger logger, string deliveryId, int payloadBytes, string payloadBlob);
}
