using System.Text.Json;
using Azure.Storage.Blobs;
using DeployFunctions.Webhooks;

namespace DeployFunctions.Storage;

/// <summary>One queued delivery with its payload resolved, wherever it travelled.</summary>
public sealed record QueuedDelivery(WebhookEnvelope Envelope, ReadOnlyMemory<byte> Payload)
{
    /// <summary>The payload as Octokit.Webhooks' typed event; a payload that is not one is unreadable, not retryable.</summary>
    public T Read<T>()
        where T : class =>
        JsonSerializer.Deserialize<T>(Payload.Span)
            ?? throw new InvalidDataException($"Delivery {Envelope.DeliveryId}: the {Envelope.Event} payload is null.");
}

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
