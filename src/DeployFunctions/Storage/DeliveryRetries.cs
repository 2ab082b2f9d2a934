using Azure.Storage.Queues;
using DeployFunctions.Webhooks;
using Microsoft.Extensions.Options;

namespace DeployFunctions.Storage;

/// <summary>Puts a delivery back on its queue for later, or on its poison queue for good.</summary>
public interface IDeliveryRetries
{
    /// <summary>Enqueues the delivery again, invisible for <paramref name="delay"/>, with <paramref name="attempt"/> recorded.</summary>
    Task RescheduleAsync(DeliveryQueueKind queue, QueuedDelivery delivery, TimeSpan delay, int attempt, CancellationToken cancellationToken);

    /// <summary>Moves the delivery to <c>&lt;queue&gt;-poison</c>, where it stays visible and can be replayed; the reason goes with it.</summary>
    Task PoisonAsync(DeliveryQueueKind queue, QueuedDelivery delivery, CancellationToken cancellationToken, string? reason = null);
}

public sealed class DeliveryRetries(QueueServiceClient queues, PayloadBlobs payloads, IOptions<StorageNamesOptions> names) : IDeliveryRetries
{
    /// <summary>Azure Storage's longest visibility timeout.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1);

    public Task RescheduleAsync(
        DeliveryQueueKind queue, QueuedDelivery delivery, TimeSpan delay, int attempt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        var envelope = delivery.Envelope with { Attempt = attempt };
        var visibility = delay < TimeSpan.Zero ? TimeSpan.Zero : delay > MaxDelay ? MaxDelay : delay;
        return SendAsync(names.Value.QueueFor(queue), envelope, delivery.Payload, visibility, cancellationToken);
    }

    public Task PoisonAsync(DeliveryQueueKind queue, QueuedDelivery delivery, CancellationToken cancellationToken, string? reason = null)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        var envelope = reason is null ? delivery.Envelope : delivery.Envelope with { PoisonReason = reason.Length <= 1000 ? reason : reason[..1000] };
        return SendAsync(PoisonQueue(names.Value.QueueFor(queue)), envelope, delivery.Payload, null, cancellationToken);
    }

    /// <summary>The host's own naming for a queue's poison queue.</summary>
    public static string PoisonQueue(string queue) => queue + "-poison";

    private async Task SendAsync(
        string queueName, WebhookEnvelope envelope, ReadOnlyMemory<byte> payload, TimeSpan? visibility,
        CancellationToken cancellationToken)
    {
        // A claim-checked payload gets a blob of its own for the new message: the old message's blob is deleted when the
        // old message completes, and a blob must never be shared by two messages. (A payload already missing keeps its
        // reference, so the poison message still says which blob it was.)
        if (envelope.PayloadBlob is not null && !payload.IsEmpty)
        {
            envelope = envelope with { PayloadBlob = await payloads.UploadAsync(payload, cancellationToken) };
        }

        using var written = envelope.SerializePooled(envelope.PayloadBlob is null ? payload.Span : []);
        var message = BinaryData.FromBytes(written.WrittenMemory);
        await queues.GetQueueClient(queueName).SendCreatingQueueAsync(message, visibility, cancellationToken);
    }
}
