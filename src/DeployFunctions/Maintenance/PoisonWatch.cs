using DeployFunctions.Commands;
using DeployFunctions.History;
using Microsoft.Extensions.Logging;

namespace DeployFunctions.Maintenance;

/// <summary>
/// A delivery that lands in any <c>&lt;queue&gt;-poison</c> (the app's moves, with their reason, and the host's after
/// <c>maxDequeueCount</c>) is notified once: each run reads every poison message (<see cref="PoisonQueues"/>; it takes
/// nothing: poison is for replay) and marks every message it notifies, so two runs at once, or the next run, notify
/// nothing twice.
/// </summary>
public sealed partial class PoisonWatch(
    PoisonQueues poison,
    IEnvironmentLocks marks,
    INotifier notifier,
    ILogger<PoisonWatch> logger)
{
    /// <summary>The partition of the marks (no repository name can be it).</summary>
    private const string Partition = "~poison";

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var notified = 0;
        foreach (var queue in poison.QueueNames)
        {
            await poison.VisitAsync(queue, async visit =>
            {
                if (!await marks.TryMarkOnceAsync(Partition, $"{visit.PoisonQueue}:{visit.Message.MessageId}", cancellationToken))
                {
                    return false;
                }

                var message = visit.Poisoned;
                var what = message.DeliveryId is null
                    ? $"a message that is {message.Reason}"
                    : $"delivery {message.DeliveryId} ({message.Event}{(message.Action is { } action ? $" {action}" : "")}, " +
                      $"{message.Repository ?? "no repository"}): {message.Reason}";
                await notifier.NotifyAsync($"DeployFunctions: {what}. It waits in {visit.PoisonQueue} for a replay.", cancellationToken);
                LogPoisoned(logger, visit.PoisonQueue, visit.Message.MessageId, what);
                notified++;
                return false;
            }, cancellationToken);
        }

        return notified;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Poison watch: {PoisonQueue} holds message {MessageId}: {What}")]
    private static partial void LogPoisoned(ILogger logger, string poisonQueue, string messageId, string what);
}
