using Azure;
using Azure.Storage.Queues;

namespace DeployFunctions.Storage;

internal static class QueueSending
{
    /// <summary>
    /// Sends, creating the queue only when storage says it is missing (a fresh Azurite, or queues not provisioned):
    /// no existence check on the way of every message.
    /// </summary>
    public static async Task SendCreatingQueueAsync(
        this QueueClient queue, BinaryData message, TimeSpan? visibilityTimeout, CancellationToken cancellationToken)
    {
        // timeToLive -1: never expire; a delivery waits for its handler however long an outage lasts.
        try
        {
            await queue.SendMessageAsync(message, visibilityTimeout, TimeSpan.FromSeconds(-1), cancellationToken);
        }
        catch (RequestFailedException exception) when (exception.ErrorCode == "QueueNotFound")
        {
            await queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
            await queue.SendMessageAsync(message, visibilityTimeout, TimeSpan.FromSeconds(-1), cancellationToken);
        }
    }
}
