using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using DeployFunctions.Storage;
using DeployFunctions.Webhooks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DeployFunctions.Maintenance;

/// <summary>One message waiting in a <c>&lt;queue&gt;-poison</c>, as an operator looks at it before a replay.</summary>
public sealed record PoisonedMessage(
    string Queue, string MessageId, string? DeliveryId, string? Event, string? Action, string? Repository, string Reason,
    DateTimeOffset? InsertedAt, long DequeueCount);

/// <summary>What a replay did: the messages moved back to their queue, and how many it left where they were.</summary>
public sealed record ReplayReport(string Queue, IReadOnlyList<PoisonedMessage> Replayed, int Left);

/// <summary>
/// Every message of the poison queues, not only the 32 that Azure Storage lets anyone peek at: messages are received in
/// batches and hidden for <see cref="Visibility"/> while the pass goes on (so the next batch holds new ones), then shown
/// again at once. A replay moves a message back to its queue as it was first queued (no poison reason, attempts from
/// 0), and deletes the poison copy only after the new message is on the queue: a failure between the two leaves a
/// duplicate, which the handlers make harmless, never a loss. A claim-checked payload's blob goes with the message.
/// </summary>
public sealed partial class PoisonQueues(QueueServiceClient queues, IOptions<StorageNamesOptions> names, ILogger<PoisonQueues> logger)
{
    /// <summary>How long a message read by a pass stays hidden at most (it is shown again when the pass ends).</summary>
    public static readonly TimeSpan Visibility = TimeSpan.FromMinutes(2);

    /// <summary>The most messages one pass reads per queue; the rest wait for the next pass.</summary>
    public const int MaxPerPass = 5000;

    private const int Batch = 32;

    /// <summary>The app's queues whose poison queues these are, by name.</summary>
    public IReadOnlyList<string> QueueNames { get; } = [.. Enum.GetValues<DeliveryQueueKind>().Select(kind => names.Value.QueueFor(kind))];

    /// <summary>Every poisoned message of every queue, oldest first per queue.</summary>
    public async Task<IReadOnlyList<PoisonedMessage>> ListAsync(CancellationToken cancellationToken)
    {
        var all = new List<PoisonedMessage>();
        foreach (var queue in QueueNames)
        {
            await VisitAsync(queue, message =>
            {
                all.Add(message.Poisoned);
                return Task.FromResult(false);
            }, cancellationToken);
        }

        return all;
    }

    /// <summary>
    /// Calls <paramref name="visit"/> once for each message of <paramref name="queue"/>'s poison queue (at most
    /// <see cref="MaxPerPass"/>); a visit returns true when it deleted the message.
    /// </summary>
    public async Task VisitAsync(string queue, Func<PoisonVisit, Task<bool>> visit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(visit);
        var poisonName = DeliveryRetries.PoisonQueue(queue);
        var poison = queues.GetQueueClient(poisonName);
        if (!await poison.ExistsAsync(cancellationToken))
        {
            return;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var hidden = new List<QueueMessage>();
        try
        {
            while (seen.Count < MaxPerPass)
            {
                var batch = (await poison.ReceiveMessagesAsync(Batch, Visibility, cancellationToken)).Value;
                var fresh = batch.Where(m => seen.Add(m.MessageId)).ToList();
                if (fresh.Count == 0)
                {
                    break; // empty, or only messages this pass already read came back (a long pass outlived the visibility)
                }

                foreach (var message in fresh)
                {
                    if (!await visit(new PoisonVisit(poisonName, message, Describe(queue, message))))
                    {
                        hidden.Add(message);
                    }
                }
            }
        }
        finally
        {
            await ShowAgainAsync(poison, hidden);
        }
    }

    /// <summary>
    /// Moves the messages of <paramref name="queue"/>'s poison queue back onto <paramref name="queue"/>: all of them, or only
    /// the delivery <paramref name="deliveryId"/>. Messages that are not webhook envelopes stay where they are.
    /// </summary>
    public async Task<ReplayReport> ReplayAsync(string queue, string? deliveryId, CancellationToken cancellationToken)
    {
        if (!QueueNames.Contains(queue, StringComparer.Ordinal))
        {
            throw new ArgumentException($"'{queue}' is not one of this app's queues ({string.Join(", ", QueueNames)})", nameof(queue));
        }

        var target = queues.GetQueueClient(queue);
        var replayed = new List<PoisonedMessage>();
        var left = 0;
        await VisitAsync(queue, async visit =>
        {
            if (visit.Poisoned.DeliveryId is null || (deliveryId is not null && !string.Equals(visit.Poisoned.DeliveryId, deliveryId, StringComparison.Ordinal)))
            {
                left++;
                return false;
            }

            var envelope = WebhookEnvelope.Deserialize(visit.Message.Body.ToMemory(), out var payload) with { PoisonReason = null, Attempt = 0 };
            using (var written = envelope.SerializePooled(envelope.PayloadBlob is null ? payload.Span : []))
            {
                await target.SendCreatingQueueAsync(BinaryData.FromBytes(written.WrittenMemory), visibilityTimeout: null, cancellationToken);
            }

            await DeleteAsync(visit);
            LogReplayed(logger, visit.Poisoned.DeliveryId, visit.PoisonQueue, queue);
            replayed.Add(visit.Poisoned);
            return true;
        }, cancellationToken);

        return new ReplayReport(queue, replayed, left);
    }

    private async Task DeleteAsync(PoisonVisit visit)
    {
        try
        {
            // Not cancelled: the copy is queued, and the original must go with it if it can.
            await queues.GetQueueClient(visit.PoisonQueue).DeleteMessageAsync(visit.Message.MessageId, visit.Message.PopReceipt, CancellationToken.None);
        }
        catch (RequestFailedException exception)
        {
            // The copy is queued; the original reappears and would be replayed again, which the handlers make harmless.
            LogNotDeleted(logger, exception, visit.Message.MessageId, visit.PoisonQueue);
        }
    }

    private async Task ShowAgainAsync(QueueClient poison, List<QueueMessage> hidden)
    {
        foreach (var message in hidden)
        {
            try
            {
                await poison.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: TimeSpan.Zero, cancellationToken: CancellationToken.None);
            }
            catch (RequestFailedException exception)
            {
                // It shows again by itself when its visibility ends.
                LogNotShown(logger, exception, message.MessageId, poison.Name);
            }
        }
    }

    private static PoisonedMessage Describe(string queue, QueueMessage message)
    {
        try
        {
            var envelope = DeliveryReader.Envelope(message.Body);
            return new PoisonedMessage(queue, message.MessageId, envelope.DeliveryId, envelope.Event, envelope.Action, envelope.Repository,
                envelope.PoisonReason ?? "moved there by the Functions host after its last attempt failed (see the function's error log)",
                message.InsertedOn, message.DequeueCount);
        }
        catch (Exception exception) when (exception is InvalidDataException or System.Text.Json.JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
        {
            return new PoisonedMessage(queue, message.MessageId, null, null, null, null,
                $"not a webhook envelope ({exception.Message})", message.InsertedOn, message.DequeueCount);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId} replayed from {PoisonQueue} onto {Queue}")]
    private static partial void LogReplayed(ILogger logger, string? deliveryId, string poisonQueue, string queue);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Message {MessageId} was replayed but could not be deleted from {PoisonQueue}; it shows there again and a second replay is harmless")]
    private static partial void LogNotDeleted(ILogger logger, Exception exception, string messageId, string poisonQueue);

    [LoggerMessage(Level = LogLevel.Information, Message = "Message {MessageId} of {PoisonQueue} stays hidden until its visibility ends")]
    private static partial void LogNotShown(ILogger logger, Exception exception, string messageId, string poisonQueue);
}

/// <summary>One message met by a pass over a poison queue.</summary>
public sealed record PoisonVisit(string PoisonQueue, QueueMessage Message, PoisonedMessage Poisoned);
