using Azure.Storage.Blobs;
using DeployFunctions.Webhooks;

namespace DeployFunctions.Storage;

/// <summary>One queued delivery with its payload resolved, wherever it travelled.</summary>
public sealed record QueuedDelivery(WebhookEnvelope Envelope, ReadOnlyMemory<byte> Payload);

/// <summary>Reads queue messages written by <see cref="DeliveryQueues"/>: inline payloads and claim-checks alike.</summary>
public sealed class DeliveryReader(BlobServiceClient blobs)
{
    public async Task<QueuedDelivery> ReadAsync(BinaryData message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var envelope = WebhookEnvelope.Deserialize(message.ToMemory(), out var payload);
        if (envelope.PayloadBlob is { } reference)
        {
            var slash = reference.IndexOf('/', StringComparison.Ordinal);
            if (slash <= 0)
            {
                throw new InvalidDataException($"Delivery {envelope.DeliveryId}: payload blob reference '{reference}' is malformed.");
            }

            var blob = blobs.GetBlobContainerClient(reference[..slash]).GetBlobClient(reference[(slash + 1)..]);
            var content = await blob.DownloadContentAsync(cancellationToken);
            payload = content.Value.Content.ToMemory();
        }
        else if (payload.IsEmpty)
        {
            throw new InvalidDataException($"Delivery {envelope.DeliveryId}: the envelope carries neither a payload nor a blob.");
        }

        return new QueuedDelivery(envelope, payload);
    }
}
