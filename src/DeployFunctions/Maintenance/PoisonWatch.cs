using Azure.Storage.Queues;
using DeployFunctions.Commands;
using DeployFunctions.History;
using DeployFunctions.Storage;
using DeployFunctions.Webhooks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DeployFunctions.Maintenance;

/// <summary>
/// A delivery that lands in any <c>&lt;queue&gt;-poison</c> (the app's moves, with their reason, and the host's after
/// <c>maxDequeueCount</c>) is notified once: each run peeks the poison queues (it takes nothing: poison is for replay)
/// and marks every message it notifies, so two runs at once, or the next run, notify nothing twice.
/// </summary>
public sealed partial class PoisonWatch(
    QueueServiceClient queues,
    IEnvironmentLocks marks,
    INotifier notifier,
    IOptions<StorageNamesOptions> names,
    ILogger<PoisonWatch> logger)
{
    /// <summary>The partition of the marks (no repository name can be it).</summary>
    private const string Partition = "~poison";

    /// <summary>The most messages Azure Storage peeks at once; more wait for the next run once these are replayed.</summary>
    public const int PeekLimit = 32;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var notified = 0;
        foreach (var kind in Enum.GetValues<DeliveryQueueKind>())
        {
            var poisonName = DeliveryRetries.PoisonQueue(names.Value.QueueFor(kind));
            var poison = queues.GetQueueClient(poisonName);
            if (!await poison.ExistsAsync(cancellationToken))
            {
                continue;
            }

            foreach (var message in (await poison.PeekMessagesAsync(PeekLimit, cancellationToken)).Value)
            {
                if (!await marks.TryMarkOnceAsync(Partition, $"{poisonName}:{message.MessageId}", cancellationToken))
                {
                    continue;
                }

                string what;
                try
                {
                    var envelope = DeliveryReader.Envelope(message.Body);
                    what = $"delivery {envelope.DeliveryId} ({envelope.Event}{(envelope.Action is { } action ? $" {action}" : "")}, " +
                           $"{envelope.Repository ?? "no repository"}): {envelope.PoisonReason ?? "moved there by the Functions host after its last attempt failed (see the function's error log)"}";
                }
                catch (Exception exception) when (exception is InvalidDataException or System.Text.Json.JsonException or FormatException or KeyNotFoundException)
                {
                    what = $"a message that is not a webhook envelope ({exception.Message})";
                }

                await notifier.NotifyAsync($"DeployFunctions: {what}. It waits in {poisonName} for a replay.", cancellationToken);
                LogPoisoned(logger, poisonName, message.MessageId, what);
                notified++;
            }
        }

        return notified;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Poison watch: {PoisonQueue} holds message {MessageId}: {What}")]
    private static partial void LogPoisoned(ILogger logger, string poisonQueue, string messageId, string what);
}
