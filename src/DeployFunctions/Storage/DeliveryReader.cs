using System.Text.Json;
using DeployFunctions.Webhooks;

namespace DeployFunctions.Storage;

/// <summary>One queued delivery with its payload resolved, wherever it travelled.</summary>
public sealed record QueuedDelivery(WebhookEnvelope Envelope, ReadOnlyMemory<byte> Payload)
{
    /// <summary>Reads as deep as the ingress accepts (<see cref="PayloadSummary.MaxDepth"/>): what was queued can be read.</summary>
    public static readonly JsonSerializerOptions SerializerOptions = new() { MaxDepth = PayloadSummary.MaxDepth };

    /// <summary>The payload as Octokit.Webhooks' typed event; a payload that is not one is unreadable, not retryable.</summary>
    public T Read<T>()
        where T : class =>
        JsonSerializer.Deserialize<T>(Payload.Span, SerializerOptions)
            ?? throw new InvalidDataException($"Delivery {Envelope.DeliveryId}: the {Envelope.Event} payload is null.");
}

/// <summary>Reads queue messages written by <see cref="DeliveryQueues"/>: inline payloads and claim-checks alike.</summary>
public sealed class DeliveryReader(PayloadBlobs payloads)
{
    /// <summary>The delivery; <see cref="PayloadMissingException"/> (with <paramref name="envelope"/> set) when its blob is gone.</summary>
    public async Task<QueuedDelivery> ReadAsync(BinaryData message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var envelope = WebhookEnvelope.Deserialize(message.ToMemory(), out var payload);
        if (envelope.PayloadBlob is { } reference)
        {
            payload = await payloads.DownloadAsync(reference, cancellationToken);
        }
        else if (payload.IsEmpty)
        {
            throw new InvalidDataException($"Delivery {envelope.DeliveryId}: the envelope carries neither a payload nor a blob.");
        }

        return new QueuedDelivery(envelope, payload);
    }

    /// <summary>The envelope alone, for a message whose payload cannot be had.</summary>
    public static WebhookEnvelope Envelope(BinaryData message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return WebhookEnvelope.Deserialize(message.ToMemory(), out _);
    }
}
